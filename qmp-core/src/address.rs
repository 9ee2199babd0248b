//! Where a QMP server is: a UNIX socket path or a TCP host and port.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The address of a QMP server (for [`Client::connect`](crate::Client::connect)) or of a
/// socket to listen on (for [`Client::start_server`](crate::Client::start_server)).
///
/// A path (`&Path`, `PathBuf`) is a UNIX socket; a `(host, port)` pair or a
/// [`SocketAddr`] is TCP; a string (`&str`, `String`) is read by [`Address::parse`]:
/// `unix:PATH`, `tcp:HOST:PORT`, `host:port`, or a path.
///
/// ```
/// use qmp_core::Address;
/// use std::net::SocketAddr;
///
/// assert_eq!(Address::from("/run/qemu.sock"), Address::Unix("/run/qemu.sock".into()));
/// assert_eq!(
///     Address::from(("localhost", 4444)),
///     Address::Tcp { host: "localhost".into(), port: 4444 }
/// );
/// let sa: SocketAddr = "[::1]:4444".parse().unwrap();
/// assert_eq!(Address::from(sa).to_string(), "[::1]:4444");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A UNIX stream socket at this path.
    Unix(PathBuf),
    /// A TCP endpoint; `host` is a name or an IP address literal (IPv6 without brackets).
    Tcp {
        /// Host name or IP address.
        host: String,
        /// Port number.
        port: u16,
    },
}

impl Address {
    /// Parses the forms used on command lines, QEMU's own included: `unix:PATH` and
    /// `tcp:HOST:PORT` (options after a comma, as in `-qmp unix:PATH,server=on`, are
    /// ignored); `host:port` (a numeric port after the last colon; IPv6 hosts in
    /// brackets, `[::1]:4444`) is TCP; anything else is a UNIX path. Strings convert
    /// the same way (`client.connect("127.0.0.1:4444")` is TCP).
    ///
    /// ```
    /// use qmp_core::Address;
    ///
    /// assert_eq!(Address::parse("127.0.0.1:4444"),
    ///            Address::Tcp { host: "127.0.0.1".into(), port: 4444 });
    /// assert_eq!(Address::parse("[::1]:4444"), Address::Tcp { host: "::1".into(), port: 4444 });
    /// assert_eq!(Address::parse("/tmp/qmp.sock"), Address::Unix("/tmp/qmp.sock".into()));
    /// assert_eq!(Address::parse("qmp.sock"), Address::Unix("qmp.sock".into()));
    /// assert_eq!(Address::parse("unix:/run/vm.sock,server=on,wait=off"),
    ///            Address::Unix("/run/vm.sock".into()));
    /// assert_eq!(Address::parse("tcp:localhost:4444"),
    ///            Address::Tcp { host: "localhost".into(), port: 4444 });
    /// assert_eq!(Address::from("127.0.0.1:4444"), Address::parse("127.0.0.1:4444"));
    /// ```
    pub fn parse(s: &str) -> Address {
        if let Some(path) = s.strip_prefix("unix:") {
            let path = path.split(',').next().unwrap_or(path);
            return Address::Unix(PathBuf::from(path));
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            let rest = rest.split(',').next().unwrap_or(rest);
            if let Address::Tcp { host, port } = Address::parse_plain(rest) {
                return Address::Tcp { host, port };
            }
        }
        Address::parse_plain(s)
    }

    fn parse_plain(s: &str) -> Address {
        if !s.contains('/') {
            if let Some((host, port)) = s.rsplit_once(':') {
                if let Ok(port) = port.parse::<u16>() {
                    let host = host
                        .strip_prefix('[')
                        .and_then(|h| h.strip_suffix(']'))
                        .unwrap_or(host);
                    if !host.is_empty() && (!host.contains(':') || s.starts_with('[')) {
                        return Address::Tcp {
                            host: host.to_owned(),
                            port,
                        };
                    }
                }
            }
        }
        Address::Unix(PathBuf::from(s))
    }

    /// Whether this is a UNIX socket address.
    pub fn is_unix(&self) -> bool {
        matches!(self, Address::Unix(_))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "{}", p.display()),
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl From<PathBuf> for Address {
    fn from(p: PathBuf) -> Self {
        Address::Unix(p)
    }
}

impl From<&Path> for Address {
    fn from(p: &Path) -> Self {
        Address::Unix(p.to_owned())
    }
}

impl From<&PathBuf> for Address {
    fn from(p: &PathBuf) -> Self {
        Address::Unix(p.clone())
    }
}

impl From<&str> for Address {
    /// As [`Address::parse`]: `unix:PATH`, `tcp:HOST:PORT`, `host:port`, or a path.
    /// (A path that looks like `host:port` is given as a `Path` instead.)
    fn from(p: &str) -> Self {
        Address::parse(p)
    }
}

impl From<String> for Address {
    /// As [`Address::parse`].
    fn from(p: String) -> Self {
        Address::parse(&p)
    }
}

impl From<(&str, u16)> for Address {
    fn from((host, port): (&str, u16)) -> Self {
        Address::Tcp {
            host: host.to_owned(),
            port,
        }
    }
}

impl From<(String, u16)> for Address {
    fn from((host, port): (String, u16)) -> Self {
        Address::Tcp { host, port }
    }
}

impl From<SocketAddr> for Address {
    fn from(sa: SocketAddr) -> Self {
        Address::Tcp {
            host: sa.ip().to_string(),
            port: sa.port(),
        }
    }
}

impl From<(IpAddr, u16)> for Address {
    fn from((ip, port): (IpAddr, u16)) -> Self {
        Address::Tcp {
            host: ip.to_string(),
            port,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(
            Address::parse("localhost:1"),
            Address::Tcp {
                host: "localhost".into(),
                port: 1
            }
        );
        // Non-numeric or out-of-range port, bare IPv6 and paths with colons are paths.
        assert!(Address::parse("host:abc").is_unix());
        assert!(Address::parse("host:70000").is_unix());
        assert!(Address::parse("::1:4444").is_unix());
        assert!(Address::parse("./dir:1/sock").is_unix());
        assert!(Address::parse(":4444").is_unix());
    }

    #[test]
    fn display_round_trips() {
        for s in ["127.0.0.1:4444", "[::1]:5", "/tmp/x.sock", "name:22"] {
            assert_eq!(Address::parse(s).to_string(), s);
        }
    }
}
