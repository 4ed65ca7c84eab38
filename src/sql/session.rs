//! The session settings SQL output runs under: those that make its row statements mean
//! the binlog's values, and, around each statement a QUERY event logged, the settings that
//! statement ran with on its server.
//!
//! Row statements run as the server applies row events: `sql_mode` is
//! `NO_AUTO_VALUE_ON_ZERO` (a 0 in an AUTO_INCREMENT column is stored, not replaced),
//! without strictness or zero-date checks (a replica stores the logged bytes whatever its
//! own sql_mode; strict mode would also refuse the values of generated columns, which row
//! images hold), plus `ALLOW_INVALID_DATES` so that a logged `2020-02-30` is stored, not
//! zeroed; `time_zone` `+00:00` (TIMESTAMP literals are UTC); `utf8mb4` (literals are UTF-8);
//! `foreign_key_checks` and `unique_checks` as each rows event's flags say.
//!
//! A logged statement gets what its QUERY event recorded (as mysqlbinlog prints it): its
//! time, `sql_mode`, `time_zone`, character sets, `lc_time_names`, `auto_increment_*` and
//! the option bits; the row statements' settings come back at the end of its transaction.
//! Every transaction therefore starts in the same session, whatever came before it.

use std::fmt::Write;

use crate::error::{Error, Result};
use crate::event::query::{Query, StatusVar};
use crate::event::rows::{NO_FOREIGN_KEY_CHECKS_F, RELAXED_UNIQUE_CHECKS_F};
use crate::sql::charset::charset_name;

macro_rules! rows_sql_mode {
    () => {
        "NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES"
    };
}

/// The `sql_mode` of row statements.
pub const ROWS_SQL_MODE: &str = rows_sql_mode!();

/// What SQL output starts with: the row statements' session (`completion_type = 0`: a
/// COMMIT neither chains nor disconnects).
pub const ROWS_SESSION: &str = concat!(
    "SET NAMES utf8mb4;\n",
    "SET time_zone = '+00:00';\n",
    "SET sql_mode = '",
    rows_sql_mode!(),
    "';\n",
    "SET foreign_key_checks = 1, unique_checks = 1, completion_type = 0;\n",
);

/// `OPTION_AUTO_IS_NULL` in a QUERY's flags2.
const OPTION_AUTO_IS_NULL: u32 = 1 << 14;
/// `OPTION_NO_FOREIGN_KEY_CHECKS`.
const OPTION_NO_FOREIGN_KEY_CHECKS: u32 = 1 << 26;
/// `OPTION_RELAXED_UNIQUE_CHECKS`.
const OPTION_RELAXED_UNIQUE_CHECKS: u32 = 1 << 27;
/// MariaDB's flags2 also carry: check_constraint_checks off,
const MARIADB_NO_CHECK_CONSTRAINT_CHECKS: u32 = 1 << 15;
/// explicit_defaults_for_timestamp on (MySQL logs it as a status variable),
const MARIADB_EXPLICIT_DEFAULTS_FOR_TIMESTAMP: u32 = 1 << 24;
/// and sql_if_exists on.
const MARIADB_IF_EXISTS: u32 = 1 << 28;

/// The settings in force, within one transaction of the output.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// foreign_key_checks is off.
    fk_off: bool,
    /// unique_checks is off.
    unique_off: bool,
    /// A logged statement's settings replace the row statements'.
    statement: bool,
    /// MariaDB's check_constraint_checks is off, and its sql_if_exists on (each set only
    /// when a statement had it so: older servers lack the variables).
    no_constraint_checks: bool,
    if_exists: bool,
}

impl Session {
    /// The session at the start of every transaction.
    pub fn new() -> Session {
        Session::default()
    }

    /// Before the statements of a rows event with these flags: the row statements'
    /// settings, with foreign_key_checks and unique_checks as the event says.
    pub fn rows(&mut self, flags: u16, out: &mut String) {
        if self.statement {
            self.restore(out);
        }
        let fk_off = flags & NO_FOREIGN_KEY_CHECKS_F != 0;
        let unique_off = flags & RELAXED_UNIQUE_CHECKS_F != 0;
        self.checks(fk_off, unique_off, out);
    }

    fn checks(&mut self, fk_off: bool, unique_off: bool, out: &mut String) {
        if (fk_off, unique_off) == (self.fk_off, self.unique_off) {
            return;
        }
        let on = |off: bool| if off { 0 } else { 1 };
        let _ = writeln!(
            out,
            "SET foreign_key_checks = {}, unique_checks = {};",
            on(fk_off),
            on(unique_off)
        );
        (self.fk_off, self.unique_off) = (fk_off, unique_off);
    }

    /// Before a logged statement: the settings its QUERY event recorded (of a MariaDB
    /// server when `mariadb`), started at `timestamp` (the event's). Refuses a statement whose text cannot be written as it
    /// was sent: not UTF-8, or not ASCII in a client character set other than UTF-8 (the
    /// output is UTF-8 text; converting it would change the bytes of `_binary` or
    /// `_latin1` literals inside it).
    pub fn statement(
        &mut self,
        q: &Query,
        text: &[u8],
        mariadb: bool,
        timestamp: u32,
        at: u64,
        out: &mut String,
    ) -> Result<()> {
        let mut micros = None;
        let mut set = String::new();
        let mut client_utf8 = true;
        for var in q.status_vars() {
            match var? {
                StatusVar::Flags2(f) => {
                    let bit = |b: u32| u8::from(f & b != 0);
                    let _ = write!(set, ", sql_auto_is_null = {}", bit(OPTION_AUTO_IS_NULL));
                    if mariadb {
                        let _ = write!(
                            set,
                            ", explicit_defaults_for_timestamp = {}",
                            bit(MARIADB_EXPLICIT_DEFAULTS_FOR_TIMESTAMP)
                        );
                        let no_checks = f & MARIADB_NO_CHECK_CONSTRAINT_CHECKS != 0;
                        if no_checks != self.no_constraint_checks {
                            let _ =
                                write!(set, ", check_constraint_checks = {}", u8::from(!no_checks));
                            self.no_constraint_checks = no_checks;
                        }
                        let if_exists = f & MARIADB_IF_EXISTS != 0;
                        if if_exists != self.if_exists {
                            let _ = write!(set, ", sql_if_exists = {}", u8::from(if_exists));
                            self.if_exists = if_exists;
                        }
                    }
                    self.checks(
                        f & OPTION_NO_FOREIGN_KEY_CHECKS != 0,
                        f & OPTION_RELAXED_UNIQUE_CHECKS != 0,
                        out,
                    );
                }
                StatusVar::SqlMode(m) => {
                    let _ = write!(set, ", sql_mode = {m}");
                }
                StatusVar::AutoIncrement { increment, offset } => {
                    let _ = write!(
                        set,
                        ", auto_increment_increment = {increment}, auto_increment_offset = {offset}"
                    );
                }
                StatusVar::Charset {
                    client,
                    connection,
                    server,
                } => {
                    let name = charset_name(client).ok_or_else(|| {
                        Error::unsupported(at, format!("unknown client character set {client}"))
                    })?;
                    client_utf8 = matches!(name, "utf8mb4" | "utf8mb3");
                    let _ = write!(
                        set,
                        ", character_set_client = {name}, collation_connection = {connection}, \
                         collation_server = {server}"
                    );
                }
                StatusVar::TimeZone(tz) => {
                    let tz = std::str::from_utf8(tz)
                        .ok()
                        .filter(|t| !t.contains(['\'', '\\']))
                        .ok_or_else(|| {
                            Error::unsupported(at, "time zone name is not plain text")
                        })?;
                    let _ = write!(set, ", time_zone = '{tz}'");
                }
                StatusVar::ExplicitDefaultsForTimestamp(v) => {
                    let _ = write!(
                        set,
                        ", explicit_defaults_for_timestamp = {}",
                        u8::from(v != 0)
                    );
                }
                StatusVar::LcTimeNames(n) => {
                    let _ = write!(set, ", lc_time_names = {n}");
                }
                StatusVar::Microseconds(us) | StatusVar::HrNow(us) => micros = Some(us),
                _ => {}
            }
        }
        let plain = std::str::from_utf8(text)
            .ok()
            .filter(|t| client_utf8 || t.is_ascii());
        if plain.is_none() {
            return Err(Error::unsupported(
                at,
                "the statement's text is not UTF-8 (its client character set is another): SQL \
                 output cannot carry its bytes exactly; replay this binlog with mysqlbinlog",
            ));
        }
        out.push_str("SET timestamp = ");
        out.push_str(itoa::Buffer::new().format(timestamp));
        if let Some(us) = micros {
            let _ = write!(out, ".{us:06}");
        }
        out.push_str(&set);
        out.push_str(";\n");
        self.statement = true;
        Ok(())
    }

    /// At the end of a transaction: the session every transaction starts in.
    pub fn end(&mut self, out: &mut String) {
        if self.statement {
            self.restore(out);
        }
        self.checks(false, false, out);
    }

    fn restore(&mut self, out: &mut String) {
        let _ = write!(
            out,
            "SET timestamp = DEFAULT, sql_mode = '{ROWS_SQL_MODE}', time_zone = '+00:00', \
             sql_auto_is_null = 0"
        );
        if std::mem::take(&mut self.no_constraint_checks) {
            out.push_str(", check_constraint_checks = 1");
        }
        if std::mem::take(&mut self.if_exists) {
            out.push_str(", sql_if_exists = 0");
        }
        out.push_str("; SET NAMES utf8mb4;\n");
        self.statement = false;
    }
}
