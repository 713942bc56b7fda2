//! An engine instance: one engine a run drives, under the name its results,
//! snapshots and reports use. The three system engines are instances named
//! after their kind; `--webdriver-url` moves an instance to a remote
//! WebDriver endpoint.

use std::path::PathBuf;

use super::discovery::{discover, read_version, FoundBinary, Installed, Missing};
use super::error::SetupError;
use super::id::EngineId;
use super::process::ProcessRegistry;
use super::remote::start_remote_session;
use super::session::{start_session_with_args, EngineSession};

/// One engine a run drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInstance {
    /// The name in results, snapshot directories (`snapshots/<name>/`) and
    /// reports.
    pub name: String,
    /// Which engine it is: decides the driver protocol details and the
    /// capabilities.
    pub kind: EngineId,
    /// Where its browser runs.
    pub location: Location,
    /// Browser arguments added to pmconf's own.
    pub args: Vec<String>,
    /// Another engine whose accepted snapshots this one is compared with
    /// while it has none of its own (`compare_with = "chromium"`): a flag
    /// or a local build then shows as differences from the system browser
    /// instead of as new snapshots. Pending snapshots are still written
    /// under this instance's name.
    pub compare_with: Option<String>,
}

/// The binaries a local instance names instead of the system ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalBinaries {
    /// The browser (a local build, another channel, a wrapper script).
    pub browser: Option<PathBuf>,
    /// The WebDriver server.
    pub driver: Option<PathBuf>,
}

/// Where an instance's browser runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// On this machine, under a driver pmconf starts: the system binaries
    /// unless the instance names others.
    Local(LocalBinaries),
    /// On a remote WebDriver endpoint (a Selenium Grid).
    Remote {
        /// The endpoint, e.g. `http://127.0.0.1:4444`.
        url: String,
        /// The browser's path on the endpoint's machine, if named.
        browser: Option<PathBuf>,
    },
}

impl EngineInstance {
    /// The binaries a local instance runs: the system engine's, with the
    /// ones it names instead (their versions read again).
    pub fn installed(&self, binaries: &LocalBinaries) -> Result<Installed, Missing> {
        let mut installed = discover(self.kind)?;
        let spec = self.kind.description();
        if let Some(browser) = &binaries.browser {
            installed.browser = FoundBinary {
                path: browser.clone(),
                version: read_version(browser, spec.browser.version),
            };
        }
        if let Some(driver) = &binaries.driver {
            installed.driver = FoundBinary {
                path: driver.clone(),
                version: read_version(driver, spec.driver.version),
            };
        }
        Ok(installed)
    }

    /// The system engine `kind`, named after it.
    pub fn system(kind: EngineId) -> Self {
        EngineInstance {
            name: kind.name().to_owned(),
            kind,
            location: Location::Local(LocalBinaries::default()),
            args: Vec::new(),
            compare_with: None,
        }
    }

    /// The same instance on the remote endpoint `url`.
    pub fn remote(kind: EngineId, url: &str) -> Self {
        EngineInstance {
            name: kind.name().to_owned(),
            kind,
            location: Location::Remote {
                url: url.trim_end_matches('/').to_owned(),
                browser: None,
            },
            args: Vec::new(),
            compare_with: None,
        }
    }

    /// Whether its browser runs on this machine (and so must be installed).
    pub fn is_local(&self) -> bool {
        matches!(self.location, Location::Local(_))
    }

    /// Starts a session whose browser sends all traffic to `proxy`.
    pub async fn start(
        &self,
        proxy: &str,
        registry: &ProcessRegistry,
    ) -> Result<EngineSession, SetupError> {
        match &self.location {
            Location::Local(binaries) => {
                let installed = self.installed(binaries).map_err(SetupError::Missing)?;
                again_if_timed_out(|| {
                    start_session_with_args(self.kind, &installed, &self.args, proxy, registry)
                })
                .await
            }
            Location::Remote { url, browser } => {
                let browser = browser.as_deref();
                start_remote_session(self.kind, url, proxy, browser, &self.args, registry).await
            }
        }
    }
}

/// Runs `start` once more when it timed out. On a loaded machine (three
/// browsers and a build on two cores) a browser's start can miss
/// [`super::SESSION_CREATE_TIMEOUT`] once and succeed at once after; a
/// second timeout stands (a WebKit without a display hangs every time). The
/// first attempt has ended every process it started before this retries.
pub(crate) async fn again_if_timed_out<T, F, Fut>(mut start: F) -> Result<T, SetupError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SetupError>>,
{
    match start().await {
        Err(SetupError::SessionTimedOut { .. }) => start().await,
        other => other,
    }
}

/// Why a local instance's binary cannot be used, if it cannot: missing, or
/// not an executable file.
pub fn binary_problem(role: &str, path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Err(e) => Some(format!("{role} {} cannot be used: {e}", path.display())),
        Ok(m) if !m.is_file() || m.permissions().mode() & 0o111 == 0 => Some(format!(
            "{role} {} is not an executable file",
            path.display()
        )),
        Ok(_) => None,
    }
}

impl EngineInstance {
    /// What stops this instance from starting here, checked without
    /// starting anything: a named binary that is missing or not
    /// executable, or a system engine the instance builds on that is not
    /// installed. Empty for a remote instance (its endpoint is checked by
    /// starting a session).
    pub fn problems(&self) -> Vec<String> {
        let Location::Local(binaries) = &self.location else {
            return Vec::new();
        };
        let mut out: Vec<String> = [("browser", &binaries.browser), ("driver", &binaries.driver)]
            .into_iter()
            .filter_map(|(role, path)| binary_problem(role, path.as_deref()?))
            .collect();
        if out.is_empty() {
            if let Err(missing) = self.installed(binaries) {
                out.push(missing.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;

    fn timed_out() -> SetupError {
        SetupError::SessionTimedOut {
            engine: EngineId::Firefox,
            waited: Duration::from_secs(30),
            hint: "",
            output: String::new(),
        }
    }

    fn refused() -> SetupError {
        SetupError::SessionNotCreated {
            engine: EngineId::Firefox,
            message: "refused".into(),
            output: String::new(),
        }
    }

    /// Runs [`again_if_timed_out`] over attempts that answer `answers` in
    /// turn; returns what it returned and how many attempts it made.
    fn attempts(answers: Vec<Result<u8, SetupError>>) -> (Result<u8, SetupError>, usize) {
        let answers = std::cell::RefCell::new(answers.into_iter());
        let made = Cell::new(0);
        let result = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(again_if_timed_out(|| {
                made.set(made.get() + 1);
                let next = answers.borrow_mut().next().expect("no more attempts");
                async move { next }
            }));
        (result, made.get())
    }

    #[test]
    fn a_timed_out_start_is_tried_once_more() {
        let (result, made) = attempts(vec![Err(timed_out()), Ok(7)]);
        assert_eq!((result.ok(), made), (Some(7), 2));
    }

    #[test]
    fn a_second_timeout_stands() {
        let (result, made) = attempts(vec![Err(timed_out()), Err(timed_out())]);
        assert!(matches!(result, Err(SetupError::SessionTimedOut { .. })));
        assert_eq!(made, 2);
    }

    #[test]
    fn other_failures_and_successes_are_not_retried() {
        let (result, made) = attempts(vec![Err(refused())]);
        assert!(matches!(result, Err(SetupError::SessionNotCreated { .. })));
        assert_eq!(made, 1);
        let (result, made) = attempts(vec![Ok(1)]);
        assert_eq!((result.ok(), made), (Some(1), 1));
    }
}
