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
