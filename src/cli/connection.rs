//! Connecting to a server: the connection flags the commands that read from one share
//! ([`ConnectionArgs`]), where and as whom (flags over a my.cnf `[client]` section,
//! `MYSQL_PWD` for the password last), and one-line messages for the errors of the `mysql`
//! crate. The password is never printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder, Row, Value};

use crate::cli::output::Failure;

/// A password, kept out of `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// How to reach a server: flattened into every command that reads from one.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    #[command(flatten)]
    pub flags: ConnSpec,
    /// A my.cnf file whose [client] section gives user, password, host, port, socket
    /// (default ~/.my.cnf when it exists); the flags above override it.
    #[arg(long, value_name = "FILE")]
    pub mycnf: Option<PathBuf>,
}

impl ConnectionArgs {
    /// Where to connect and as whom: the flags, then the my.cnf file, then `MYSQL_PWD`.
    pub fn resolve(&self) -> Result<ConnSpec, Failure> {
        resolve(self.flags.clone(), self.mycnf.as_deref())
    }
}

/// Where to connect and as whom: the flags, a my.cnf file's settings, or both merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ConnSpec {
    /// Server host (TCP). Without --host and --port (or with host localhost and no port)
    /// the Unix socket is used.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Server TCP port (default 3306).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Unix socket path.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<String>,
    /// User name (default: the login name).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Password (else from the my.cnf file, else MYSQL_PWD).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<Secret>,
}

/// Sockets a local server is commonly found at, tried in order when neither a socket nor
/// a TCP address is given.
const DEFAULT_SOCKETS: &[&str] = &[
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/tmp/mysql.sock",
];

/// Reads the `[client]` section of a my.cnf file: user, password, host, port, socket.
pub fn read_mycnf(path: &Path) -> Result<ConnSpec, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("{}: cannot read: {e}", path.display())))?;
    parse_mycnf(&text).map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    // An unquoted value ends at a comment.
    let end = v.find(" #").unwrap_or(v.len());
    v[..end].trim().to_string()
}

/// The `[client]` settings of my.cnf text.
pub fn parse_mycnf(text: &str) -> Result<ConnSpec, String> {
    let mut spec = ConnSpec::default();
    let mut in_client = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with(';')
            || line.starts_with('!')
        {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let name = section.trim_end_matches(']').trim().to_ascii_lowercase();
            in_client = name == "client";
            continue;
        }
        if !in_client {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(unquote(v))),
            None => (line, None),
        };
        let key = key.to_ascii_lowercase().replace('-', "_");
        match (key.as_str(), value) {
            ("user", Some(v)) => spec.user = Some(v),
            ("password", Some(v)) => spec.password = Some(Secret(v)),
            ("host", Some(v)) => spec.host = Some(v),
            ("socket", Some(v)) => spec.socket = Some(v),
            ("port", Some(v)) => {
                spec.port = Some(
                    v.parse()
                        .map_err(|_| format!("line {}: port {v:?} is not a number", n + 1))?,
                )
            }
            _ => {}
        }
    }
    Ok(spec)
}

impl ConnSpec {
    /// `self` with what it leaves unset taken from `other`.
    pub fn or(self, other: ConnSpec) -> ConnSpec {
        ConnSpec {
            host: self.host.or(other.host),
            port: self.port.or(other.port),
            socket: self.socket.or(other.socket),
            user: self.user.or(other.user),
            password: self.password.or(other.password),
        }
    }

    /// Where this connects, for messages: `socket /path` or `host:port`.
    pub fn target(&self) -> String {
        match self.endpoint() {
            Endpoint::Socket(s) => format!("socket {s}"),
            Endpoint::Tcp(h, p) => format!("{h}:{p}"),
        }
    }

    /// Where to connect: a Unix socket, or a TCP host and port.
    pub fn endpoint(&self) -> Endpoint {
        if let Some(s) = &self.socket {
            return Endpoint::Socket(s.clone());
        }
        let local = self.host.as_deref().is_none_or(|h| h == "localhost");
        if local && self.port.is_none() {
            let found = DEFAULT_SOCKETS
                .iter()
                .find(|p| Path::new(p).exists())
                .unwrap_or(&DEFAULT_SOCKETS[0]);
            return Endpoint::Socket(found.to_string());
        }
        let host = match self.host.as_deref() {
            None | Some("localhost") => "127.0.0.1".to_string(),
            Some(h) => h.to_string(),
        };
        Endpoint::Tcp(host, self.port.unwrap_or(3306))
    }

    /// The user name: the given one or the login name, as the mysql client does.
    pub fn user_name(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "root".to_string())
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<Conn, Failure> {
        let mut b = OptsBuilder::new()
            .user(Some(self.user_name()))
            .pass(self.password.as_ref().map(|p| p.0.clone()))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(Duration::from_secs(20)))
            .stmt_cache_size(Some(0));
        match self.endpoint() {
            Endpoint::Socket(s) => b = b.socket(Some(s)),
            Endpoint::Tcp(h, p) => b = b.ip_or_hostname(Some(h)).tcp_port(p),
        }
        Conn::new(b).map_err(|e| {
            Failure::Message(format!(
                "cannot connect to {} as {}: {}",
                self.target(),
                self.user_name(),
                describe(&e)
            ))
        })
    }
}

/// A server's address.
pub enum Endpoint {
    /// A Unix socket path.
    Socket(String),
    /// A TCP host and port.
    Tcp(String, u16),
}

/// The connection settings: flags, then the my.cnf file (`--mycnf`, or `~/.my.cnf` when it
/// exists), then `MYSQL_PWD` for the password.
pub fn resolve(flags: ConnSpec, mycnf: Option<&Path>) -> Result<ConnSpec, Failure> {
    let file = match mycnf {
        Some(p) => read_mycnf(p)?,
        None => match std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".my.cnf")) {
            Some(p) if p.is_file() => read_mycnf(&p)?,
            _ => ConnSpec::default(),
        },
    };
    let env = ConnSpec {
        password: std::env::var("MYSQL_PWD").ok().map(Secret),
        ..ConnSpec::default()
    };
    Ok(flags.or(file).or(env))
}

/// One line for an error of the `mysql` crate.
pub fn describe(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("{} (error {})", m.message, m.code),
        mysql::Error::IoError(io) => match io.kind() {
            std::io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
            _ => io.to_string(),
        },
        mysql::Error::DriverError(d) => d.to_string(),
        mysql::Error::CodecError(c) => c.to_string(),
        mysql::Error::UrlError(u) => u.to_string(),
        mysql::Error::FromValueError(_) | mysql::Error::FromRowError(_) => {
            "unexpected value type in a result".to_string()
        }
    }
}

/// The server error code of `e`, if it is one.
pub fn error_code(e: &mysql::Error) -> Option<u16> {
    match e {
        mysql::Error::MySqlError(m) => Some(m.code),
        _ => None,
    }
}

/// Every row of a query, untyped (typed conversions of the `mysql` crate panic on a value
/// of an unexpected type).
pub fn rows(conn: &mut Conn, sql: &str) -> Result<Vec<Row>, mysql::Error> {
    conn.query::<Row, _>(sql)
}

/// The first row of a query.
pub fn first(conn: &mut Conn, sql: &str) -> Result<Option<Row>, mysql::Error> {
    conn.query_first::<Row, _>(sql)
}

/// A cell as text; `None` for NULL (or a missing column).
pub fn cell(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(v) => Some(v.to_string()),
        Value::UInt(v) => Some(v.to_string()),
        Value::Float(v) => Some(v.to_string()),
        Value::Double(v) => Some(v.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// A cell as text, `""` for NULL.
pub fn text(row: &Row, i: usize) -> String {
    cell(row, i).unwrap_or_default()
}

/// A cell as a number.
pub fn number(row: &Row, i: usize) -> Option<u64> {
    match row.as_ref(i)? {
        Value::Int(v) => u64::try_from(*v).ok(),
        Value::UInt(v) => Some(*v),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// Runs `sql`, mapping a failure to `what: <error>`.
pub fn exec(conn: &mut Conn, sql: &str, what: &str) -> Result<(), Failure> {
    conn.query_drop(sql)
        .map_err(|e| Failure::Message(format!("{what}: {}", describe(&e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mycnf_client_section() {
        let spec = parse_mycnf(
            "[mysqld]\nuser=mysql\n[client]\nuser = snap\npassword=\"p#w d\"\nport=3307 # here\nsocket=/tmp/x.sock\n[mysql]\nuser=other\n",
        )
        .unwrap();
        assert_eq!(spec.user.as_deref(), Some("snap"));
        assert_eq!(spec.password, Some(Secret("p#w d".into())));
        assert_eq!(spec.port, Some(3307));
        assert_eq!(spec.socket.as_deref(), Some("/tmp/x.sock"));
        assert!(parse_mycnf("[client]\nport=x").is_err());
        assert_eq!(format!("{:?}", spec.password), "Some(\"***\")");
    }

    #[test]
    fn flags_override_the_file() {
        let flags = ConnSpec {
            user: Some("a".into()),
            ..Default::default()
        };
        let file = ConnSpec {
            user: Some("b".into()),
            host: Some("h".into()),
            ..Default::default()
        };
        let s = flags.or(file);
        assert_eq!(s.user.as_deref(), Some("a"));
        assert_eq!(s.target(), "h:3306");
    }
}
