//! A minimal client of the MySQL/MariaDB protocol for the replication connection: connect
//! (Unix socket or TCP), TLS, authenticate (the exchange is in `auth.rs`), text queries,
//! and the packets of a binlog dump, read raw through [`binlog::fetch::wire::Wire`] so that
//! events arrive as the server's bytes (the `mysql` crate's connection does not give its
//! packets out). Reads give up at a stop flag (a signal) within one read, even in the
//! middle of a large event.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog::fetch::wire::{is_eof, is_timeout, ServerError, Wire};

use super::auth::{
    handshake_response, parse_handshake, protocol, server_error, ssl_request, Auth, AuthStep,
    CLIENT_CAPABILITIES, CLIENT_PROTOCOL_41, CLIENT_SSL,
};
use super::tls::{client_config, server_name, SslMode, TlsOptions};
use crate::cli::connection::{ConnSpec, Endpoint};

/// A byte stream: a socket, or TLS over one.
pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// How long one blocking read waits before the caller gets to look at its flags.
pub const POLL: Duration = Duration::from_millis(200);
/// How long a reply to a query or a handshake step may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// The most columns a result may have (the servers' own limit).
const MAX_COLUMNS: u64 = 4096;

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

/// A socket whose reads give up, as a read timeout does, once `stop` is set: a signal is
/// seen within one read even while a large event streams in.
struct Stoppable<S> {
    inner: S,
    stop: Arc<AtomicBool>,
}

impl<S: Read> Read for Stoppable<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "stopping"));
        }
        self.inner.read(buf)
    }
}

impl<S: Write> Write for Stoppable<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
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

/// One row of a text result set: `columns` values, each NULL or text.
fn parse_row(p: &[u8], columns: usize) -> Result<Vec<Option<String>>, ClientError> {
    let mut row = Vec::with_capacity(columns);
    let mut at = 0;
    for _ in 0..columns {
        match lenenc(p, &mut at)? {
            None => row.push(None),
            Some(n) => {
                let end = usize::try_from(n)
                    .ok()
                    .and_then(|n| at.checked_add(n))
                    .filter(|&end| end <= p.len())
                    .ok_or_else(|| protocol("truncated row"))?;
                row.push(Some(String::from_utf8_lossy(&p[at..end]).into_owned()));
                at = end;
            }
        }
    }
    Ok(row)
}

/// Connects to `endpoint`; whether it is a Unix socket, and the host name for TLS.
fn open_stream(endpoint: Endpoint) -> io::Result<(Box<dyn Stream>, bool, String)> {
    match endpoint {
        Endpoint::Socket(path) => {
            let s = UnixStream::connect(&path)?;
            s.set_read_timeout(Some(POLL))?;
            s.set_write_timeout(Some(REPLY_TIMEOUT))?;
            Ok((Box::new(s), true, String::new()))
        }
        Endpoint::Tcp(host, port) => {
            let mut last =
                io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
            for addr in (host.as_str(), port).to_socket_addrs()? {
                match TcpStream::connect_timeout(&addr, Duration::from_secs(20)) {
                    Ok(s) => {
                        s.set_nodelay(true)?;
                        s.set_read_timeout(Some(POLL))?;
                        s.set_write_timeout(Some(REPLY_TIMEOUT))?;
                        return Ok((Box::new(s), false, host));
                    }
                    Err(e) => last = e,
                }
            }
            Err(last)
        }
    }
}

/// A connection.
pub struct Client {
    wire: Wire<Box<dyn Stream>>,
    stop: Arc<AtomicBool>,
}

impl Client {
    /// Connects, encrypts as `tls` asks, and authenticates. `stop` interrupts waiting.
    pub fn connect(
        spec: &ConnSpec,
        tls: &TlsOptions,
        stop: &Arc<AtomicBool>,
    ) -> Result<Client, ClientError> {
        let (stream, socket, host) = open_stream(spec.endpoint())?;
        let stream: Box<dyn Stream> = Box::new(Stoppable {
            inner: stream,
            stop: Arc::clone(stop),
        });
        let mut client = Client {
            wire: Wire::new(stream),
            stop: Arc::clone(stop),
        };
        let hs = parse_handshake(client.read_reply()?)?;
        if hs.caps & CLIENT_PROTOCOL_41 == 0 {
            return Err(ClientError::Refused(
                "the server is older than protocol 4.1".into(),
            ));
        }
        let want_tls = !socket
            && match tls.mode {
                SslMode::Disabled => false,
                SslMode::Preferred => hs.caps & CLIENT_SSL != 0,
                _ => true,
            };
        let mut caps = CLIENT_CAPABILITIES & hs.caps;
        if want_tls {
            if hs.caps & CLIENT_SSL == 0 {
                return Err(ClientError::Refused(format!(
                    "the server does not offer TLS (--ssl-mode {})",
                    tls.mode.name()
                )));
            }
            caps |= CLIENT_SSL;
            client.start_tls(caps, tls, &host)?;
        }
        let password = spec
            .password
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default();
        let mut auth = Auth::new(&hs, &password, want_tls || socket);
        let first = auth.response()?;
        let response = handshake_response(caps, &spec.user_name(), &first, auth.plugin());
        client.wire.write_packet(&response)?;
        loop {
            match auth.on_packet(client.read_reply()?)? {
                AuthStep::Done => return Ok(client),
                AuthStep::Send(data) => client.wire.write_packet(&data)?,
                AuthStep::Wait => {}
            }
        }
    }

    /// Sends the SSL request and replaces the stream with TLS over it, its handshake
    /// done (so that a refused certificate is reported as such).
    fn start_tls(&mut self, caps: u32, tls: &TlsOptions, host: &str) -> Result<(), ClientError> {
        self.wire.write_packet(&ssl_request(caps))?;
        let config = client_config(tls).map_err(ClientError::Refused)?;
        let name = server_name(host).map_err(ClientError::Refused)?;
        let conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| ClientError::Refused(format!("TLS: {e}")))?;
        let wire = std::mem::replace(&mut self.wire, Wire::new(Box::new(Inert)));
        let stop = &self.stop;
        self.wire = wire
            .replace_stream(|s| {
                let mut tls = rustls::StreamOwned::new(conn, s);
                let deadline = Instant::now() + REPLY_TIMEOUT;
                while tls.conn.is_handshaking() {
                    match tls.conn.complete_io(&mut tls.sock) {
                        Ok(_) => {}
                        Err(e)
                            if is_timeout(&e)
                                && Instant::now() < deadline
                                && !stop.load(Ordering::Relaxed) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Box::new(tls) as Box<dyn Stream>)
            })
            .map_err(|e| match e.kind() {
                _ if stop.load(Ordering::Relaxed) => ClientError::Interrupted,
                io::ErrorKind::InvalidData => {
                    ClientError::Refused(format!("TLS handshake failed: {e}"))
                }
                _ => ClientError::Io(e),
            })?;
        Ok(())
    }

    /// Reads one reply, waiting at most [`REPLY_TIMEOUT`].
    fn read_reply(&mut self) -> Result<&[u8], ClientError> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            match self.wire.read_packet() {
                Ok(_) => break,
                Err(e) if is_timeout(&e) => {
                    if self.stop.load(Ordering::Relaxed) {
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
    pub fn command(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        self.send(payload)?;
        let p = self.read_reply()?;
        match p.first() {
            Some(0x00) | Some(0xfe) => Ok(()),
            Some(0xff) => Err(server_error(p, "error")),
            _ => Err(protocol("expected OK")),
        }
    }

    /// Runs a statement, discarding any result.
    pub fn exec(&mut self, sql: &str) -> Result<(), ClientError> {
        self.query(sql).map(drop)
    }

    /// Runs a query; the rows as text (`None` for NULL).
    pub fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, ClientError> {
        let mut cmd = Vec::with_capacity(sql.len() + 1);
        cmd.push(0x03);
        cmd.extend_from_slice(sql.as_bytes());
        self.send(&cmd)?;
        let p = self.read_reply()?;
        match p.first() {
            Some(0x00) => return Ok(Vec::new()),
            Some(0xff) => return Err(server_error(p, "error")),
            _ => {}
        }
        let columns = match lenenc(p, &mut 0)? {
            Some(n) if (1..=MAX_COLUMNS).contains(&n) => n as usize,
            _ => return Err(protocol("a result without a column count")),
        };
        for _ in 0..columns {
            self.read_reply()?;
        }
        if !is_eof(self.read_reply()?) {
            return Err(protocol("expected the end of the column list"));
        }
        let mut rows = Vec::new();
        loop {
            let p = self.read_reply()?;
            if is_eof(p) {
                return Ok(rows);
            }
            if p.first() == Some(&0xff) {
                return Err(server_error(p, "error"));
            }
            rows.push(parse_row(p, columns)?);
        }
    }

    /// Reads the next packet of a dump (an event may be as long as its header says). A
    /// read timeout ([`POLL`]), or the stop flag, comes back as an error for which
    /// `is_timeout` holds; the next call goes on with the same packet.
    pub fn read_dump_packet(&mut self) -> io::Result<&[u8]> {
        self.wire.read_dump_packet()
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

    #[test]
    fn rows_with_wild_lengths_are_errors() {
        assert_eq!(
            parse_row(b"\x03abc\xfb", 2).unwrap(),
            vec![Some("abc".to_string()), None]
        );
        // A length past the packet, one that overflows, a missing column.
        assert!(parse_row(b"\x05abc", 1).is_err());
        assert!(parse_row(b"\xfe\xff\xff\xff\xff\xff\xff\xff\xffab", 1).is_err());
        assert!(parse_row(b"\x01a", 2).is_err());
        let mut rng = 0x1234_5678_9abc_def1u64;
        for _ in 0..50_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let bytes = rng.to_le_bytes();
            let _ = parse_row(&bytes[..(rng % 9) as usize], (rng >> 60) as usize);
        }
    }

    /// A scripted server on a Unix socket: sends `script`'s packets (sequence numbers as
    /// given) in order, each after reading one packet from the client when `true`.
    fn scripted(script: Vec<(bool, u8, Vec<u8>)>) -> (tempfile::TempDir, ConnSpec) {
        use std::os::unix::net::UnixListener;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            for (read_first, seq, payload) in script {
                if read_first {
                    let mut h = [0u8; 4];
                    if s.read_exact(&mut h).is_err() {
                        return;
                    }
                    let mut body = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
                    if s.read_exact(&mut body).is_err() {
                        return;
                    }
                }
                let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
                out.push(seq);
                out.extend_from_slice(&payload);
                if s.write_all(&out).is_err() {
                    return;
                }
            }
        });
        let spec = ConnSpec {
            socket: Some(path.display().to_string()),
            user: Some("u".into()),
            ..ConnSpec::default()
        };
        (dir, spec)
    }

    fn handshake() -> Vec<u8> {
        let mut p = vec![10];
        p.extend_from_slice(b"10.11.19-MariaDB\0");
        p.extend_from_slice(&[1, 0, 0, 0]);
        p.extend_from_slice(b"abcdefgh\0");
        p.extend_from_slice(&0xf7feu16.to_le_bytes());
        p.extend_from_slice(&[45, 2, 0]);
        p.extend_from_slice(&0x81bfu16.to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0u8; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0mysql_native_password\0");
        p
    }

    fn no_tls() -> TlsOptions {
        TlsOptions {
            mode: SslMode::Disabled,
            ca: None,
            cert: None,
            key: None,
        }
    }

    /// A server that answers out of sequence, garbles its replies or goes away at any
    /// point of the connection phase or a query: an error each time, never a panic.
    #[test]
    fn a_misbehaving_server_gives_errors() {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = vec![0u8, 0, 0, 2, 0, 0, 0];
        let eof = vec![0xfeu8, 0, 0, 2, 0];
        let cases: Vec<Vec<(bool, u8, Vec<u8>)>> = vec![
            // Wrong sequence number for the auth reply.
            vec![(false, 0, handshake()), (true, 7, ok.clone())],
            // The connection closes after the handshake.
            vec![(false, 0, handshake())],
            // A truncated handshake.
            vec![(false, 0, handshake()[..20].to_vec())],
            // An auth switch with no data, then a request for the password in full over a
            // connection that is... a socket: sent; then garbage.
            vec![
                (false, 0, handshake()),
                (true, 2, b"\xfecaching_sha2_password".to_vec()),
                (true, 4, b"\x01\x04".to_vec()),
                (true, 6, b"\x01\x09".to_vec()),
            ],
        ];
        for script in cases {
            let (_d, spec) = scripted(script);
            assert!(Client::connect(&spec, &no_tls(), &stop).is_err());
        }
        // Queries: a column count out of range, a row past its packet, an error.
        let queries: Vec<Vec<u8>> = vec![
            b"\xfe\x00\x00\x00\x00\x00\x00\x00\x40".to_vec(),
            b"\xfb".to_vec(),
        ];
        for first in queries {
            let (_d, spec) = scripted(vec![
                (false, 0, handshake()),
                (true, 2, ok.clone()),
                (true, 1, first),
            ]);
            let mut c = Client::connect(&spec, &no_tls(), &stop).unwrap();
            assert!(c.query("SELECT 1").is_err());
        }
        // One column, one row: whose value runs past its packet, or is whole.
        let one_row = |row: &[u8]| {
            vec![
                (false, 0, handshake()),
                (true, 2, ok.clone()),
                (true, 1, vec![1]),
                (false, 2, b"\x03def".to_vec()),
                (false, 3, eof.clone()),
                (false, 4, row.to_vec()),
                (false, 5, eof.clone()),
            ]
        };
        let (_d, spec) = scripted(one_row(b"\x09ab"));
        let mut c = Client::connect(&spec, &no_tls(), &stop).unwrap();
        assert!(c.query("SELECT 1").is_err());
        let (_d, spec) = scripted(one_row(b"\x02ab"));
        let mut c = Client::connect(&spec, &no_tls(), &stop).unwrap();
        assert_eq!(c.query("SELECT 1").unwrap(), vec![vec![Some("ab".into())]]);
    }
}
