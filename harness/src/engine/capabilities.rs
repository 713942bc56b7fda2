//! The WebDriver capabilities pmconf asks each engine for.
//!
//! All three engines send every request to one local server (pmconf's fake
//! web, which is also a forward proxy) and accept its self-signed
//! certificates. Values are the ones measured to work in
//! `shared/browser-notes.md`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::id::EngineId;

/// Where a session's browser runs, which decides what the capabilities may
/// name.
#[derive(Debug, Clone, Copy)]
pub enum Placement<'a> {
    /// A driver pmconf starts on this machine.
    Local {
        /// A fresh, empty directory the browser may use as its profile
        /// (Chromium and Firefox; WebKit's automation mode keeps its data in
        /// memory).
        profile_dir: &'a Path,
        /// The browser found by discovery.
        browser_binary: &'a Path,
    },
    /// A remote WebDriver endpoint (a Selenium Grid): every path is read on
    /// the node, so no profile directory is sent (the drivers make and
    /// remove their own), and the browser binary only when the user named
    /// one or the engine needs it ([`RemoteBinary`]).
    Remote {
        /// The browser binary on the node, if the user named one.
        browser_binary: Option<&'a Path>,
    },
}

/// How an engine's capabilities differ between a local driver and a remote
/// endpoint, as data (`shared/grid-notes.md`, "Capabilities that work
/// through Grid").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementRules {
    /// The engine.
    pub engine: EngineId,
    /// `browserName` for a local driver; `None` leaves it out.
    pub local_browser_name: Option<&'static str>,
    /// `browserName` for a remote endpoint. A Grid matches slots on it
    /// alone: without one, a request goes to any free slot.
    pub remote_browser_name: &'static str,
    /// The vendor options object that holds `binary` and `args`.
    pub options_key: &'static str,
    /// Arguments naming the profile directory (`{dir}` is replaced); sent
    /// only to a local driver.
    pub profile_args: &'static [&'static str],
    /// Who names the browser binary remotely.
    pub remote_binary: RemoteBinary,
}

/// Who names the browser binary when the session is remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteBinary {
    /// The node: its stereotype's binary is used (and wins over ours).
    Node,
    /// The client must send it (a Grid merges nothing for this engine);
    /// this path is used when the user named none.
    Client(&'static str),
}

/// The placement rules of every engine, in [`EngineId::ALL`] order.
pub const PLACEMENT_RULES: [PlacementRules; 3] = [
    PlacementRules {
        engine: EngineId::Chromium,
        local_browser_name: Some("chrome"),
        remote_browser_name: "chrome",
        options_key: "goog:chromeOptions",
        profile_args: &["--user-data-dir={dir}"],
        remote_binary: RemoteBinary::Node,
    },
    PlacementRules {
        engine: EngineId::Firefox,
        local_browser_name: Some("firefox"),
        remote_browser_name: "firefox",
        options_key: "moz:firefoxOptions",
        // `-profile` makes geckodriver use our directory (removed with the
        // session) instead of its own /tmp/rust_mozprofile* copy, which a
        // killed geckodriver would leave behind.
        profile_args: &["-profile", "{dir}"],
        remote_binary: RemoteBinary::Node,
    },
    PlacementRules {
        engine: EngineId::WebKitGtk,
        // WebKitWebDriver accepts any session without one.
        local_browser_name: None,
        // What the Grid extension in scripts/grid-webkitgtk serves.
        remote_browser_name: "MiniBrowser",
        options_key: "webkitgtk:browserOptions",
        profile_args: &[],
        remote_binary: RemoteBinary::Client("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
    },
];

impl PlacementRules {
    /// The rules of `engine`.
    pub fn of(engine: EngineId) -> &'static PlacementRules {
        PLACEMENT_RULES
            .iter()
            .find(|rules| rules.engine == engine)
            .expect("every engine has placement rules")
    }
}

/// Capabilities for a new session of `engine`, whose browser sends every
/// request to the forward proxy `proxy` (`"HOST:PORT"`, an address the
/// browser's machine reaches), placed as `placement` says.
pub fn capabilities(engine: EngineId, proxy: &str, placement: Placement<'_>) -> Map<String, Value> {
    let mut capabilities = match engine {
        EngineId::Chromium => chromium(proxy),
        EngineId::Firefox => firefox(proxy),
        EngineId::WebKitGtk => webkitgtk(proxy),
    };
    let rules = PlacementRules::of(engine);
    let (browser_name, binary) = match placement {
        Placement::Local {
            profile_dir,
            browser_binary,
        } => {
            let dir = profile_dir.to_string_lossy();
            let args = capabilities[rules.options_key]["args"]
                .as_array_mut()
                .expect("every engine's options have args");
            args.extend(
                rules
                    .profile_args
                    .iter()
                    .map(|arg| Value::from(arg.replace("{dir}", &dir))),
            );
            (
                rules.local_browser_name,
                Some(browser_binary.to_string_lossy().into_owned()),
            )
        }
        Placement::Remote { browser_binary } => {
            let binary = match (browser_binary, rules.remote_binary) {
                (Some(path), _) => Some(path.to_string_lossy().into_owned()),
                (None, RemoteBinary::Client(default)) => Some(default.to_owned()),
                (None, RemoteBinary::Node) => None,
            };
            (Some(rules.remote_browser_name), binary)
        }
    };
    if let Some(binary) = binary {
        capabilities[rules.options_key]["binary"] = Value::from(binary);
    }
    let Value::Object(mut map) = capabilities else {
        unreachable!("capabilities are built as JSON objects")
    };
    if let Some(name) = browser_name {
        // First, as a Grid's logs and a driver's errors list it.
        map.shift_insert(0, "browserName".to_owned(), Value::from(name));
    }
    map
}

/// Adds `args` to the browser arguments in `capabilities` (an engine
/// instance's own, after pmconf's).
pub fn add_browser_args(capabilities: &mut Map<String, Value>, engine: EngineId, args: &[String]) {
    let key = PlacementRules::of(engine).options_key;
    if let Some(Value::Array(list)) = capabilities
        .get_mut(key)
        .and_then(|options| options.get_mut("args"))
    {
        list.extend(args.iter().cloned().map(Value::from));
    }
}

/// The W3C proxy capability sending both http and https to `proxy`.
fn manual_proxy(proxy: &str) -> Value {
    json!({"proxyType": "manual", "httpProxy": proxy, "sslProxy": proxy})
}

fn chromium(proxy: &str) -> Value {
    json!({
        "acceptInsecureCerts": true,
        "proxy": manual_proxy(proxy),
        "goog:chromeOptions": {
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
            ],
        },
    })
}

fn firefox(proxy: &str) -> Value {
    json!({
        "acceptInsecureCerts": true,
        "proxy": manual_proxy(proxy),
        "moz:firefoxOptions": {
            "args": ["-headless"],
            "prefs": {
                // Without this, loopback addresses never reach the proxy.
                "network.proxy.allow_hijacking_localhost": true,
                // Allow window.open without a user gesture.
                "dom.disable_open_during_load": false,
                "browser.shell.checkDefaultBrowser": false,
                // Every agent document opens a WebSocket (the channel). A
                // document replaced while its socket connects counts as
                // a failed connection, and Firefox then delays every
                // later connection to that host, up to a minute (RFC 6455
                // section 7.2.3); nor may a run's idle slots and windows
                // run into its default cap of 200 sockets.
                "network.websocket.delay-failed-reconnects": false,
                "network.websocket.max-connections": 2000,
            },
        },
    })
}

fn webkitgtk(proxy: &str) -> Value {
    json!({
        "acceptInsecureCerts": true,
        // No W3C `proxy` capability: WebKit's sslProxy sends TLS straight to
        // the proxy instead of CONNECT. MiniBrowser's `--proxy=` covers both.
        "webkitgtk:browserOptions": {
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
            Placement::Local {
                profile_dir: Path::new("/tmp/pmconf-profile"),
                browser_binary: Path::new("/opt/browser/bin"),
            },
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
                "network.websocket.delay-failed-reconnects": false,
                "network.websocket.max-connections": 2000,
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

    fn remote(engine: EngineId, binary: Option<&str>) -> Value {
        Value::Object(capabilities(
            engine,
            "10.0.0.5:8999",
            Placement::Remote {
                browser_binary: binary.map(Path::new),
            },
        ))
    }

    /// grid-notes.md: the requests verified through Grid, with the proxy at
    /// an address the node reaches.
    #[test]
    fn remote_chromium_sends_no_profile_and_leaves_the_binary_to_the_node() {
        assert_eq!(
            remote(EngineId::Chromium, None),
            json!({"browserName":"chrome","acceptInsecureCerts":true,
             "proxy":{"proxyType":"manual","httpProxy":"10.0.0.5:8999","sslProxy":"10.0.0.5:8999"},
             "goog:chromeOptions":{"args":["--headless=new","--no-sandbox",
               "--disable-gpu","--disable-background-networking","--disable-component-update","--no-first-run",
               "--disable-sync","--disable-popup-blocking","--proxy-bypass-list=<-loopback>"]}})
        );
    }

    #[test]
    fn remote_firefox_sends_no_profile_and_leaves_the_binary_to_the_node() {
        assert_eq!(
            remote(EngineId::Firefox, None),
            json!({"browserName":"firefox","acceptInsecureCerts":true,
             "proxy":{"proxyType":"manual","httpProxy":"10.0.0.5:8999","sslProxy":"10.0.0.5:8999"},
             "moz:firefoxOptions":{"args":["-headless"],
               "prefs":{"network.proxy.allow_hijacking_localhost":true,"dom.disable_open_during_load":false,
                        "browser.shell.checkDefaultBrowser":false,
                        "network.websocket.delay-failed-reconnects":false,
                        "network.websocket.max-connections":2000}}})
        );
    }

    #[test]
    fn remote_webkit_names_minibrowser_and_sends_the_node_side_binary() {
        assert_eq!(
            remote(EngineId::WebKitGtk, None),
            json!({"browserName":"MiniBrowser","acceptInsecureCerts":true,
             "webkitgtk:browserOptions":{"args":["--automation","--proxy=http://10.0.0.5:8999",
               "--javascript-can-open-windows-automatically=true"],
               "binary":"/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"}})
        );
    }

    #[test]
    fn a_binary_the_user_names_is_sent_to_a_remote_endpoint() {
        for engine in EngineId::ALL {
            let caps = remote(engine, Some("/opt/nightly/browser"));
            let key = PlacementRules::of(engine).options_key;
            assert_eq!(caps[key]["binary"], "/opt/nightly/browser", "{engine}");
        }
    }

    #[test]
    fn no_remote_request_names_a_local_directory() {
        for engine in EngineId::ALL {
            let text = remote(engine, None).to_string();
            assert!(!text.contains("profile"), "{engine}: {text}");
            assert!(!text.contains("user-data-dir"), "{engine}: {text}");
            assert!(!text.contains("/tmp"), "{engine}: {text}");
        }
    }

    #[test]
    fn an_instance_args_come_after_pmconfs_own() {
        for engine in EngineId::ALL {
            let mut caps = capabilities(
                engine,
                PROXY,
                Placement::Remote {
                    browser_binary: None,
                },
            );
            add_browser_args(&mut caps, engine, &["--one".into(), "--two=2".into()]);
            let key = PlacementRules::of(engine).options_key;
            let args = strings(&caps[key]["args"]);
            assert_eq!(args[args.len() - 2..], ["--one", "--two=2"], "{engine}");
            assert!(args.len() > 2, "pmconf's own arguments stay: {engine}");
        }
    }

    #[test]
    fn every_engine_has_rules_and_they_are_in_report_order() {
        assert_eq!(PLACEMENT_RULES.map(|r| r.engine), EngineId::ALL);
    }
}
