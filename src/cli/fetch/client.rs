//! A minimal client of the MySQL/MariaDB protocol for the replication connection: connect
//! (Unix socket or TCP), TLS, authenticate (mysql_native_password, caching_sha2_password,
//! MariaDB's client_ed25519; mysql_clear_password over TLS or a socket only), text queries,
//! and the packets of a binlog dump, read raw through [`binlog::fetch::wire::Wire`] so that
//! events arrive as the server's bytes (the `mysql` crate's connection does not give its
//! packets out). Scrambles and RSA come from `mysql_common`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use binlog::fetch::wire::{is_eof, is_timeout, ServerError, Wire};

use super::tls::{client_config, server_name, SslMode, TlsOptions};
use crate::cli::connection::{ConnSpec, Endpoint};

/// A byte stream: a socket, or TLS over one.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// How long one blocking read waits before the caller gets to look at its flags.
pub const POLL: Duration = Duration::from_millis(200);
/// How long a reply to a query or a handshake step may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_LONG_FLAG: u32 = 0x4;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x20000;
const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x200000;
/// utf8mb4_general_ci.
const CHARSET: u8 = 45;
const MAX_PACKET: u32 = 1 << 30;

/// Why talking to the server failed.
#[derive(Debug)]
pub enum ClientError {
    /// The connection failed or was lost (worth another try).
    Io(io::Error),
    /// The server said no.
    Server(ServerError),
    /// Something that another try will not fix (TLS setup, an unsupported plugin, a
    /// protocol violation).
    Refused(String),
    /// SIGINT or SIGTERM.
    Interrupted,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(e) => match e.kind() {
                io::ErrorKind::UnexpectedEof => f.write_str("the server closed the connection"),
                _ => write!(f, "{e}"),
            },
            ClientError::Server(e) => write!(f, "{e}"),
            ClientError::Refused(m) => f.write_str(m),
            ClientError::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// Server errors that end with the server going away or being busy: another try may work.
pub fn transient_server_error(code: u16) -> bool {
    matches!(
        code,
        1040 // too many connections
            | 1053 // server shutdown in progress
            | 1077 | 1078 | 1079 | 1080 // normal shutdown / got signal / shutdown complete / forcing close
            | 1152 | 1153 | 1158 | 1159 | 1160 | 1161 // aborted connection, net read/write errors
            | 1205 // lock wait timeout
            | 1927 // connection killed
            | 2006 | 2013 // gone away, lost connection
    )
}

impl ClientError {
    /// Whether another connection attempt may succeed.
    pub fn transient(&self) -> bool {
        match self {
            ClientError::Io(e) => !matches!(
                e.kind(),
                io::ErrorKind::InvalidData
                    | io::ErrorKind::OutOfMemory
                    | io::ErrorKind::InvalidInput
            ),
            ClientError::Server(e) => transient_server_error(e.code),
            ClientError::Refused(_) | ClientError::Interrupted => false,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> ClientError {
        ClientError::Io(e)
    }
}

/// A connection.
pub struct Client {
    wire: Wire<Box<dyn Stream>>,
    /// `@@version` as the handshake gives it.
    pub server_version: String,
    /// Whether the connection is encrypted.
    pub tls: bool,
}

fn refused(m: impl Into<String>) -> ClientError {
    ClientError::Refused(m.into())
}

fn protocol(m: &str) -> ClientError {
    ClientError::Refused(format!("unexpected reply from the server: {m}"))
}

/// A length-encoded integer (`None` for the NULL marker 0xfb).
fn lenenc(p: &[u8], at: &mut usize) -> Result<Option<u64>, ClientError> {
    let first = *p.get(*at).ok_or_else(|| protocol("truncated packet"))?;
    *at += 1;
    let n = match first {
        0xfb => return Ok(None),
        0xfc => 2,
        0xfd => 3,
        0xfe => 8,
        b => return Ok(Some(u64::from(b))),
    };
    let b = p
        .get(*at..*at + n)
        .ok_or_else(|| protocol("truncated packet"))?;
    *at += n;
    let mut v = [0u8; 8];
    v[..n].copy_from_slice(b);
    Ok(Some(u64::from_le_bytes(v)))
}

/// What the initial handshake tells.
struct Handshake {
    version: String,
    caps: u32,
    nonce: Vec<u8>,
    plugin: String,
}

fn parse_handshake(p: &[u8]) -> Result<Handshake, ClientError> {
    if p.first() == Some(&0xff) {
        return Err(ClientError::Server(ServerError::parse(p).unwrap_or(
            ServerError {
                code: 0,
                state: String::new(),
                message: "refused the connection".into(),
            },
        )));
    }
    if p.first() != Some(&10) {
        return Err(refused(format!(
            "unsupported protocol version {} (not a MySQL or MariaDB server?)",
            p.first().copied().unwrap_or(0)
        )));
    }
    let short = || protocol("short handshake");
    let nul = p[1..].iter().position(|&b| b == 0).ok_or_else(short)? + 1;
    let version = String::from_utf8_lossy(&p[1..nul]).into_owned();
    let mut at = nul + 1 + 4; // thread id
    let mut nonce = p.get(at..at + 8).ok_or_else(short)?.to_vec();
    at += 8 + 1;
    let lo = u16::from_le_bytes(
        p.get(at..at + 2)
            .ok_or_else(short)?
            .try_into()
            .unwrap_or([0; 2]),
    );
    at += 2;
    let mut caps = u32::from(lo);
    let mut plugin = String::new();
    if p.len() > at {
        at += 1 + 2; // charset, status
        let hi = u16::from_le_bytes(
            p.get(at..at + 2)
                .ok_or_else(short)?
                .try_into()
                .unwrap_or([0; 2]),
        );
        caps |= u32::from(hi) << 16;
        at += 2;
        let data_len = usize::from(*p.get(at).ok_or_else(short)?);
        at += 1 + 10;
        if caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = data_len.saturating_sub(8).max(13);
            let part = p.get(at..(at + n).min(p.len())).ok_or_else(short)?;
            nonce.extend_from_slice(part);
            at += part.len();
        }
        if caps & CLIENT_PLUGIN_AUTH != 0 {
            let rest = p.get(at..).unwrap_or(&[]);
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
        }
    }
    // The scramble is 20 bytes; the handshake NUL-terminates it.
    nonce.truncate(20);
    Ok(Handshake {
        version,
        caps,
        nonce,
        plugin,
    })
}

/// The first auth response of `plugin` for `password`, or `None` for plugins not known.
fn auth_response(
    plugin: &str,
    password: &str,
    nonce: &[u8],
    secure: bool,
) -> Result<Vec<u8>, ClientError> {
    let pass = password.as_bytes();
    Ok(match plugin {
        "mysql_native_password" | "" => mysql_common::scramble::scramble_native(nonce, pass)
            .map(|s| s.to_vec())
            .unwrap_or_default(),
        "caching_sha2_password" => mysql_common::scramble::scramble_sha256(nonce, pass)
            .map(|s| s.to_vec())
            .unwrap_or_default(),
        "client_ed25519" => mysql_common::scramble::create_response_for_ed25519(pass, nonce).to_vec(),
        "mysql_clear_password" if secure => {
            let mut v = pass.to_vec();
            v.push(0);
            v
        }
        "mysql_clear_password" => {
            return Err(refused(
                "the server asks for the password in clear text (mysql_clear_password); that is only sent over TLS or a Unix socket",
            ))
        }
        other => return Err(refused(format!("authentication plugin {other} is not supported"))),
    })
}

impl Client {
    /// Connects, encrypts as `tls` asks, and authenticates. `stop` interrupts waiting.
    pub fn connect(
        spec: &ConnSpec,
        tls: &TlsOptions,
        stop: &AtomicBool,
    ) -> Result<Client, ClientError> {
        let (stream, socket, host): (Box<dyn Stream>, bool, String) = match spec.endpoint() {
            Endpoint::Socket(path) => {
                let s = UnixStream::connect(&path)?;
                s.set_read_timeout(Some(POLL))?;
                s.set_write_timeout(Some(REPLY_TIMEOUT))?;
                (Box::new(s), true, String::new())
            }
            Endpoint::Tcp(host, port) => {
                let mut last =
                    io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
                let mut found = None;
                for addr in (host.as_str(), port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, Duration::from_secs(20)) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                let s = found.ok_or(last)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(POLL))?;
                s.set_write_timeout(Some(REPLY_TIMEOUT))?;
                (Box::new(s), false, host)
            }
        };
        let mut client = Client {
            wire: Wire::new(stream),
            server_version: String::new(),
            tls: false,
        };
        let hs = parse_handshake(client.read_reply(stop)?)?;
        client.server_version = hs.version.clone();
        if hs.caps & CLIENT_PROTOCOL_41 == 0 {
            return Err(refused("the server is older than protocol 4.1"));
        }
        let want_tls = !socket
            && match tls.mode {
                SslMode::Disabled => false,
                SslMode::Preferred => hs.caps & CLIENT_SSL != 0,
                _ => true,
            };
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_LONG_FLAG
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
        caps &= hs.caps;
        if want_tls {
            if hs.caps & CLIENT_SSL == 0 {
                return Err(refused(format!(
                    "the server does not offer TLS (--ssl-mode {})",
                    tls.mode.name()
                )));
            }
            caps |= CLIENT_SSL;
            let mut req = Vec::with_capacity(32);
            req.extend_from_slice(&caps.to_le_bytes());
            req.extend_from_slice(&MAX_PACKET.to_le_bytes());
            req.push(CHARSET);
            req.extend_from_slice(&[0u8; 23]);
            client.wire.write_packet(&req)?;
            let config = client_config(tls).map_err(ClientError::Refused)?;
            let name = server_name(&host).map_err(ClientError::Refused)?;
            let conn = rustls::ClientConnection::new(config, name)
                .map_err(|e| refused(format!("TLS: {e}")))?;
            let wire = std::mem::replace(&mut client.wire, Wire::new(Box::new(Inert)));
            client.wire = wire
                .replace_stream(|s| {
                    let mut tls = rustls::StreamOwned::new(conn, s);
                    // Finish the handshake now, so that a refused certificate is reported as such.
                    let deadline = Instant::now() + REPLY_TIMEOUT;
                    while tls.conn.is_handshaking() {
                        match tls.conn.complete_io(&mut tls.sock) {
                            Ok(_) => {}
                            Err(e) if is_timeout(&e) && Instant::now() < deadline => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(Box::new(tls) as Box<dyn Stream>)
                })
                .map_err(|e| match e.kind() {
                    io::ErrorKind::InvalidData => refused(format!("TLS handshake failed: {e}")),
                    _ => ClientError::Io(e),
                })?;
            client.tls = true;
        }
        let secure = client.tls || socket;
        let user = spec.user_name();
        let password = spec
            .password
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default();
        let mut plugin = match hs.plugin.as_str() {
            "caching_sha2_password" | "mysql_native_password" => hs.plugin.clone(),
            _ => "mysql_native_password".to_string(),
        };
        let mut nonce = hs.nonce.clone();
        let data = auth_response(&plugin, &password, &nonce, secure)?;
        let mut resp = Vec::with_capacity(64 + user.len());
        resp.extend_from_slice(&caps.to_le_bytes());
        resp.extend_from_slice(&MAX_PACKET.to_le_bytes());
        resp.push(CHARSET);
        resp.extend_from_slice(&[0u8; 23]);
        resp.extend_from_slice(user.as_bytes());
        resp.push(0);
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            binlog::bytes::put_packed(&mut resp, data.len() as u64);
        } else {
            resp.push(data.len() as u8);
        }
        resp.extend_from_slice(&data);
        if caps & CLIENT_PLUGIN_AUTH != 0 {
            resp.extend_from_slice(plugin.as_bytes());
            resp.push(0);
        }
        client.wire.write_packet(&resp)?;
        let mut switched = false;
        loop {
            let p = client.read_reply(stop)?.to_vec();
            match p.first() {
                Some(0x00) => break,
                Some(0xff) => {
                    return Err(ClientError::Server(ServerError::parse(&p).unwrap_or(
                        ServerError {
                            code: 0,
                            state: String::new(),
                            message: "authentication failed".into(),
                        },
                    )))
                }
                Some(0xfe) if !switched => {
                    switched = true;
                    let rest = &p[1..];
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
                    nonce = rest.get(end + 1..).unwrap_or(&[]).to_vec();
                    if plugin != "client_ed25519" && nonce.last() == Some(&0) {
                        nonce.pop();
                    }
                    let data = auth_response(&plugin, &password, &nonce, secure)?;
                    client.wire.write_packet(&data)?;
                }
                Some(0x01) if plugin == "caching_sha2_password" => match p.get(1) {
                    Some(0x03) => {} // fast path: the OK follows
                    Some(0x04) => {
                        let mut pass = password.as_bytes().to_vec();
                        pass.push(0);
                        if secure {
                            client.wire.write_packet(&pass)?;
                        } else {
                            client.wire.write_packet(&[0x02])?;
                            let key = client.read_reply(stop)?.get(1..).unwrap_or(&[]).to_vec();
                            for (i, b) in pass.iter_mut().enumerate() {
                                *b ^= nonce[i % nonce.len().max(1)];
                            }
                            let enc = mysql_common::crypto::encrypt(&pass, &key);
                            client.wire.write_packet(&enc)?;
                        }
                    }
                    _ => return Err(protocol("caching_sha2_password")),
                },
                _ => return Err(protocol("during authentication")),
            }
        }
        Ok(client)
    }

    /// Reads one reply, waiting at most [`REPLY_TIMEOUT`].
    fn read_reply(&mut self, stop: &AtomicBool) -> Result<&[u8], ClientError> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            match self.wire.read_packet() {
                Ok(_) => break,
                Err(e) if is_timeout(&e) => {
                    if stop.load(Ordering::Relaxed) {
                        return Err(ClientError::Interrupted);
                    }
                    if Instant::now() > deadline {
                        return Err(ClientError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no reply from the server",
                        )));
                    }
                }
                Err(e) => return Err(ClientError::Io(e)),
            }
        }
        Ok(self.wire.last_packet())
    }

    /// Sends a command (a new sequence).
    pub fn send(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        self.wire.reset_sequence();
        Ok(self.wire.write_packet(payload)?)
    }

    /// Sends a command that answers OK or ERR.
    pub fn command(&mut self, payload: &[u8], stop: &AtomicBool) -> Result<(), ClientError> {
        self.send(payload)?;
        let p = self.read_reply(stop)?;
        match p.first() {
            Some(0x00) | Some(0xfe) => Ok(()),
            Some(0xff) => Err(ClientError::Server(ServerError::parse(p).unwrap_or(
                ServerError {
                    code: 0,
                    state: String::new(),
                    message: "error".into(),
                },
            ))),
            _ => Err(protocol("expected OK")),
        }
    }

    /// Runs a statement, discarding any result.
    pub fn exec(&mut self, sql: &str, stop: &AtomicBool) -> Result<(), ClientError> {
        self.query(sql, stop).map(drop)
    }

    /// Runs a query; the rows as text (`None` for NULL).
    pub fn query(
        &mut self,
        sql: &str,
        stop: &AtomicBool,
    ) -> Result<Vec<Vec<Option<String>>>, ClientError> {
        let mut cmd = Vec::with_capacity(sql.len() + 1);
        cmd.push(0x03);
        cmd.extend_from_slice(sql.as_bytes());
        self.send(&cmd)?;
        let p = self.read_reply(stop)?;
        match p.first() {
            Some(0x00) => return Ok(Vec::new()),
            Some(0xff) => {
                return Err(ClientError::Server(ServerError::parse(p).unwrap_or(
                    ServerError {
                        code: 0,
                        state: String::new(),
                        message: "error".into(),
                    },
                )))
            }
            _ => {}
        }
        let mut at = 0;
        let columns = lenenc(p, &mut at)?.unwrap_or(0) as usize;
        for _ in 0..columns {
            self.read_reply(stop)?;
        }
        if !is_eof(self.read_reply(stop)?) {
            return Err(protocol("expected the end of the column list"));
        }
        let mut rows = Vec::new();
        loop {
            let p = self.read_reply(stop)?;
            if is_eof(p) {
                return Ok(rows);
            }
            if p.first() == Some(&0xff) {
                return Err(ClientError::Server(ServerError::parse(p).unwrap_or(
                    ServerError {
                        code: 0,
                        state: String::new(),
                        message: "error".into(),
                    },
                )));
            }
            let mut row = Vec::with_capacity(columns);
            let mut at = 0;
            for _ in 0..columns {
                match lenenc(p, &mut at)? {
                    None => row.push(None),
                    Some(n) => {
                        let n = n as usize;
                        let b = p.get(at..at + n).ok_or_else(|| protocol("truncated row"))?;
                        at += n;
                        row.push(Some(String::from_utf8_lossy(b).into_owned()));
                    }
                }
            }
            rows.push(row);
        }
    }

    /// Reads the next packet of a dump. A read timeout ([`POLL`]) comes back as an error
    /// for which `is_timeout` holds; the next call goes on with the same packet.
    pub fn read_dump_packet(&mut self) -> io::Result<&[u8]> {
        self.wire.read_packet()
    }

    /// Bytes received and not yet handed out.
    pub fn buffered(&self) -> usize {
        self.wire.buffered()
    }
}

/// An inert stream, held for a moment while the real one is wrapped in TLS.
struct Inert;

impl Read for Inert {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

impl Write for Inert {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MariaDB 10.11 handshake, as the server sends it.
    #[test]
    fn handshake_is_parsed() {
        let mut p = vec![10];
        p.extend_from_slice(b"5.5.5-10.11.19-MariaDB-0+deb12u1-log\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(b"abcdefgh\0");
        p.extend_from_slice(&0xf7feu16.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&0x81bfu16.to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0u8; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0");
        p.extend_from_slice(b"mysql_native_password\0");
        let h = parse_handshake(&p).unwrap();
        assert_eq!(h.version, "5.5.5-10.11.19-MariaDB-0+deb12u1-log");
        assert_eq!(h.nonce, b"abcdefghijklmnopqrst");
        assert_eq!(h.plugin, "mysql_native_password");
        assert!(h.caps & CLIENT_PLUGIN_AUTH != 0 && h.caps & CLIENT_PROTOCOL_41 != 0);
    }

    #[test]
    fn lenenc_values() {
        let p = [0xfa, 0xfb, 0xfc, 0x01, 0x02, 0xfe, 1, 0, 0, 0, 0, 0, 0, 0];
        let mut at = 0;
        assert_eq!(lenenc(&p, &mut at).unwrap(), Some(250));
        assert_eq!(lenenc(&p, &mut at).unwrap(), None);
        assert_eq!(lenenc(&p, &mut at).unwrap(), Some(0x0201));
        assert_eq!(lenenc(&p, &mut at).unwrap(), Some(1));
        assert!(lenenc(&p, &mut at).is_err());
    }
}
