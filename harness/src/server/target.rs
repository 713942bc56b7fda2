//! Turning a request line (plus `Host` header or tunnel) into the origin and
//! path the browser meant.
//!
//! Kept free of sockets and of hyper types so every request-target form can
//! be unit-tested directly.

use std::net::Ipv6Addr;

use super::Scheme;

/// The origin and path a request was aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `Https` inside a CONNECT tunnel (and for the CONNECT itself), else `Http`.
    pub scheme: Scheme,
    /// Lowercased host; IPv6 keeps its brackets; a trailing dot is kept.
    pub host: String,
    /// Effective port, with the scheme's default filled in.
    pub port: u16,
    /// Origin-form path and query, always starting with `/`; empty for CONNECT.
    pub path_and_query: String,
}

/// Why a request target could not be understood.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// No host in the authority, or an origin-form request without `Host`.
    #[error("request names no host")]
    MissingHost,
    /// CONNECT needs an explicit port: there is no scheme to default from.
    #[error("CONNECT target has no port")]
    MissingPort,
    /// Port not a decimal number in 1..=65535.
    #[error("invalid port {0:?}")]
    BadPort(String),
    /// Host with characters no URL parser would produce, or a bad IPv6 literal.
    #[error("invalid host {0:?}")]
    BadHost(String),
    /// `user@host`: a browser never sends credentials in a request target, so
    /// this is either a confused client or an attempt to smuggle a host.
    #[error("userinfo is not allowed in the authority")]
    UserinfoNotAllowed,
    /// Absolute-form with a scheme other than `http` (e.g. `https://` in the
    /// clear, or `ftp://`).
    #[error("unsupported scheme in request target {0:?}")]
    UnsupportedScheme(String),
    /// A form that is not valid in this position (e.g. `*`, CONNECT inside a
    /// tunnel, absolute-form inside a tunnel).
    #[error("unsupported request target {0:?}")]
    UnsupportedForm(String),
}

/// Works out which origin and path a request is for.
///
/// * `method` is the request method; `CONNECT` expects authority-form.
/// * `uri` is the request target as it appeared on the request line.
/// * `host_header` is the `Host` header, used only for origin-form outside a
///   tunnel (a proxy must ignore `Host` when the target is absolute).
/// * `tunnel` is the CONNECT target when the request arrived inside a TLS
///   tunnel; such requests are https to that host and port.
///
/// # Errors
///
/// A [`TargetError`] naming the first problem found; the request should then
/// be answered with 400.
pub fn parse_target(
    method: &str,
    uri: &str,
    host_header: Option<&str>,
    tunnel: Option<(&str, u16)>,
) -> Result<Target, TargetError> {
    if method.eq_ignore_ascii_case("CONNECT") {
        if tunnel.is_some() {
            return Err(TargetError::UnsupportedForm(uri.to_owned()));
        }
        let (host, port) = parse_authority(uri, None)?;
        return Ok(Target {
            scheme: Scheme::Https,
            host,
            port,
            path_and_query: String::new(),
        });
    }
    if let Some((host, port)) = tunnel {
        if !uri.starts_with('/') {
            return Err(TargetError::UnsupportedForm(uri.to_owned()));
        }
        return Ok(Target {
            scheme: Scheme::Https,
            host: host.to_ascii_lowercase(),
            port,
            path_and_query: strip_fragment(uri).to_owned(),
        });
    }
    if uri.starts_with('/') {
        let header = host_header.ok_or(TargetError::MissingHost)?;
        let (host, port) = parse_authority(header.trim(), Some(Scheme::Http.default_port()))?;
        return Ok(Target {
            scheme: Scheme::Http,
            host,
            port,
            path_and_query: strip_fragment(uri).to_owned(),
        });
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(TargetError::UnsupportedForm(uri.to_owned()));
    };
    // WebKitGTK sends a `ws://` WebSocket through its proxy in absolute
    // form (`GET ws://a.test:8000/x`); it is http on the wire.
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("ws") {
        return Err(TargetError::UnsupportedScheme(scheme.to_owned()));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = parse_authority(authority, Some(Scheme::Http.default_port()))?;
    let tail = strip_fragment(tail);
    let path_and_query = if tail.starts_with('/') {
        tail.to_owned()
    } else {
        format!("/{tail}")
    };
    Ok(Target {
        scheme: Scheme::Http,
        host,
        port,
        path_and_query,
    })
}

fn strip_fragment(s: &str) -> &str {
    s.split_once('#').map_or(s, |(before, _)| before)
}

/// Splits `host[:port]`; `default_port` of `None` means the port is required.
fn parse_authority(
    authority: &str,
    default_port: Option<u16>,
) -> Result<(String, u16), TargetError> {
    if authority.contains('@') {
        return Err(TargetError::UserinfoNotAllowed);
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or_else(|| TargetError::BadHost(authority.to_owned()))?;
        let (host, rest) = authority.split_at(close + 1);
        let inner = &host[1..host.len() - 1];
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(TargetError::BadHost(host.to_owned()));
        }
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return Err(TargetError::BadHost(authority.to_owned())),
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                // An unbracketed IPv6 address, which no URL serializer emits.
                return Err(TargetError::BadHost(authority.to_owned()));
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(TargetError::MissingHost);
    }
    if !host.bytes().all(is_host_byte) {
        return Err(TargetError::BadHost(host.to_owned()));
    }
    let port = match (port, default_port) {
        // RFC 3986 allows an empty port, meaning the scheme's default.
        (None | Some(""), Some(default)) => default,
        (None | Some(""), None) => return Err(TargetError::MissingPort),
        (Some(digits), _) => parse_port(digits)?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Bytes a URL parser can leave in a serialized host (after IDNA and
/// percent-decoding); everything else is refused before classification.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
}

fn parse_port(digits: &str) -> Result<u16, TargetError> {
    let bad = || TargetError::BadPort(digits.to_owned());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(
        method: &str,
        uri: &str,
        host: Option<&str>,
        tunnel: Option<(&str, u16)>,
    ) -> (Scheme, String, u16, String) {
        let t = parse_target(method, uri, host, tunnel)
            .unwrap_or_else(|e| panic!("{method} {uri}: {e}"));
        (t.scheme, t.host, t.port, t.path_and_query)
    }

    fn tuple(scheme: Scheme, host: &str, port: u16, path: &str) -> (Scheme, String, u16, String) {
        (scheme, host.to_owned(), port, path.to_owned())
    }

    #[test]
    fn absolute_form() {
        assert_eq!(
            ok("GET", "http://a.test:8001/x?y", None, None),
            tuple(Scheme::Http, "a.test", 8001, "/x?y")
        );
        // The Host header is ignored when the target is absolute.
        assert_eq!(
            ok("GET", "http://A.Test/p", Some("other.test:9"), None),
            tuple(Scheme::Http, "a.test", 80, "/p")
        );
        assert_eq!(
            ok("GET", "HTTP://a.test:8001", None, None),
            tuple(Scheme::Http, "a.test", 8001, "/")
        );
        assert_eq!(
            ok("GET", "http://a.test?q=1", None, None),
            tuple(Scheme::Http, "a.test", 80, "/?q=1")
        );
        assert_eq!(
            ok("GET", "http://a.test:/x#frag", None, None),
            tuple(Scheme::Http, "a.test", 80, "/x")
        );
        assert_eq!(
            ok("GET", "http://a.test.:8001/", None, None),
            tuple(Scheme::Http, "a.test.", 8001, "/")
        );
        assert_eq!(
            ok("POST", "http://[::1]:8080/p", None, None),
            tuple(Scheme::Http, "[::1]", 8080, "/p")
        );
        assert_eq!(
            ok("GET", "http://[::1]/", None, None),
            tuple(Scheme::Http, "[::1]", 80, "/")
        );
    }

    #[test]
    fn connect_authority_form() {
        assert_eq!(
            ok("CONNECT", "xn--bcher-kva.test:443", None, None),
            tuple(Scheme::Https, "xn--bcher-kva.test", 443, "")
        );
        assert_eq!(
            ok("CONNECT", "[::1]:8443", Some("ignored"), None),
            tuple(Scheme::Https, "[::1]", 8443, "")
        );
        assert_eq!(
            parse_target("CONNECT", "a.test", None, None),
            Err(TargetError::MissingPort)
        );
        assert_eq!(
            parse_target("CONNECT", "a.test:", None, None),
            Err(TargetError::MissingPort)
        );
        assert_eq!(
            parse_target("CONNECT", "a.test:443", None, Some(("a.test", 443))),
            Err(TargetError::UnsupportedForm("a.test:443".into()))
        );
    }

    #[test]
    fn origin_form_uses_host_header() {
        assert_eq!(
            ok("GET", "/x?y", Some("127.0.0.1:4567"), None),
            tuple(Scheme::Http, "127.0.0.1", 4567, "/x?y")
        );
        assert_eq!(
            ok("GET", "/", Some("B.test"), None),
            tuple(Scheme::Http, "b.test", 80, "/")
        );
        assert_eq!(
            parse_target("GET", "/x", None, None),
            Err(TargetError::MissingHost)
        );
        assert_eq!(
            parse_target("GET", "/x", Some(""), None),
            Err(TargetError::MissingHost)
        );
    }

    #[test]
    fn origin_form_in_tunnel_is_https_to_tunnel_target() {
        assert_eq!(
            ok("GET", "/x", Some("elsewhere.test"), Some(("A.test", 443))),
            tuple(Scheme::Https, "a.test", 443, "/x")
        );
        assert_eq!(
            ok("GET", "/x?q", None, Some(("[::1]", 8443))),
            tuple(Scheme::Https, "[::1]", 8443, "/x?q")
        );
        assert_eq!(
            parse_target("GET", "http://a.test/", None, Some(("a.test", 443))),
            Err(TargetError::UnsupportedForm("http://a.test/".into()))
        );
    }

    #[test]
    fn bad_ports() {
        for port in ["0", "65536", "99999999999", "-1", "+80", "8o", " 80"] {
            let uri = format!("http://a.test:{port}/");
            assert_eq!(
                parse_target("GET", &uri, None, None),
                Err(TargetError::BadPort(port.to_owned())),
                "{uri}"
            );
        }
        assert_eq!(
            parse_target("CONNECT", "a.test:https", None, None),
            Err(TargetError::BadPort("https".into()))
        );
    }

    #[test]
    fn bad_hosts_and_forms() {
        assert_eq!(
            parse_target("GET", "http://user:pw@a.test/", None, None),
            Err(TargetError::UserinfoNotAllowed)
        );
        assert_eq!(
            parse_target("CONNECT", "evil.com@a.test:443", None, None),
            Err(TargetError::UserinfoNotAllowed)
        );
        assert_eq!(
            parse_target("GET", "http:///x", None, None),
            Err(TargetError::MissingHost)
        );
        assert_eq!(
            parse_target("GET", "http://:80/x", None, None),
            Err(TargetError::MissingHost)
        );
        assert_eq!(
            parse_target("GET", "http://::1/x", None, None),
            Err(TargetError::BadHost("::1".into()))
        );
        assert_eq!(
            parse_target("GET", "http://[::1/x", None, None),
            Err(TargetError::BadHost("[::1".into()))
        );
        assert_eq!(
            parse_target("GET", "http://[zz]/x", None, None),
            Err(TargetError::BadHost("[zz]".into()))
        );
        assert_eq!(
            parse_target("GET", "http://[::1]x/", None, None),
            Err(TargetError::BadHost("[::1]x".into()))
        );
        assert_eq!(
            parse_target("GET", "http://a%2e.test/", None, None),
            Err(TargetError::BadHost("a%2e.test".into()))
        );
        assert_eq!(
            parse_target("GET", "https://a.test/", None, None),
            Err(TargetError::UnsupportedScheme("https".into()))
        );
        assert_eq!(
            parse_target("GET", "ftp://a.test/", None, None),
            Err(TargetError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(
            parse_target("GET", "wss://a.test/", None, None),
            Err(TargetError::UnsupportedScheme("wss".into())),
            "wss comes through CONNECT"
        );
        // WebKitGTK's form of a ws:// WebSocket through the proxy.
        assert_eq!(
            parse_target("GET", "ws://a.test:8000/__pmconf/channel?x=1", None, None),
            Ok(Target {
                scheme: Scheme::Http,
                host: "a.test".into(),
                port: 8000,
                path_and_query: "/__pmconf/channel?x=1".into(),
            })
        );
        assert_eq!(
            parse_target("OPTIONS", "*", Some("a.test"), None),
            Err(TargetError::UnsupportedForm("*".into()))
        );
    }
}
