//! GTID events: MySQL's GTID / ANONYMOUS_GTID / GTID_TAGGED and PREVIOUS_GTIDS, MariaDB's
//! GTID and GTID_LIST.
//!
//! - [`mysql`]: the MySQL GTID event of a transaction (untagged, anonymous, tagged);
//! - [`previous`]: PREVIOUS_GTIDS, the GTID set executed before a MySQL file;
//! - [`mariadb`]: the MariaDB GTID event of a group, its flags, and GTID_LIST;
//! - [`varlen`]: the variable-length integers of MySQL's serialization library (tagged
//!   GTID events).

pub mod mariadb;
pub mod mysql;
pub mod previous;
pub mod varlen;

pub use mariadb::*;
pub use mysql::{Gtid, GtidKind};
pub use previous::{GtidSetEntry, PreviousGtids};
pub use varlen::{put_varlen_uint, varlen_uint, varlen_uint_size};
