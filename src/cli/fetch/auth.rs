//! The connection phase of the protocol, as bytes: the server's initial handshake, the
//! client's SSL request and handshake response, and the authentication exchange
//! ([`Auth`]): mysql_native_password, caching_sha2_password, MariaDB's client_ed25519, and
//! mysql_clear_password (over TLS or a socket only). Scrambles come from `mysql_common`.
//! Everything here reads packets a server sent without trusting a length in them.

use binlog::fetch::wire::ServerError;

use super::client::ClientError;

pub const CLIENT_LONG_PASSWORD: u32 = 0x1;
pub const CLIENT_LONG_FLAG: u32 = 0x4;
pub const CLIENT_PROTOCOL_41: u32 = 0x200;
pub const CLIENT_SSL: u32 = 0x800;
pub const CLIENT_TRANSACTIONS: u32 = 0x2000;
pub const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
pub const CLIENT_MULTI_RESULTS: u32 = 0x20000;
pub const CLIENT_PLUGIN_AUTH: u32 = 0x80000;
pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x200000;

/// What this client can do (the server's capabilities are intersected with it).
pub const CLIENT_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_LONG_FLAG
    | CLIENT_PROTOCOL_41
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;

/// utf8mb4_general_ci.
const CHARSET: u8 = 45;
/// The largest packet the client says it takes (the protocol's maximum, 1 GiB).
const CLIENT_MAX_PACKET: u32 = 1 << 30;

pub fn protocol(m: &str) -> ClientError {
    ClientError::Refused(format!("unexpected reply from the server: {m}"))
}

/// An ERR packet as a [`ClientError`] (`what`: the message when it cannot be read).
pub fn server_error(p: &[u8], what: &str) -> ClientError {
    ClientError::Server(ServerError::parse(p).unwrap_or(ServerError {
        code: 0,
        state: String::new(),
        message: what.into(),
    }))
}

/// What the initial handshake tells.
#[derive(Debug)]
pub struct Handshake {
    /// Its capability flags.
    pub caps: u32,
    /// The scramble (20 bytes from a well-behaved server).
    pub nonce: Vec<u8>,
    /// The authentication plugin it proposes.
    pub plugin: String,
}

/// Bytes up to a NUL (or the end), and the position after the NUL.
fn nul_terminated(p: &[u8], at: usize) -> (&[u8], usize) {
    let rest = p.get(at..).unwrap_or(&[]);
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    (&rest[..end], at + end + 1)
}

/// Parses the server's initial handshake (protocol version 10).
pub fn parse_handshake(p: &[u8]) -> Result<Handshake, ClientError> {
    match p.first() {
        Some(0xff) => return Err(server_error(p, "refused the connection")),
        Some(10) => {}
        other => {
            return Err(ClientError::Refused(format!(
                "unsupported protocol version {} (not a MySQL or MariaDB server?)",
                other.copied().unwrap_or(0)
            )))
        }
    }
    let short = || protocol("short handshake");
    // The server's version, NUL-terminated.
    let (_, mut at) = nul_terminated(p, 1);
    if at > p.len() {
        return Err(short());
    }
    at += 4; // thread id
    let mut nonce = p.get(at..at + 8).ok_or_else(short)?.to_vec();
    at += 8 + 1;
    let lo = p.get(at..at + 2).ok_or_else(short)?;
    let mut caps = u32::from(u16::from_le_bytes([lo[0], lo[1]]));
    at += 2;
    let mut plugin = String::new();
    if p.len() > at {
        at += 1 + 2; // charset, status
        let hi = p.get(at..at + 2).ok_or_else(short)?;
        caps |= u32::from(u16::from_le_bytes([hi[0], hi[1]])) << 16;
        at += 2;
        let data_len = usize::from(*p.get(at).ok_or_else(short)?);
        at += 1 + 10;
        if caps & CLIENT_SECURE_CONNECTION != 0 {
            let n = data_len.saturating_sub(8).max(13);
            let part = p.get(at..).unwrap_or(&[]);
            let part = &part[..n.min(part.len())];
            nonce.extend_from_slice(part);
            at += part.len();
        }
        if caps & CLIENT_PLUGIN_AUTH != 0 {
            plugin = String::from_utf8_lossy(nul_terminated(p, at).0).into_owned();
        }
    }
    // The scramble is 20 bytes; the handshake NUL-terminates it.
    nonce.truncate(20);
    Ok(Handshake {
        caps,
        nonce,
        plugin,
    })
}

/// The SSL request that precedes the TLS handshake.
pub fn ssl_request(caps: u32) -> Vec<u8> {
    let mut req = Vec::with_capacity(32);
    req.extend_from_slice(&(caps | CLIENT_SSL).to_le_bytes());
    req.extend_from_slice(&CLIENT_MAX_PACKET.to_le_bytes());
    req.push(CHARSET);
    req.extend_from_slice(&[0u8; 23]);
    req
}

/// The handshake response: capabilities, user, the first auth data, the plugin.
pub fn handshake_response(caps: u32, user: &str, data: &[u8], plugin: &str) -> Vec<u8> {
    let mut resp = Vec::with_capacity(64 + user.len() + data.len());
    resp.extend_from_slice(&caps.to_le_bytes());
    resp.extend_from_slice(&CLIENT_MAX_PACKET.to_le_bytes());
    resp.push(CHARSET);
    resp.extend_from_slice(&[0u8; 23]);
    resp.extend_from_slice(user.as_bytes());
    resp.push(0);
    if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
        binlog::bytes::put_packed(&mut resp, data.len() as u64);
        resp.extend_from_slice(data);
    } else {
        // One length byte: the scrambles are 20 or 32 bytes.
        let n = data.len().min(255);
        resp.push(n as u8);
        resp.extend_from_slice(&data[..n]);
    }
    if caps & CLIENT_PLUGIN_AUTH != 0 {
        resp.extend_from_slice(plugin.as_bytes());
        resp.push(0);
    }
    resp
}

/// What to do after a packet of the authentication exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthStep {
    /// Authenticated.
    Done,
    /// Send this, then read the next packet.
    Send(Vec<u8>),
    /// Read the next packet.
    Wait,
}

/// The authentication exchange, packet by packet.
pub struct Auth {
    plugin: String,
    password: String,
    nonce: Vec<u8>,
    /// Whether the connection is encrypted or local (a password may be sent as it is).
    secure: bool,
    switched: bool,
}

impl Auth {
    /// Starts with the plugin the server proposed (one this client does not know is
    /// answered as mysql_native_password, which the server may switch away from).
    pub fn new(hs: &Handshake, password: &str, secure: bool) -> Auth {
        let plugin = match hs.plugin.as_str() {
            "caching_sha2_password" | "mysql_native_password" => hs.plugin.clone(),
            _ => "mysql_native_password".to_string(),
        };
        Auth {
            plugin,
            password: password.to_string(),
            nonce: hs.nonce.clone(),
            secure,
            switched: false,
        }
    }

    /// The plugin the exchange is in.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The auth data for the current plugin and scramble.
    pub fn response(&self) -> Result<Vec<u8>, ClientError> {
        let pass = self.password.as_bytes();
        let nonce = &self.nonce;
        Ok(match self.plugin.as_str() {
            "mysql_native_password" | "" => mysql_common::scramble::scramble_native(nonce, pass)
                .map(|s| s.to_vec())
                .unwrap_or_default(),
            "caching_sha2_password" => mysql_common::scramble::scramble_sha256(nonce, pass)
                .map(|s| s.to_vec())
                .unwrap_or_default(),
            "client_ed25519" => {
                mysql_common::scramble::create_response_for_ed25519(pass, nonce).to_vec()
            }
            "mysql_clear_password" if self.secure => {
                let mut v = pass.to_vec();
                v.push(0);
                v
            }
            "mysql_clear_password" => {
                return Err(ClientError::Refused(
                    "the server asks for the password in clear text (mysql_clear_password); that is only sent over TLS or a Unix socket".into(),
                ))
            }
            other => {
                return Err(ClientError::Refused(format!(
                    "authentication plugin {other} is not supported"
                )))
            }
        })
    }

    /// Handles one packet the server sent during authentication.
    pub fn on_packet(&mut self, p: &[u8]) -> Result<AuthStep, ClientError> {
        match p.first() {
            Some(0x00) => Ok(AuthStep::Done),
            Some(0xff) => Err(server_error(p, "authentication failed")),
            Some(0xfe) if !self.switched => {
                // Auth switch: the plugin's name, then its data.
                self.switched = true;
                let (name, after) = nul_terminated(p, 1);
                self.plugin = String::from_utf8_lossy(name).into_owned();
                self.nonce = p.get(after..).unwrap_or(&[]).to_vec();
                if self.plugin != "client_ed25519" && self.nonce.last() == Some(&0) {
                    self.nonce.pop();
                }
                Ok(AuthStep::Send(self.response()?))
            }
            Some(0x01) if self.plugin == "caching_sha2_password" => match p.get(1) {
                // Fast path: the server had the password cached; the OK follows.
                Some(0x03) => Ok(AuthStep::Wait),
                // Full authentication: the password itself.
                Some(0x04) if self.secure => {
                    let mut pass = self.password.as_bytes().to_vec();
                    pass.push(0);
                    Ok(AuthStep::Send(pass))
                }
                Some(0x04) => Err(ClientError::Refused(
                    "caching_sha2_password: the server asks for the password itself, which is only sent over TLS or a Unix socket (--ssl-mode PREFERRED or REQUIRED; as the mysql client without --get-server-public-key, fetch does not ask for the server's RSA key)".into(),
                )),
                _ => Err(protocol("caching_sha2_password")),
            },
            _ => Err(protocol("during authentication")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MariaDB 10.11 handshake, as the server sends it.
    fn mariadb_handshake() -> Vec<u8> {
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
        p
    }

    #[test]
    fn handshake_is_parsed() {
        let h = parse_handshake(&mariadb_handshake()).unwrap();
        assert_eq!(h.nonce, b"abcdefghijklmnopqrst");
        assert_eq!(h.plugin, "mysql_native_password");
        assert!(h.caps & CLIENT_PLUGIN_AUTH != 0 && h.caps & CLIENT_PROTOCOL_41 != 0);
    }

    /// A small deterministic generator for garbling bytes.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Every prefix of a handshake, and thousands of garbled copies, are parsed or refused:
    /// never a panic.
    #[test]
    fn truncated_and_garbled_handshakes_never_panic() {
        let good = mariadb_handshake();
        for n in 0..good.len() {
            let _ = parse_handshake(&good[..n]);
        }
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut p = good.clone();
            for _ in 0..1 + xorshift(&mut rng) % 6 {
                let i = (xorshift(&mut rng) as usize) % p.len();
                p[i] = xorshift(&mut rng) as u8;
            }
            let cut = (xorshift(&mut rng) as usize) % (p.len() + 1);
            if let Ok(h) = parse_handshake(&p[..cut]) {
                assert!(h.nonce.len() <= 20);
            }
        }
    }

    fn auth(plugin: &str, secure: bool) -> Auth {
        let mut hs = parse_handshake(&mariadb_handshake()).unwrap();
        hs.plugin = plugin.into();
        Auth::new(&hs, "pw", secure)
    }

    #[test]
    fn auth_switch_and_full_authentication() {
        // A switch to caching_sha2_password with no scramble at all, then a request for
        // the password itself: over TCP without TLS it is refused, not sent.
        let mut a = auth("mysql_native_password", false);
        let step = a.on_packet(b"\xfecaching_sha2_password\0").unwrap();
        assert!(matches!(step, AuthStep::Send(ref d) if d.len() == 32));
        assert_eq!(a.on_packet(b"\x01\x03").unwrap(), AuthStep::Wait);
        match a.on_packet(b"\x01\x04") {
            Err(ClientError::Refused(m)) => assert!(m.contains("TLS"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Over TLS or a socket, the password goes as it is.
        let mut a = auth("caching_sha2_password", true);
        assert_eq!(
            a.on_packet(b"\x01\x04").unwrap(),
            AuthStep::Send(b"pw\0".to_vec())
        );
        assert_eq!(a.on_packet(b"\x00\x00\x00").unwrap(), AuthStep::Done);
        // A second switch is a protocol error; so is an unknown plugin.
        let mut a = auth("", false);
        a.on_packet(b"\xfeclient_ed25519\0abc").unwrap();
        assert!(a.on_packet(b"\xfemysql_native_password\0").is_err());
        let mut a = auth("", false);
        assert!(a.on_packet(b"\xfedialog\0x").is_err());
        let e = auth("", false).on_packet(b"\xff\x15\x04#28000Access denied");
        assert!(matches!(e, Err(ClientError::Server(s)) if s.code == 1045));
    }

    /// Random packets in every state of the exchange: answers or errors, never a panic.
    #[test]
    fn garbled_auth_packets_never_panic() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let starts: [&[u8]; 6] = [
            b"\x00",
            b"\x01\x03",
            b"\x01\x04",
            b"\xfecaching_sha2_password\0",
            b"\xfeclient_ed25519\0",
            b"\xff\x15",
        ];
        for _ in 0..20_000 {
            let mut a = auth(
                ["caching_sha2_password", "mysql_native_password", "x"]
                    [(xorshift(&mut rng) % 3) as usize],
                xorshift(&mut rng).is_multiple_of(2),
            );
            for _ in 0..3 {
                let mut p = starts[(xorshift(&mut rng) % 6) as usize].to_vec();
                for _ in 0..xorshift(&mut rng) % 40 {
                    p.push(xorshift(&mut rng) as u8);
                }
                let cut = (xorshift(&mut rng) as usize) % (p.len() + 1);
                if a.on_packet(&p[..cut]).is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn handshake_response_layout() {
        let caps = CLIENT_CAPABILITIES;
        let r = handshake_response(caps, "repl", &[7; 20], "mysql_native_password");
        assert_eq!(&r[..4], &caps.to_le_bytes());
        assert_eq!(&r[32..37], b"repl\0");
        assert_eq!(r[37], 20);
        assert_eq!(&r[38..58], &[7; 20]);
        assert_eq!(&r[58..], b"mysql_native_password\0");
    }
}
