//! The WebDriver capabilities pmconf asks each engine for.
//!
//! All three engines send every request to one local server (pmconf's fake
//! web, which is also a forward proxy) and accept its self-signed
//! certificates. Values are the ones measured to work in
//! `shared/browser-notes.md`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::id::EngineId;

/// Capabilities for a new session of `engine`.
///
/// - `proxy` is the forward proxy as `"127.0.0.1:PORT"`;
/// - `profile_dir` is a fresh, empty directory the browser may use as its
///   profile (Chromium and Firefox; WebKit's automation mode keeps its data
///   in memory);
/// - `browser_binary` is the browser found by discovery.
pub fn capabilities(
    engine: EngineId,
    proxy: &str,
    profile_dir: &Path,
    browser_binary: &Path,
) -> Map<String, Value> {
    let capabilities = match engine {
        EngineId::Chromium => chromium(proxy, profile_dir, browser_binary),
        EngineId::Firefox => firefox(proxy, profile_dir, browser_binary),
        EngineId::WebKitGtk => webkitgtk(proxy, browser_binary),
    };
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!("capabilities are built as JSON objects"),
    }
}

/// The W3C proxy capability sending both http and https to `proxy`.
fn manual_proxy(proxy: &str) -> Value {
    json!({"proxyType": "manual", "httpProxy": proxy, "sslProxy": proxy})
}

fn chromium(proxy: &str, profile_dir: &Path, browser_binary: &Path) -> Value {
    json!({
        "browserName": "chrome",
        "acceptInsecureCerts": true,
        "proxy": manual_proxy(proxy),
        "goog:chromeOptions": {
            "binary": browser_binary.to_string_lossy(),
            "args": [
                "--headless=new",
                // Running as root, Chromium refuses to start without it.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-popup-blocking",
                // Without this, loopback addresses never reach the proxy.
                "--proxy-bypass-list=<-loopback>",
                format!("--user-data-dir={}", profile_dir.display()),
            ],
        },
    })
}

fn firefox(proxy: &str, profile_dir: &Path, browser_binary: &Path) -> Value {
    json!({
        "browserName": "firefox",
        "acceptInsecureCerts": true,
        "proxy": manual_proxy(proxy),
        "moz:firefoxOptions": {
            "binary": browser_binary.to_string_lossy(),
            // `-profile` makes geckodriver use our directory (removed with
            // the session) instead of its own /tmp/rust_mozprofile* copy,
            // which a killed geckodriver would leave behind.
            "args": ["-headless", "-profile", profile_dir.to_string_lossy()],
            "prefs": {
                // Without this, loopback addresses never reach the proxy.
                "network.proxy.allow_hijacking_localhost": true,
                // Allow window.open without a user gesture.
                "dom.disable_open_during_load": false,
                "browser.shell.checkDefaultBrowser": false,
            },
        },
    })
}

fn webkitgtk(proxy: &str, browser_binary: &Path) -> Value {
    json!({
        "acceptInsecureCerts": true,
        // No W3C `proxy` capability: WebKit's sslProxy sends TLS straight to
        // the proxy instead of CONNECT. MiniBrowser's `--proxy=` covers both.
        "webkitgtk:browserOptions": {
            "binary": browser_binary.to_string_lossy(),
            "args": [
                "--automation",
                format!("--proxy=http://{proxy}"),
                // A WebKitSettings property MiniBrowser exposes as a flag
                // (`MiniBrowser --help-websettings`). Without it,
                // `window.open` from script returns null.
                "--javascript-can-open-windows-automatically=true",
            ],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY: &str = "127.0.0.1:8999";

    fn for_engine(engine: EngineId) -> Value {
        Value::Object(capabilities(
            engine,
            PROXY,
            Path::new("/tmp/pmconf-profile"),
            Path::new("/opt/browser/bin"),
        ))
    }

    fn strings(value: &Value) -> Vec<&str> {
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|v| v.as_str().expect("a string"))
            .collect()
    }

    #[test]
    fn every_engine_accepts_the_proxy_self_signed_certificates() {
        for engine in EngineId::ALL {
            assert_eq!(for_engine(engine)["acceptInsecureCerts"], true, "{engine}");
        }
    }

    #[test]
    fn chromium_uses_the_manual_proxy_and_its_flags() {
        let caps = for_engine(EngineId::Chromium);
        assert_eq!(caps["browserName"], "chrome");
        assert_eq!(
            caps["proxy"],
            json!({"proxyType": "manual", "httpProxy": PROXY, "sslProxy": PROXY})
        );
        let options = &caps["goog:chromeOptions"];
        assert_eq!(options["binary"], "/opt/browser/bin");
        assert_eq!(
            strings(&options["args"]),
            [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-popup-blocking",
                "--proxy-bypass-list=<-loopback>",
                "--user-data-dir=/tmp/pmconf-profile",
            ]
        );
    }

    #[test]
    fn firefox_uses_the_manual_proxy_its_profile_and_prefs() {
        let caps = for_engine(EngineId::Firefox);
        assert_eq!(caps["browserName"], "firefox");
        assert_eq!(
            caps["proxy"],
            json!({"proxyType": "manual", "httpProxy": PROXY, "sslProxy": PROXY})
        );
        let options = &caps["moz:firefoxOptions"];
        assert_eq!(options["binary"], "/opt/browser/bin");
        assert_eq!(
            strings(&options["args"]),
            ["-headless", "-profile", "/tmp/pmconf-profile"]
        );
        assert_eq!(
            options["prefs"],
            json!({
                "network.proxy.allow_hijacking_localhost": true,
                "dom.disable_open_during_load": false,
                "browser.shell.checkDefaultBrowser": false,
            })
        );
    }

    #[test]
    fn webkit_passes_the_proxy_to_minibrowser_not_as_a_capability() {
        let caps = for_engine(EngineId::WebKitGtk);
        assert!(caps.get("proxy").is_none(), "sslProxy is broken in WebKit");
        assert!(caps.get("browserName").is_none());
        let options = &caps["webkitgtk:browserOptions"];
        assert_eq!(options["binary"], "/opt/browser/bin");
        assert_eq!(
            strings(&options["args"]),
            [
                "--automation",
                "--proxy=http://127.0.0.1:8999",
                "--javascript-can-open-windows-automatically=true",
            ]
        );
    }

    #[test]
    fn engines_get_only_their_own_vendor_options() {
        let vendor_keys = |engine| -> Vec<String> {
            for_engine(engine)
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| key.contains(':'))
                .cloned()
                .collect()
        };
        assert_eq!(vendor_keys(EngineId::Chromium), ["goog:chromeOptions"]);
        assert_eq!(vendor_keys(EngineId::Firefox), ["moz:firefoxOptions"]);
        assert_eq!(
            vendor_keys(EngineId::WebKitGtk),
            ["webkitgtk:browserOptions"]
        );
    }
}
