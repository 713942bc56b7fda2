//! Finding each engine's binaries and their versions (`pmconf doctor`).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::description::{
    apt_install_command, BinaryLocation, BinarySpec, InstallStep, Quirk, VersionSource,
    INSTALL_SCRIPT, XVFB,
};
use super::id::EngineId;

/// How long `<binary> --version` may take before it is given up on.
const VERSION_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A binary found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundBinary {
    /// Where it is.
    pub path: PathBuf,
    /// Its version number (`"156.0.8078.79"`), when the binary tells it
    /// without a session. `None` for WebKit, whose version only a running
    /// session reports, or when `--version` printed nothing usable.
    pub version: Option<String>,
}

/// Everything needed to start sessions of one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The engine.
    pub engine: EngineId,
    /// The browser binary.
    pub browser: FoundBinary,
    /// The WebDriver server binary.
    pub driver: FoundBinary,
    /// The Xvfb binary, when the engine needs a display and `DISPLAY` was
    /// unset at discovery time.
    pub xvfb: Option<PathBuf>,
}

/// A binary that was looked for and not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingBinary {
    /// What it is (`"geckodriver"`).
    pub name: &'static str,
    /// Every place that was searched, in order.
    pub looked_for: Vec<String>,
    /// How to install it.
    pub install: InstallStep,
}

/// An engine that cannot run here, with what is missing and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The engine.
    pub engine: EngineId,
    /// What was not found.
    pub binaries: Vec<MissingBinary>,
}

impl Missing {
    /// The shell command that installs exactly what is missing: one
    /// `apt-get` line for the Debian packages, then any `cargo install`.
    pub fn install_command(&self) -> String {
        let mut packages = BTreeSet::new();
        let mut crates = BTreeSet::new();
        for binary in &self.binaries {
            match binary.install {
                InstallStep::Apt(package) => packages.insert(package),
                InstallStep::Cargo(krate) => crates.insert(krate),
            };
        }
        let mut commands = Vec::new();
        if !packages.is_empty() {
            let packages: Vec<&str> = packages.into_iter().collect();
            commands.push(apt_install_command(&packages));
        }
        commands.extend(
            crates
                .into_iter()
                .map(|k| InstallStep::Cargo(k).to_string()),
        );
        commands.join(" && ")
    }

    /// What to tell the user: run the install script, or the exact commands.
    pub fn fix(&self) -> String {
        format!(
            "run {INSTALL_SCRIPT} (as root), or: {}",
            self.install_command()
        )
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.binaries.iter().map(|b| b.name).collect();
        write!(
            f,
            "{} cannot run: {} not found. To fix, {}",
            self.engine,
            names.join(", "),
            self.fix()
        )
    }
}

impl std::error::Error for Missing {}

/// Where discovery looks. [`SearchEnv::from_process`] reads the real
/// environment; tests build one around a temporary directory.
#[derive(Debug, Clone)]
pub struct SearchEnv {
    /// The `PATH` value to search.
    pub path: Option<OsString>,
    /// `$CARGO_HOME`, or `~/.cargo`.
    pub cargo_home: Option<PathBuf>,
    /// The `DISPLAY` value; when set, no Xvfb is needed.
    pub display: Option<OsString>,
    /// Prefix for [`BinaryLocation::Fixed`] paths (`/` on a real system).
    pub root: PathBuf,
}

impl SearchEnv {
    /// The environment of this process.
    pub fn from_process() -> Self {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
        SearchEnv {
            path: std::env::var_os("PATH"),
            cargo_home,
            display: std::env::var_os("DISPLAY").filter(|d| !d.is_empty()),
            root: PathBuf::from("/"),
        }
    }

    /// The first executable among `candidates`, or every place looked at.
    fn locate(&self, candidates: &[BinaryLocation]) -> Result<PathBuf, Vec<String>> {
        let mut looked_for = Vec::new();
        for candidate in candidates {
            match *candidate {
                BinaryLocation::OnPath(name) => {
                    looked_for.push(format!("{name} on PATH"));
                    let dirs = self.path.as_deref().map(std::env::split_paths);
                    if let Some(found) = dirs
                        .into_iter()
                        .flatten()
                        .map(|dir| dir.join(name))
                        .find(|p| is_executable(p))
                    {
                        return Ok(found);
                    }
                }
                BinaryLocation::Fixed(path) => {
                    looked_for.push(path.to_owned());
                    let path = self.root.join(path.trim_start_matches('/'));
                    if is_executable(&path) {
                        return Ok(path);
                    }
                }
                BinaryLocation::CargoBin(name) => {
                    if let Some(cargo_home) = &self.cargo_home {
                        let path = cargo_home.join("bin").join(name);
                        looked_for.push(path.display().to_string());
                        if is_executable(&path) {
                            return Ok(path);
                        }
                    }
                }
            }
        }
        Err(looked_for)
    }
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Finds `engine`'s binaries in this process's environment.
pub fn discover(engine: EngineId) -> Result<Installed, Missing> {
    discover_in(engine, &SearchEnv::from_process())
}

/// Finds `engine`'s binaries in `env`, running `--version` where that works.
pub fn discover_in(engine: EngineId, env: &SearchEnv) -> Result<Installed, Missing> {
    let description = engine.description();
    let mut missing = Vec::new();
    let mut find = |spec: &BinarySpec| match env.locate(spec.candidates) {
        Ok(path) => Some(path),
        Err(looked_for) => {
            missing.push(MissingBinary {
                name: spec.name,
                looked_for,
                install: spec.install,
            });
            None
        }
    };
    let browser = find(&description.browser);
    let driver = find(&description.driver);
    let needs_xvfb = description.has_quirk(Quirk::NeedsDisplay) && env.display.is_none();
    let xvfb = if needs_xvfb { find(&XVFB) } else { None };

    match (browser, driver) {
        (Some(browser), Some(driver)) if missing.is_empty() => Ok(Installed {
            engine,
            browser: FoundBinary {
                version: read_version(&browser, description.browser.version),
                path: browser,
            },
            driver: FoundBinary {
                version: read_version(&driver, description.driver.version),
                path: driver,
            },
            xvfb,
        }),
        _ => Err(Missing {
            engine,
            binaries: missing,
        }),
    }
}

/// Runs `binary <flag>` and parses the version out of what it prints.
pub(crate) fn read_version(binary: &Path, source: VersionSource) -> Option<String> {
    let VersionSource::Flag(flag) = source else {
        return None;
    };
    let (stdout, stderr) = run_with_timeout(binary, flag, VERSION_COMMAND_TIMEOUT)?;
    // Debian's chromium wrapper prints shell noise on stderr; prefer stdout.
    parse_version(&stdout).or_else(|| parse_version(&stderr))
}

/// Runs a short command, killing it if it outlives `timeout`.
fn run_with_timeout(binary: &Path, arg: &str, timeout: Duration) -> Option<(String, String)> {
    let mut child = Command::new(binary)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + timeout;
    // Version output is a line or two, far below a pipe's capacity, so the
    // child cannot block on a full pipe while we poll.
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take()?.read_to_string(&mut stdout).ok()?;
    child.stderr.take()?.read_to_string(&mut stderr).ok()?;
    Some((stdout, stderr))
}

/// The version number in a `--version` line: the first word that starts
/// with a digit and contains a dot.
///
/// `"Chromium 156.0.8078.79 built on Debian"` gives `156.0.8078.79`,
/// `"Mozilla Firefox 153.7.0esr"` gives `153.7.0esr`.
pub fn parse_version(output: &str) -> Option<String> {
    output
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')')))
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()) && word.contains('.'))
        .map(str::to_owned)
}

/// The major version (`156` of `156.0.8078.79`).
pub fn major_version(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// One engine's line in `pmconf doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorLine {
    /// The engine.
    pub engine: EngineId,
    /// What was found, or what is missing.
    pub outcome: Result<Installed, Missing>,
    /// Problems that do not stop discovery but will likely stop a session.
    pub warnings: Vec<String>,
}

impl DoctorLine {
    /// Checks one engine.
    pub fn check(engine: EngineId, env: &SearchEnv) -> Self {
        let outcome = discover_in(engine, env);
        let warnings = outcome.as_ref().map(warnings_for).unwrap_or_default();
        DoctorLine {
            engine,
            outcome,
            warnings,
        }
    }

    /// Whether the engine can run.
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

fn warnings_for(installed: &Installed) -> Vec<String> {
    let mut warnings = Vec::new();
    // chromedriver refuses a Chromium of another major version ("This
    // version of ChromeDriver only supports Chrome version N").
    if installed.engine == EngineId::Chromium {
        let browser = installed.browser.version.as_deref().and_then(major_version);
        let driver = installed.driver.version.as_deref().and_then(major_version);
        if let (Some(browser), Some(driver)) = (browser, driver) {
            if browser != driver {
                warnings.push(format!(
                    "chromium {browser} and chromedriver {driver} differ in major version; \
                     install both from the same source ({INSTALL_SCRIPT})"
                ));
            }
        }
    }
    warnings
}

impl fmt::Display for DoctorLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let description = self.engine.description();
        match &self.outcome {
            Ok(installed) => {
                writeln!(f, "{}: ok ({})", self.engine, description.display_name)?;
                let version = |found: &FoundBinary, source| match (&found.version, source) {
                    (Some(version), _) => version.clone(),
                    (None, VersionSource::SessionCapability) => {
                        "version reported when a session starts".to_owned()
                    }
                    (None, VersionSource::Flag(flag)) => format!("{flag} printed no version"),
                    (None, VersionSource::Unavailable) => "version unknown".to_owned(),
                };
                writeln!(
                    f,
                    "  browser  {} ({})",
                    installed.browser.path.display(),
                    version(&installed.browser, description.browser.version)
                )?;
                write!(
                    f,
                    "  driver   {} ({})",
                    installed.driver.path.display(),
                    version(&installed.driver, description.driver.version)
                )?;
                if let Some(xvfb) = &installed.xvfb {
                    write!(f, "\n  display  {} (started on demand)", xvfb.display())?;
                }
            }
            Err(missing) => {
                writeln!(f, "{}: MISSING ({})", self.engine, description.display_name)?;
                for binary in &missing.binaries {
                    writeln!(
                        f,
                        "  {} not found (looked for: {})",
                        binary.name,
                        binary.looked_for.join(", ")
                    )?;
                }
                write!(f, "  fix: {}", missing.fix())?;
            }
        }
        for warning in &self.warnings {
            write!(f, "\n  warning: {warning}")?;
        }
        Ok(())
    }
}

/// Checks every engine, for `pmconf doctor`.
pub fn doctor() -> Vec<DoctorLine> {
    let env = SearchEnv::from_process();
    EngineId::ALL
        .into_iter()
        .map(|engine| DoctorLine::check(engine, &env))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search environment rooted in an empty temporary directory, with
    /// `bin/` as the only PATH entry.
    struct FakeSystem {
        root: tempfile::TempDir,
    }

    impl FakeSystem {
        fn new() -> Self {
            let root = tempfile::tempdir().unwrap();
            std::fs::create_dir(root.path().join("bin")).unwrap();
            FakeSystem { root }
        }

        fn env(&self, display: Option<&str>) -> SearchEnv {
            SearchEnv {
                path: Some(self.root.path().join("bin").into_os_string()),
                cargo_home: Some(self.root.path().join("cargo")),
                display: display.map(OsString::from),
                root: self.root.path().to_owned(),
            }
        }

        /// Installs an executable script at `relative` printing `stdout`.
        fn install(&self, relative: &str, stdout: &str) -> PathBuf {
            let path = self.root.path().join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("#!/bin/sh\necho '{stdout}'\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path
        }
    }

    #[test]
    fn parses_the_version_lines_seen_on_debian() {
        let cases = [
            (
                "Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)",
                "156.0.8078.79",
            ),
            (
                "ChromeDriver 156.0.8078.79 (a21ce95c24ce3964416f09ae1862f53f319eb4d0-refs/branch-heads/8078@{#1704})",
                "156.0.8078.79",
            ),
            ("Mozilla Firefox 153.7.0esr", "153.7.0esr"),
            (
                "geckodriver 0.37.1\n\nThe source code of this program is available from",
                "0.37.1",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_version(line).as_deref(), Some(expected), "{line}");
        }
        assert_eq!(parse_version("Usage: WebKitWebDriver options"), None);
        assert_eq!(parse_version(""), None);
        assert_eq!(major_version("156.0.8078.79"), Some(156));
        assert_eq!(major_version("esr"), None);
    }

    #[test]
    fn finds_binaries_and_reads_their_versions() {
        let system = FakeSystem::new();
        let browser = system.install("bin/chromium", "Chromium 9.8.7 built on test");
        let driver = system.install("bin/chromedriver", "ChromeDriver 9.8.7 (abc)");
        let installed = discover_in(EngineId::Chromium, &system.env(None)).unwrap();
        assert_eq!(installed.browser.path, browser);
        assert_eq!(installed.browser.version.as_deref(), Some("9.8.7"));
        assert_eq!(installed.driver.path, driver);
        assert_eq!(installed.driver.version.as_deref(), Some("9.8.7"));
        assert_eq!(installed.xvfb, None);
    }

    #[test]
    fn finds_geckodriver_in_cargo_bin_when_not_on_path() {
        let system = FakeSystem::new();
        system.install("bin/firefox-esr", "Mozilla Firefox 1.2.3esr");
        let driver = system.install("cargo/bin/geckodriver", "geckodriver 0.1.2");
        let installed = discover_in(EngineId::Firefox, &system.env(None)).unwrap();
        assert_eq!(installed.driver.path, driver);
        assert_eq!(installed.browser.version.as_deref(), Some("1.2.3esr"));
    }

    #[test]
    fn missing_everything_names_each_binary_and_the_exact_commands() {
        let system = FakeSystem::new();
        let chromium = discover_in(EngineId::Chromium, &system.env(None)).unwrap_err();
        assert_eq!(
            chromium.binaries.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["chromium", "chromedriver"]
        );
        assert_eq!(
            chromium.install_command(),
            "apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver"
        );
        assert!(chromium.fix().starts_with("run scripts/install-engines"));
        assert!(chromium
            .to_string()
            .contains("chromium, chromedriver not found"));

        let firefox = discover_in(EngineId::Firefox, &system.env(None)).unwrap_err();
        assert_eq!(
            firefox.install_command(),
            "apt-get update && apt-get install -y --no-install-recommends firefox-esr \
             && cargo install geckodriver --locked"
        );
        assert!(firefox.binaries[1]
            .looked_for
            .iter()
            .any(|place| place.ends_with("cargo/bin/geckodriver")));

        // MiniBrowser and WebKitWebDriver come from one package; Xvfb is
        // needed because DISPLAY is unset.
        let webkit = discover_in(EngineId::WebKitGtk, &system.env(None)).unwrap_err();
        assert_eq!(
            webkit.binaries.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["MiniBrowser", "WebKitWebDriver", "Xvfb"]
        );
        assert_eq!(
            webkit.install_command(),
            "apt-get update && apt-get install -y --no-install-recommends webkit2gtk-driver xvfb"
        );
    }

    #[test]
    fn only_the_missing_driver_is_named() {
        let system = FakeSystem::new();
        system.install("bin/firefox-esr", "Mozilla Firefox 1.2.3esr");
        let missing = discover_in(EngineId::Firefox, &system.env(None)).unwrap_err();
        assert_eq!(missing.binaries.len(), 1);
        assert_eq!(
            missing.install_command(),
            "cargo install geckodriver --locked"
        );
    }

    #[test]
    fn webkit_needs_xvfb_only_without_a_display() {
        let system = FakeSystem::new();
        let browser = system.install(
            "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            "never run",
        );
        system.install("bin/WebKitWebDriver", "Usage: WebKitWebDriver options");

        let with_display = discover_in(EngineId::WebKitGtk, &system.env(Some(":0"))).unwrap();
        assert_eq!(with_display.browser.path, browser);
        assert_eq!(with_display.browser.version, None, "only a session tells");
        assert_eq!(with_display.xvfb, None);

        let missing = discover_in(EngineId::WebKitGtk, &system.env(None)).unwrap_err();
        assert_eq!(missing.binaries.len(), 1);
        assert_eq!(missing.binaries[0].name, "Xvfb");

        let xvfb = system.install("bin/Xvfb", "");
        let headless = discover_in(EngineId::WebKitGtk, &system.env(None)).unwrap();
        assert_eq!(headless.xvfb, Some(xvfb));
    }

    #[test]
    fn non_executable_files_are_not_binaries() {
        let system = FakeSystem::new();
        let path = system.install("bin/chromium", "Chromium 1.0");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        system.install("bin/chromedriver", "ChromeDriver 1.0");
        let missing = discover_in(EngineId::Chromium, &system.env(None)).unwrap_err();
        assert_eq!(missing.binaries[0].name, "chromium");
    }

    #[test]
    fn doctor_warns_about_mismatched_chromium_versions() {
        let system = FakeSystem::new();
        system.install("bin/chromium", "Chromium 156.0.1 built on test");
        system.install("bin/chromedriver", "ChromeDriver 155.0.9 (x)");
        let line = DoctorLine::check(EngineId::Chromium, &system.env(None));
        assert!(line.is_ok());
        assert_eq!(line.warnings.len(), 1);
        let text = line.to_string();
        assert!(text.contains("chromium: ok"), "{text}");
        assert!(text.contains("(156.0.1)"), "{text}");
        assert!(
            text.contains("warning: chromium 156 and chromedriver 155"),
            "{text}"
        );
    }

    #[test]
    fn doctor_prints_the_fix_for_a_missing_engine() {
        let system = FakeSystem::new();
        let line = DoctorLine::check(EngineId::WebKitGtk, &system.env(None));
        let text = line.to_string();
        assert!(text.starts_with("webkitgtk: MISSING"), "{text}");
        assert!(text.contains("MiniBrowser not found"), "{text}");
        assert!(
            text.contains("fix: run scripts/install-engines (as root), or: apt-get update"),
            "{text}"
        );
    }
}
