//! Each engine described as data, in the style of wptrunner's product
//! modules: where its binaries live, how to read their versions, how to
//! install what is missing, how to start its WebDriver server, and the
//! quirks the rest of the harness must work around.
//!
//! Facts here were measured on Debian 12; see `shared/browser-notes.md`.

use std::fmt;

use super::id::EngineId;

/// Script in the repository that installs every engine (idempotent).
pub const INSTALL_SCRIPT: &str = "scripts/install-engines";

/// Everything pmconf needs to know about one engine, as data.
#[derive(Debug)]
pub struct EngineDescription {
    /// Which engine this describes.
    pub id: EngineId,
    /// Human-readable name for reports (`"Firefox ESR"`).
    pub display_name: &'static str,
    /// The browser binary.
    pub browser: BinarySpec,
    /// The WebDriver server binary.
    pub driver: BinarySpec,
    /// Arguments for the WebDriver server; `{port}` is replaced by the port.
    pub driver_args: &'static [&'static str],
    /// How many WebDriver sessions one server process can hold.
    pub sessions_per_driver: SessionsPerDriver,
    /// Behaviours the harness must work around.
    pub quirks: &'static [Quirk],
}

/// One binary an engine needs, with where to look for it and how to get it.
#[derive(Debug)]
pub struct BinarySpec {
    /// Name shown in reports (`"chromedriver"`).
    pub name: &'static str,
    /// Places to look, first match wins.
    pub candidates: &'static [BinaryLocation],
    /// How to learn which version is installed.
    pub version: VersionSource,
    /// How to install it when missing.
    pub install: InstallStep,
}

/// Where a binary may be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryLocation {
    /// An executable of this name in a `PATH` directory.
    OnPath(&'static str),
    /// An absolute path that is not on `PATH` (WebKitGTK's MiniBrowser).
    Fixed(&'static str),
    /// An executable of this name in `$CARGO_HOME/bin` (default `~/.cargo/bin`),
    /// where `cargo install` puts it even when that directory is not on `PATH`.
    CargoBin(&'static str),
}

/// How to read a binary's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// Run the binary with this single argument and parse what it prints.
    Flag(&'static str),
    /// Only a running session tells (the `browserVersion` capability):
    /// `WebKitWebDriver --version` prints usage, and `MiniBrowser --version`
    /// needs an X display.
    SessionCapability,
    /// The binary cannot tell its version.
    Unavailable,
}

/// How to install a missing binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallStep {
    /// A Debian package.
    Apt(&'static str),
    /// A crate installed with `cargo install --locked`.
    Cargo(&'static str),
}

impl fmt::Display for InstallStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstallStep::Apt(package) => f.write_str(&apt_install_command(&[package])),
            InstallStep::Cargo(krate) => write!(f, "cargo install {krate} --locked"),
        }
    }
}

/// The `apt-get` command line that installs `packages` (as root).
pub fn apt_install_command(packages: &[&str]) -> String {
    format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    )
}

/// How many sessions one WebDriver server process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionsPerDriver {
    /// Exactly one: a second `POST /session` fails ("Session is already
    /// started", "Maximum number of active sessions").
    One,
    /// Several at once. pmconf still starts one server per session, so that
    /// ending a session ends every process it started.
    Many,
}

/// A behaviour of an engine that the harness works around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// Has no headless mode: needs an X display (pmconf starts Xvfb when
    /// `DISPLAY` is unset). Without one, `POST /session` hangs.
    NeedsDisplay,
    /// As root, the browser only starts with `--no-sandbox`
    /// ("session not created: Chrome instance exited").
    NeedsNoSandboxAsRoot,
    /// The W3C `sslProxy` capability is broken (TLS is sent straight to the
    /// proxy instead of `CONNECT`), so the proxy is given as a browser
    /// argument that covers http and https.
    ProxyOnlyAsBrowserArgument,
    /// `localhost` and `127.0.0.1` bypass the proxy unless told otherwise.
    LoopbackBypassesProxy,
    /// Helper processes leave the driver's process tree or outlive a killed
    /// driver (MiniBrowser, WebKitNetworkProcess, crash handlers), so they
    /// must be tracked and ended individually.
    HelpersOutliveDriver,
}

impl Quirk {
    /// One line saying what the quirk is and what pmconf does about it.
    pub const fn explanation(self) -> &'static str {
        match self {
            Quirk::NeedsDisplay => "needs an X display; pmconf starts Xvfb when DISPLAY is unset",
            Quirk::NeedsNoSandboxAsRoot => "needs --no-sandbox when run as root",
            Quirk::ProxyOnlyAsBrowserArgument => {
                "sslProxy capability is broken; the proxy is passed as --proxy= to the browser"
            }
            Quirk::LoopbackBypassesProxy => {
                "localhost and 127.0.0.1 bypass the proxy by default; pmconf overrides that"
            }
            Quirk::HelpersOutliveDriver => {
                "helper processes outlive a killed driver; pmconf tracks and ends them"
            }
        }
    }
}

static CHROMIUM: EngineDescription = EngineDescription {
    id: EngineId::Chromium,
    display_name: "Chromium",
    browser: BinarySpec {
        name: "chromium",
        candidates: &[
            BinaryLocation::OnPath("chromium"),
            BinaryLocation::OnPath("chromium-browser"),
        ],
        version: VersionSource::Flag("--version"),
        install: InstallStep::Apt("chromium"),
    },
    driver: BinarySpec {
        name: "chromedriver",
        candidates: &[BinaryLocation::OnPath("chromedriver")],
        version: VersionSource::Flag("--version"),
        install: InstallStep::Apt("chromium-driver"),
    },
    driver_args: &["--port={port}"],
    sessions_per_driver: SessionsPerDriver::Many,
    quirks: &[
        Quirk::NeedsNoSandboxAsRoot,
        Quirk::LoopbackBypassesProxy,
        Quirk::HelpersOutliveDriver,
    ],
};

static FIREFOX: EngineDescription = EngineDescription {
    id: EngineId::Firefox,
    display_name: "Firefox ESR",
    browser: BinarySpec {
        name: "firefox-esr",
        candidates: &[
            BinaryLocation::OnPath("firefox-esr"),
            BinaryLocation::OnPath("firefox"),
        ],
        version: VersionSource::Flag("--version"),
        install: InstallStep::Apt("firefox-esr"),
    },
    driver: BinarySpec {
        name: "geckodriver",
        candidates: &[
            BinaryLocation::OnPath("geckodriver"),
            BinaryLocation::CargoBin("geckodriver"),
        ],
        version: VersionSource::Flag("--version"),
        install: InstallStep::Cargo("geckodriver"),
    },
    // The browser binary goes into `moz:firefoxOptions.binary`, not `--binary`,
    // so that one place (the capabilities) says which Firefox runs.
    driver_args: &["--port", "{port}", "--host", "127.0.0.1"],
    sessions_per_driver: SessionsPerDriver::One,
    quirks: &[Quirk::LoopbackBypassesProxy, Quirk::HelpersOutliveDriver],
};

static WEBKITGTK: EngineDescription = EngineDescription {
    id: EngineId::WebKitGtk,
    display_name: "WebKitGTK MiniBrowser",
    browser: BinarySpec {
        name: "MiniBrowser",
        candidates: &[
            BinaryLocation::Fixed("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
            BinaryLocation::Fixed("/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser"),
            BinaryLocation::Fixed("/usr/libexec/webkit2gtk-4.1/MiniBrowser"),
            BinaryLocation::OnPath("MiniBrowser"),
        ],
        version: VersionSource::SessionCapability,
        // MiniBrowser ships in the same package as the driver.
        install: InstallStep::Apt("webkit2gtk-driver"),
    },
    driver: BinarySpec {
        name: "WebKitWebDriver",
        candidates: &[BinaryLocation::OnPath("WebKitWebDriver")],
        version: VersionSource::SessionCapability,
        install: InstallStep::Apt("webkit2gtk-driver"),
    },
    // `--host=127.0.0.1` because the default, "local", may bind only `::1`
    // while pmconf connects to 127.0.0.1.
    driver_args: &["--port={port}", "--host=127.0.0.1"],
    sessions_per_driver: SessionsPerDriver::One,
    quirks: &[
        Quirk::NeedsDisplay,
        Quirk::ProxyOnlyAsBrowserArgument,
        Quirk::HelpersOutliveDriver,
    ],
};

/// The X virtual framebuffer pmconf starts for engines with [`Quirk::NeedsDisplay`].
pub static XVFB: BinarySpec = BinarySpec {
    name: "Xvfb",
    candidates: &[BinaryLocation::OnPath("Xvfb")],
    // `Xvfb -version` is "Unrecognized option"; nothing depends on it.
    version: VersionSource::Unavailable,
    install: InstallStep::Apt("xvfb"),
};

impl EngineDescription {
    /// The description of `engine`.
    pub fn of(engine: EngineId) -> &'static EngineDescription {
        match engine {
            EngineId::Chromium => &CHROMIUM,
            EngineId::Firefox => &FIREFOX,
            EngineId::WebKitGtk => &WEBKITGTK,
        }
    }

    /// The WebDriver server's arguments for listening on `port`.
    pub fn driver_args_for_port(&self, port: u16) -> Vec<String> {
        let port = port.to_string();
        self.driver_args
            .iter()
            .map(|arg| arg.replace("{port}", &port))
            .collect()
    }

    /// Whether the engine has `quirk`.
    pub fn has_quirk(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_has_its_own_description() {
        for engine in EngineId::ALL {
            assert_eq!(EngineDescription::of(engine).id, engine);
        }
    }

    #[test]
    fn driver_command_lines_match_each_driver_syntax() {
        assert_eq!(
            EngineDescription::of(EngineId::Chromium).driver_args_for_port(4444),
            ["--port=4444"]
        );
        assert_eq!(
            EngineDescription::of(EngineId::Firefox).driver_args_for_port(4444),
            ["--port", "4444", "--host", "127.0.0.1"]
        );
        assert_eq!(
            EngineDescription::of(EngineId::WebKitGtk).driver_args_for_port(4444),
            ["--port=4444", "--host=127.0.0.1"]
        );
    }

    #[test]
    fn only_chromium_shares_a_driver_between_sessions() {
        assert_eq!(
            EngineId::ALL.map(|e| e.description().sessions_per_driver),
            [
                SessionsPerDriver::Many,
                SessionsPerDriver::One,
                SessionsPerDriver::One
            ]
        );
    }

    #[test]
    fn only_webkit_needs_a_display() {
        for engine in EngineId::ALL {
            assert_eq!(
                engine.description().has_quirk(Quirk::NeedsDisplay),
                engine == EngineId::WebKitGtk
            );
        }
    }

    #[test]
    fn webkit_versions_come_from_the_session() {
        let webkit = EngineId::WebKitGtk.description();
        assert_eq!(webkit.browser.version, VersionSource::SessionCapability);
        assert_eq!(webkit.driver.version, VersionSource::SessionCapability);
        assert_eq!(
            EngineId::Chromium.description().driver.version,
            VersionSource::Flag("--version")
        );
    }

    #[test]
    fn install_steps_print_the_exact_commands() {
        assert_eq!(
            InstallStep::Apt("chromium-driver").to_string(),
            "apt-get update && apt-get install -y --no-install-recommends chromium-driver"
        );
        assert_eq!(
            InstallStep::Cargo("geckodriver").to_string(),
            "cargo install geckodriver --locked"
        );
    }
}
