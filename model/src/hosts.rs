//! Which hosts a case may name.
//!
//! Every page a case loads is served by pmconf's own local server, which
//! answers only for `*.test` names (RFC 6761 reserves `.test` for testing, so
//! no real host is ever addressed) and loopback literals. A case naming any
//! other host could not be served and would point a browser at the network.

use url::Host;

/// The host the harness keeps for its own pages (the runner page, reports).
pub const HARNESS_HOST: &str = "pmconf.test";

/// Why a host is refused, phrased as a fix.
pub fn check_case_host(host: &Host<&str>) -> Result<(), String> {
    match host {
        Host::Domain(name) => {
            let bare = name.strip_suffix('.').unwrap_or(name);
            if bare == HARNESS_HOST || bare.ends_with(&format!(".{HARNESS_HOST}")) {
                Err(format!(
                    "`{name}` is reserved for the harness's own pages; use another *.test name"
                ))
            } else if bare.ends_with(".test") && bare.len() > ".test".len() {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` is not under .test; use a *.test name (e.g. a.test) or a loopback literal (127.0.0.1, [::1])"
                ))
            }
        }
        Host::Ipv4(addr) if addr.octets()[0] == 127 => Ok(()),
        Host::Ipv6(addr) if addr.is_loopback() => Ok(()),
        Host::Ipv4(addr) => Err(format!(
            "{addr} is not a loopback address; use an address in 127.0.0.0/8 or a *.test name"
        )),
        Host::Ipv6(addr) => Err(format!(
            "[{addr}] is not the IPv6 loopback; use [::1] or a *.test name"
        )),
    }
}

/// Ports no browser will fetch from: the Fetch Standard's *bad port* list.
///
/// <https://fetch.spec.whatwg.org/#bad-port>
pub const BAD_PORTS: &[u16] = &[
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101,
    102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427,
    465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
    993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
    6668, 6669, 6679, 6697, 10080,
];

/// A window's port must be one browsers load from.
pub fn check_case_port(port: Option<u16>) -> Result<(), String> {
    match port {
        Some(p) if BAD_PORTS.contains(&p) => Err(format!(
            "port {p} is on the Fetch Standard's bad-port list: browsers refuse to load it; use another port (8000, 8001, 8443...)"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), String> {
        let url = url::Url::parse(url).unwrap();
        check_case_host(&url.host().unwrap())
    }

    #[test]
    fn test_names_and_loopback_are_allowed() {
        for ok in [
            "http://a.test/",
            "http://A.TEST:8000/",
            "http://bücher.test/",
            "http://a.b.test./",
            "http://127.0.0.1/",
            "http://127.200.3.4/",
            "http://0x7f000001/",
            "http://[::1]:8000/",
            "http://[0:0:0:0:0:0:0:1]/",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn bad_ports_are_refused() {
        assert!(check_case_port(Some(6000)).is_err());
        assert!(check_case_port(Some(10080)).is_err());
        assert!(check_case_port(Some(8000)).is_ok());
        assert!(check_case_port(None).is_ok());
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "http://example.com/",
            "http://test/",
            "http://localhost/",
            "http://a.test.example/",
            "http://10.0.0.1/",
            "http://0.0.0.0/",
            "http://[::2]/",
            "http://pmconf.test/",
            "http://x.pmconf.test/",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
