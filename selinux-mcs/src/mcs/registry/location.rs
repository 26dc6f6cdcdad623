//! Where a registry lives: a file (SQLite) or an etcd cluster, chosen by the
//! text given to `--db`, `$SELINUX_MCS_DB` or `selinux_mcs_registry_open()`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use crate::mcs::McsError;

/// The scheme that selects the etcd backend.
const ETCD: &str = "etcd://";
const GRAMMAR: &str = "expected etcd://host:port[,host:port...][/prefix], or a file path";

/// Where a [`Registry`](super::Registry) lives.
///
/// Parsed from text ([`Location::parse`], or `FromStr`):
/// - `etcd://host:port[,host:port...][/prefix]`: an etcd cluster, reached
///   through any of the listed members (plain HTTP/2, no TLS), keeping its
///   keys under `/prefix` (default [`EtcdUrl::DEFAULT_PREFIX`]; a missing port
///   is [`EtcdUrl::DEFAULT_PORT`]). Hosts are names, IPv4 addresses or IPv6
///   addresses in brackets (`[::1]:2379`).
/// - any other text: the path of an SQLite database file. Text that starts
///   like another URL (`http://...`) is refused rather than taken for a
///   relative path; write `./http:/...` for such a file.
///
/// ```
/// use selinux_mcs::mcs::Location;
/// let loc = Location::parse("etcd://10.0.0.1:2379,10.0.0.2:2379/prod/mcs")?;
/// let Location::Etcd(url) = &loc else { unreachable!() };
/// assert_eq!(url.endpoints(), ["10.0.0.1:2379", "10.0.0.2:2379"]);
/// assert_eq!(url.prefix(), "/prod/mcs");
/// assert_eq!(Location::parse("/var/lib/selinux-mcs/mcs.db")?,
///            Location::File("/var/lib/selinux-mcs/mcs.db".into()));
/// assert!(Location::parse("etcd://host:99999/x").is_err());
/// # Ok::<(), selinux_mcs::mcs::McsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// An SQLite database file: one registry for one host.
    File(PathBuf),
    /// An etcd cluster: one registry for every host that reaches it.
    Etcd(EtcdUrl),
}

/// An `etcd://` registry location: the members to try and the key prefix.
///
/// Its `Display` is the canonical URL (every port written, the prefix
/// without trailing `/`): `etcd://127.0.0.1:2379,[::1]:2379/selinux-mcs`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EtcdUrl {
    endpoints: Vec<String>,
    prefix: String,
}

impl EtcdUrl {
    /// etcd's client port, for an endpoint written without one.
    pub const DEFAULT_PORT: u16 = 2379;
    /// The key prefix of `etcd://host:port` written without a path.
    pub const DEFAULT_PREFIX: &'static str = "/selinux-mcs";

    /// The members, `host:port` each (an IPv6 host in brackets), as given.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The key prefix: starts with `/`, never ends with one. The registry's
    /// keys are `<prefix>/meta`, `<prefix>/pairs/NNNNNN`, `<prefix>/owners/<owner>`
    /// and `<prefix>/released`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Display for EtcdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ETCD}{}{}", self.endpoints.join(","), self.prefix)
    }
}

impl fmt::Display for Location {
    /// The path (lossily, for a path that is not UTF-8) or the URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Etcd(url) => url.fmt(f),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Location {
        Location::File(path)
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Location {
        Location::File(path.to_path_buf())
    }
}

impl std::str::FromStr for Location {
    type Err = McsError;

    fn from_str(text: &str) -> Result<Location, McsError> {
        Location::parse(text)
    }
}

impl Location {
    /// Parses `text`: `etcd://...` is an etcd cluster, anything else a file.
    ///
    /// Fails with [`McsError::BadLocation`] for empty text, a malformed
    /// `etcd://` URL (naming the byte offset and what is wrong) and any
    /// other `scheme://`.
    pub fn parse(text: impl AsRef<OsStr>) -> Result<Location, McsError> {
        let text = text.as_ref();
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return Err(bad(
                text,
                0,
                "empty: give a file path or an etcd:// URL".into(),
            ));
        }
        if let Some(rest) = bytes.strip_prefix(ETCD.as_bytes()) {
            let Ok(rest) = std::str::from_utf8(rest) else {
                return Err(bad(text, 0, "an etcd:// URL must be UTF-8".into()));
            };
            return parse_etcd(rest)
                .map(Location::Etcd)
                .map_err(|(at, reason)| bad(text, ETCD.len() + at, reason));
        }
        if let Some(end) = scheme_end(bytes) {
            let scheme = String::from_utf8_lossy(&bytes[..end]);
            return Err(bad(
                text,
                0,
                format!(
                    "the scheme {scheme:?} is not supported (a registry is a file path or etcd://...; \
                     write ./{} for a file of that name)",
                    String::from_utf8_lossy(bytes)
                ),
            ));
        }
        Ok(Location::File(PathBuf::from(text)))
    }

    /// The location as text, as it would be parsed back.
    pub fn as_os_string(&self) -> OsString {
        match self {
            Location::File(path) => path.clone().into_os_string(),
            Location::Etcd(url) => url.to_string().into(),
        }
    }
}

/// The length of a leading `scheme` followed by `://` (RFC 3986 scheme
/// characters), if any.
fn scheme_end(bytes: &[u8]) -> Option<usize> {
    let end = bytes.windows(3).position(|w| w == b"://")?;
    let scheme = &bytes[..end];
    let ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    ok.then_some(end)
}

fn bad(text: &OsStr, offset: usize, reason: String) -> McsError {
    McsError::BadLocation {
        text: text.to_string_lossy().into_owned(),
        offset,
        reason: format!("{reason} ({GRAMMAR})"),
    }
}

/// Parses what follows `etcd://`; errors carry the offset within `rest`.
fn parse_etcd(rest: &str) -> Result<EtcdUrl, (usize, String)> {
    let (authority, path, path_at) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..], i + 1),
        None => (rest, "", rest.len()),
    };
    if let Some(i) = authority.find('@') {
        return Err((
            i,
            "credentials in the URL are not supported (etcd authentication is not)".into(),
        ));
    }
    let mut endpoints = Vec::new();
    let mut at = 0;
    for part in authority.split(',') {
        if part.is_empty() {
            return Err((at, "an empty endpoint".into()));
        }
        endpoints.push(parse_endpoint(part).map_err(|(i, r)| (at + i, r))?);
        at += part.len() + 1;
    }
    let prefix = parse_prefix(path).map_err(|(i, r)| (path_at + i, r))?;
    Ok(EtcdUrl { endpoints, prefix })
}

/// `host[:port]`, `[v6][:port]`; returns `host:port`.
fn parse_endpoint(text: &str) -> Result<String, (usize, String)> {
    let (host, port_text, port_at) = if let Some(inner) = text.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err((
                0,
                format!("{text:?}: an IPv6 address opened with [ is never closed"),
            ));
        };
        let addr = &inner[..close];
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err((1, format!("{addr:?} is not an IPv6 address")));
        }
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => {
                return Err((
                    close + 2,
                    format!("{after:?} after an IPv6 address (expected :port)"),
                ))
            }
        };
        (&text[..close + 2], port, close + 3)
    } else {
        match text.split_once(':') {
            Some((host, port)) => {
                if port.contains(':') {
                    return Err((
                        0,
                        format!("{text:?}: write an IPv6 address in brackets, [addr]:port"),
                    ));
                }
                (host, Some(port), host.len() + 1)
            }
            None => (text, None, text.len()),
        }
    };
    if !host.starts_with('[') {
        if host.is_empty() {
            return Err((0, "an empty host".into()));
        }
        if let Some(i) =
            host.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err((i, format!("host {host:?} holds {:?} (a host name or address has letters, digits, '.', '-', '_')", &host[i..].chars().next().unwrap_or(' '))));
        }
    }
    let port = match port_text {
        None => EtcdUrl::DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err((
                    port_at,
                    format!("port {p:?} is not a number from 1 to 65535"),
                ))
            }
        },
    };
    Ok(format!("{host}:{port}"))
}

/// The path after the authority, without its leading `/`: `""` gives the
/// default prefix; trailing `/` are dropped.
fn parse_prefix(path: &str) -> Result<String, (usize, String)> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(EtcdUrl::DEFAULT_PREFIX.to_owned());
    }
    if let Some((i, c)) = trimmed
        .char_indices()
        .find(|&(_, c)| c.is_control() || c.is_whitespace() || matches!(c, '?' | '#' | '%'))
    {
        return Err((
            i,
            format!("{c:?} in the prefix (no spaces, control characters, queries, fragments or %-escapes)"),
        ));
    }
    if let Some(i) = trimmed.find("//") {
        return Err((i + 1, "an empty segment (//) in the prefix".into()));
    }
    Ok(format!("/{trimmed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etcd(text: &str) -> EtcdUrl {
        match Location::parse(text) {
            Ok(Location::Etcd(url)) => url,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> (usize, String) {
        match Location::parse(text) {
            Err(McsError::BadLocation { offset, reason, .. }) => (offset, reason),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn etcd_urls_parse_to_endpoints_and_a_prefix() {
        let url = etcd("etcd://127.0.0.1:2379,node-2.example:32379,[::1]:2380/prod/mcs/");
        assert_eq!(
            url.endpoints(),
            ["127.0.0.1:2379", "node-2.example:32379", "[::1]:2380"]
        );
        assert_eq!(url.prefix(), "/prod/mcs");
        assert_eq!(
            url.to_string(),
            "etcd://127.0.0.1:2379,node-2.example:32379,[::1]:2380/prod/mcs"
        );
        // Port and prefix default.
        let url = etcd("etcd://db");
        assert_eq!(url.endpoints(), ["db:2379"]);
        assert_eq!(url.prefix(), EtcdUrl::DEFAULT_PREFIX);
        assert_eq!(etcd("etcd://[::1]/").endpoints(), ["[::1]:2379"]);
        // The canonical text parses back to the same URL.
        assert_eq!(etcd(&url.to_string()), url);
    }

    #[test]
    fn anything_else_is_a_file() {
        for text in [
            "mcs.db",
            "/var/lib/selinux-mcs/mcs.db",
            "./etcd:/x",
            "etcd:x",
            "a b://c",
        ] {
            assert_eq!(
                Location::parse(text).expect(text),
                Location::File(PathBuf::from(text))
            );
        }
        let raw = OsStr::from_bytes(b"/tmp/\xff.db");
        assert_eq!(
            Location::parse(raw).expect("non-UTF-8 path"),
            Location::File(PathBuf::from(raw))
        );
    }

    #[test]
    fn bad_locations_name_the_byte_and_the_fault() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("http://h:2379", 0, "scheme \"http\" is not supported"),
            ("etcd://", 7, "empty endpoint"),
            ("etcd://:1", 7, "empty host"),
            ("etcd://h:x/p", 9, "port \"x\""),
            ("etcd://h:0", 9, "port \"0\""),
            ("etcd://h:65536", 9, "port \"65536\""),
            ("etcd://h:+1", 9, "port \"+1\""),
            ("etcd://a:1,,b:2", 11, "empty endpoint"),
            ("etcd://a:1,", 11, "empty endpoint"),
            ("etcd://u:p@h:1", 10, "credentials"),
            ("etcd://::1:2379", 7, "IPv6 address in brackets"),
            ("etcd://[::1:2379", 7, "never closed"),
            ("etcd://[zz]:1", 8, "not an IPv6 address"),
            ("etcd://[::1]x", 12, "after an IPv6 address"),
            ("etcd://h st:1", 8, "host \"h st\""),
            ("etcd://h:1/a b", 12, "' ' in the prefix"),
            ("etcd://h:1/a?x=1", 12, "'?' in the prefix"),
            ("etcd://h:1/a%2f", 12, "'%' in the prefix"),
            ("etcd://h:1/a//b", 13, "empty segment"),
        ];
        for (text, offset, says) in cases {
            let (at, reason) = err(text);
            assert_eq!(at, *offset, "{text}: {reason}");
            assert!(reason.contains(says), "{text}: {reason}");
            assert!(reason.contains("etcd://host:port"), "{text}: {reason}");
        }
        let e = Location::parse("etcd://h:x").expect_err("bad port");
        assert_eq!(
            e.to_string(),
            "bad registry location \"etcd://h:x\" at byte 9: port \"x\" is not a number from 1 to 65535 \
             (expected etcd://host:port[,host:port...][/prefix], or a file path)"
        );
        assert_eq!(e.kind(), crate::mcs::McsErrorKind::Invalid);
    }
}
