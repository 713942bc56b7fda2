//! Certificates made at run time for each tunnelled host.
//!
//! Browsers run with `acceptInsecureCerts`, so nothing needs to chain to a
//! trusted root: a self-signed certificate per host is enough, and making
//! them on demand means any `*.test` name a case invents just works.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

use super::ServerError;

/// Per-host TLS server configurations, created on first use and then reused
/// so a page with many https frames pays for key generation once per host.
pub(crate) struct CertCache {
    provider: Arc<CryptoProvider>,
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl CertCache {
    /// Fails if the ring provider cannot offer any protocol version, which
    /// is a build problem worth surfacing at start rather than per tunnel.
    pub(crate) fn new() -> Result<Self, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        Ok(CertCache {
            provider,
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// The server config for `host` as it appeared in the CONNECT target
    /// (lowercase, IPv6 in brackets).
    pub(crate) fn config_for(&self, host: &str) -> Result<Arc<ServerConfig>, ServerError> {
        let mut configs = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = configs.get(host) {
            return Ok(config.clone());
        }
        // Generating under the lock keeps two tunnels to a new host from both
        // paying for a key; generation takes about a millisecond.
        let config = Arc::new(self.build(host)?);
        configs.insert(host.to_owned(), config.clone());
        Ok(config)
    }

    fn build(&self, host: &str) -> Result<ServerConfig, ServerError> {
        let (cert, key) = self_signed_for(host)?;
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| ServerError::Tls(format!("certificate for {host}: {e}")))?;
        // Only HTTP/1.1 is served; offering h2 would make browsers pick it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// The subjectAltName text rcgen should use for `host`: IP literals lose
/// their brackets so rcgen emits an IP SAN, and a trailing dot is dropped
/// because a dNSName SAN must not carry one.
pub(crate) fn san_for(host: &str) -> String {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if unbracketed.parse::<IpAddr>().is_ok() {
        return unbracketed.to_owned();
    }
    unbracketed
        .strip_suffix('.')
        .unwrap_or(unbracketed)
        .to_owned()
}

/// A fresh self-signed certificate and its PKCS#8 key for `host`.
pub(crate) fn self_signed_for(
    host: &str,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), ServerError> {
    let certified = rcgen::generate_simple_self_signed(vec![san_for(host)])
        .map_err(|e| ServerError::Tls(format!("generating certificate for {host}: {e}")))?;
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    Ok((certified.cert.der().clone(), PrivateKeyDer::Pkcs8(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True if the DER contains a GeneralName with this context tag and value.
    /// A byte scan is enough here: the SAN value is unlikely to occur by
    /// chance right after its own tag and length.
    fn has_general_name(der: &[u8], tag: u8, value: &[u8]) -> bool {
        let mut needle = vec![tag, value.len() as u8];
        needle.extend_from_slice(value);
        der.windows(needle.len()).any(|w| w == needle.as_slice())
    }

    #[test]
    fn san_text_drops_brackets_and_trailing_dot() {
        assert_eq!(san_for("a.test"), "a.test");
        assert_eq!(san_for("a.test."), "a.test");
        assert_eq!(san_for("[::1]"), "::1");
        assert_eq!(san_for("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn name_gets_dns_san() {
        let (cert, _) = self_signed_for("xn--bcher-kva.test").unwrap();
        assert!(has_general_name(&cert, 0x82, b"xn--bcher-kva.test"));
        assert!(!has_general_name(&cert, 0x82, b"a.test"));
    }

    #[test]
    fn ip_literals_get_ip_san() {
        let (cert, _) = self_signed_for("127.0.0.1").unwrap();
        assert!(has_general_name(&cert, 0x87, &[127, 0, 0, 1]));
        assert!(!has_general_name(&cert, 0x82, b"127.0.0.1"));
        let (cert, _) = self_signed_for("[::1]").unwrap();
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert!(has_general_name(&cert, 0x87, &v6));
    }

    #[test]
    fn configs_are_cached_per_host_and_offer_only_http11() {
        let cache = CertCache::new().unwrap();
        let a1 = cache.config_for("a.test").unwrap();
        let a2 = cache.config_for("a.test").unwrap();
        let b = cache.config_for("b.test").unwrap();
        assert!(Arc::ptr_eq(&a1, &a2));
        assert!(!Arc::ptr_eq(&a1, &b));
        assert_eq!(a1.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
