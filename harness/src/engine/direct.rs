//! A browser pmconf starts itself, without a WebDriver server: the engine's
//! own binary, pointed at pmconf's proxy, opening one URL (`pmconf serve
//! --browser`). No automation of any kind runs in it, so what a page shows
//! there is what a page shows anywhere: the standard a finding must meet.
//!
//! The arguments and preferences are those of a WebDriver session
//! ([`super::capabilities`]), plus what the driver would otherwise set:
//! the proxy, a fresh profile, and (Chromium, WebKitGTK) accepting
//! pmconf's self-made certificates. Firefox has no such switch outside
//! automation, so in it `https:` pages do not load: run http cases there.

use super::capabilities::{firefox_prefs, webkitgtk_args, CHROMIUM_ARGS};
use super::description::Quirk;
use super::display::{start_xvfb, XvfbDisplay};
use super::{
    discover, EngineId, Missing, MissingBinary, ProcessHandle, ProcessRegistry, SetupError,
};
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// A browser started without a driver; ended with [`DirectBrowser::end`]
/// (and by the registry on any exit).
pub struct DirectBrowser {
    process: ProcessHandle,
    display: Option<XvfbDisplay>,
    _dir: tempfile::TempDir,
}

impl DirectBrowser {
    /// Ends the browser (its whole process group) and its display.
    pub fn end(self, registry: &ProcessRegistry) {
        registry.end(&self.process);
        if let Some(d) = self.display {
            d.end(registry);
        }
    }
}

/// The command line that opens `url` in `engine`'s browser at `binary`
/// behind `proxy`, with its profile in `profile` (Firefox's preferences
/// written there first, as `user.js`).
fn command_line(
    engine: EngineId,
    binary: &Path,
    proxy: &str,
    profile: &Path,
    url: &str,
) -> std::io::Result<Vec<String>> {
    let mut args: Vec<String> = vec![binary.display().to_string()];
    match engine {
        EngineId::Chromium => {
            args.extend(CHROMIUM_ARGS.iter().map(|a| a.to_string()));
            args.push(format!("--proxy-server=http={proxy};https={proxy}"));
            args.push("--ignore-certificate-errors".into());
            args.push(format!("--user-data-dir={}", profile.display()));
        }
        EngineId::Firefox => {
            let (host, port) = proxy.rsplit_once(':').unwrap_or((proxy, "80"));
            let mut prefs = firefox_prefs();
            let extra = serde_json::json!({
                "network.proxy.type": 1,
                "network.proxy.http": host,
                "network.proxy.http_port": port.parse::<u16>().unwrap_or(80),
                "network.proxy.ssl": host,
                "network.proxy.ssl_port": port.parse::<u16>().unwrap_or(80),
                "network.proxy.no_proxies_on": "",
                "browser.startup.homepage_override.mstone": "ignore",
                "datareporting.policy.dataSubmissionEnabled": false,
                "app.update.disabledForTesting": true,
            });
            if let (Some(p), Some(e)) = (prefs.as_object_mut(), extra.as_object()) {
                p.extend(e.clone());
            }
            let user_js: String = prefs
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("user_pref({}, {v});\n", serde_json::Value::from(k.as_str())))
                .collect();
            std::fs::write(profile.join("user.js"), user_js)?;
            args.extend(["-headless", "-no-remote", "-profile"].map(String::from));
            args.push(profile.display().to_string());
        }
        EngineId::WebKitGtk => {
            args.extend(webkitgtk_args(proxy));
            args.push("--ignore-tls-errors".into());
        }
    }
    args.push(url.to_owned());
    Ok(args)
}

/// Starts `engine`'s installed browser on `url` behind `proxy`, with no
/// WebDriver server (and Xvfb when the engine needs a display).
pub async fn open_directly(
    engine: EngineId,
    proxy: &str,
    url: &str,
    registry: &ProcessRegistry,
) -> Result<DirectBrowser, SetupError> {
    let installed = discover(engine)?;
    let dir = tempfile::Builder::new()
        .prefix(&format!("pmconf-direct-{engine}-"))
        .tempdir()
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let profile = dir.path().join("profile");
    std::fs::create_dir(&profile)
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let args = command_line(engine, &installed.browser.path, proxy, &profile, url)
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let display = if engine.description().has_quirk(Quirk::NeedsDisplay)
        && std::env::var("DISPLAY").map_or(true, |d| d.is_empty())
    {
        let xvfb = installed.xvfb.as_deref().ok_or_else(|| Missing {
            engine,
            binaries: vec![MissingBinary {
                name: super::description::XVFB.name,
                looked_for: vec!["Xvfb".into()],
                install: super::description::XVFB.install,
            }],
        })?;
        Some(
            start_xvfb(xvfb, &dir.path().join("xvfb.log"), registry)
                .await
                .map_err(|source| SetupError::Display { engine, source })?,
        )
    } else {
        None
    };
    let log = std::fs::File::create(dir.path().join("browser.log"))
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let mut command = Command::new(&args[0]);
    command
        .args(&args[1..])
        .stdout(Stdio::from(log.try_clone().map_err(|source| {
            SetupError::SessionDirectory { engine, source }
        })?))
        .stderr(Stdio::from(log));
    if let Some(d) = &display {
        command.env("DISPLAY", d.name());
    }
    let process = registry
        .spawn(&format!("{engine} (no driver)"), &mut command)
        .map_err(|e| SetupError::DriverFailedToStart {
            engine,
            driver: installed.browser.path.clone(),
            reason: e.to_string(),
            output: String::new(),
        })?;
    Ok(DirectBrowser {
        process,
        display,
        _dir: dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_is_pointed_at_the_proxy_without_automation() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://pmconf.test/__pmconf/runner?token=t";
        let chromium = command_line(
            EngineId::Chromium,
            Path::new("/c"),
            "127.0.0.1:9",
            dir.path(),
            url,
        )
        .unwrap();
        assert!(chromium.contains(&"--proxy-server=http=127.0.0.1:9;https=127.0.0.1:9".to_owned()));
        assert!(chromium.contains(&"--disable-popup-blocking".to_owned()));
        assert_eq!(chromium.last().map(String::as_str), Some(url));
        assert!(!chromium
            .iter()
            .any(|a| a.contains("remote-debugging") || a.contains("automation")));

        let firefox = command_line(
            EngineId::Firefox,
            Path::new("/f"),
            "127.0.0.1:9",
            dir.path(),
            url,
        )
        .unwrap();
        assert!(
            !firefox.iter().any(|a| a.contains("marionette")),
            "{firefox:?}"
        );
        let user_js = std::fs::read_to_string(dir.path().join("user.js")).unwrap();
        for line in [
            "user_pref(\"network.proxy.type\", 1);",
            "user_pref(\"network.proxy.http\", \"127.0.0.1\");",
            "user_pref(\"network.proxy.ssl_port\", 9);",
            "user_pref(\"dom.disable_open_during_load\", false);",
            "user_pref(\"network.websocket.delay-failed-reconnects\", false);",
        ] {
            assert!(user_js.contains(line), "{line}\n{user_js}");
        }

        let webkit = command_line(
            EngineId::WebKitGtk,
            Path::new("/w"),
            "127.0.0.1:9",
            dir.path(),
            url,
        )
        .unwrap();
        assert!(webkit.contains(&"--proxy=http://127.0.0.1:9".to_owned()));
        assert!(!webkit.contains(&"--automation".to_owned()), "{webkit:?}");
    }
}
