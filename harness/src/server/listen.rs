//! Where the origin server and proxy listen (`pmconf run --listen`), and the
//! address browsers are told to use as their proxy.
//!
//! Loopback by default. A Grid node on another machine needs an address it
//! can reach, so `--listen` may name another one, but only when asked
//! explicitly: the server answers anyone who reaches it (with generated
//! `*.test` pages only; it never connects onward).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A validated listen address and the address browsers reach it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// Where the server binds (port 0: any free port).
    pub bind: SocketAddr,
    /// The host browsers are told to use as their proxy; the port is the
    /// one bound.
    pub advertised_host: String,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            advertised_host: Ipv4Addr::LOCALHOST.to_string(),
        }
    }
}

/// Why a `--listen` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListenError {
    /// Not `IP:PORT`.
    #[error("--listen {given:?} is not an address: write IP:PORT, e.g. 127.0.0.1:0 or 0.0.0.0:8999 (port 0 picks a free one)")]
    NotAnAddress {
        /// The value given.
        given: String,
    },
    /// Not loopback, and `--allow-non-loopback` was not given.
    #[error("--listen {given} is not a loopback address: every machine that reaches it can load the generated *.test pages; add --allow-non-loopback if that is what you want")]
    NotLoopback {
        /// The address given.
        given: SocketAddr,
    },
    /// An unspecified address (`0.0.0.0`, `::`) names no host to give the
    /// browsers.
    #[error("--listen {given} binds every interface, so it names no address for the browsers: add --advertise HOST, the name or IP the browsers' machines reach this one at")]
    NoAdvertisedHost {
        /// The address given.
        given: SocketAddr,
    },
}

impl Listen {
    /// Validates `--listen` (`None`: loopback on a free port),
    /// `--allow-non-loopback` and `--advertise`.
    pub fn parse(
        listen: Option<&str>,
        allow_non_loopback: bool,
        advertise: Option<&str>,
    ) -> Result<Listen, ListenError> {
        let Some(given) = listen else {
            let mut out = Listen::default();
            if let Some(host) = advertise {
                out.advertised_host = host.to_owned();
            }
            return Ok(out);
        };
        let bind: SocketAddr = given
            .trim()
            .parse()
            .map_err(|_| ListenError::NotAnAddress {
                given: given.to_owned(),
            })?;
        if !bind.ip().is_loopback() && !allow_non_loopback {
            return Err(ListenError::NotLoopback { given: bind });
        }
        let advertised_host = match (advertise, bind.ip()) {
            (Some(host), _) => host.to_owned(),
            (None, ip) if ip.is_unspecified() => {
                return Err(ListenError::NoAdvertisedHost { given: bind })
            }
            (None, IpAddr::V6(ip)) => format!("[{ip}]"),
            (None, IpAddr::V4(ip)) => ip.to_string(),
        };
        Ok(Listen {
            bind,
            advertised_host,
        })
    }

    /// The proxy address for browsers once the server bound `port`.
    pub fn proxy_address(&self, port: u16) -> String {
        format!("{}:{port}", self.advertised_host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_on_a_free_port_by_default() {
        let listen = Listen::parse(None, false, None).unwrap();
        assert_eq!(listen.bind, "127.0.0.1:0".parse().unwrap());
        assert_eq!(listen.proxy_address(8999), "127.0.0.1:8999");
    }

    #[test]
    fn other_loopback_addresses_need_no_permission() {
        let listen = Listen::parse(Some("127.0.0.2:9000"), false, None).unwrap();
        assert_eq!(listen.proxy_address(9000), "127.0.0.2:9000");
        let listen = Listen::parse(Some("[::1]:0"), false, None).unwrap();
        assert_eq!(listen.proxy_address(5), "[::1]:5");
    }

    #[test]
    fn a_non_loopback_address_is_refused_unless_allowed() {
        let error = Listen::parse(Some("0.0.0.0:0"), false, Some("10.0.0.5")).unwrap_err();
        assert_eq!(
            error,
            ListenError::NotLoopback {
                given: "0.0.0.0:0".parse().unwrap()
            }
        );
        assert!(error.to_string().contains("--allow-non-loopback"));
        let error = Listen::parse(Some("10.0.0.5:8999"), false, None).unwrap_err();
        assert!(matches!(error, ListenError::NotLoopback { .. }));
        let listen = Listen::parse(Some("10.0.0.5:8999"), true, None).unwrap();
        assert_eq!(listen.bind, "10.0.0.5:8999".parse().unwrap());
        assert_eq!(listen.proxy_address(8999), "10.0.0.5:8999");
    }

    #[test]
    fn every_interface_needs_an_advertised_host() {
        let error = Listen::parse(Some("0.0.0.0:0"), true, None).unwrap_err();
        assert!(error.to_string().contains("--advertise HOST"), "{error}");
        let listen = Listen::parse(Some("0.0.0.0:0"), true, Some("runner.lan")).unwrap();
        assert_eq!(listen.bind, "0.0.0.0:0".parse().unwrap());
        assert_eq!(listen.proxy_address(40000), "runner.lan:40000");
    }

    #[test]
    fn garbage_is_not_an_address() {
        for given in ["", "localhost:0", "127.0.0.1", "1.2.3.4:99999"] {
            let error = Listen::parse(Some(given), true, None).unwrap_err();
            assert!(
                matches!(error, ListenError::NotAnAddress { .. }),
                "{given}: {error}"
            );
        }
    }
}
