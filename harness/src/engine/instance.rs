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
                start_session_with_args(self.kind, &installed, &self.args, proxy, registry).await
            }
            Location::Remote { url, browser } => {
                let browser = browser.as_deref();
                start_remote_session(self.kind, url, proxy, browser, &self.args, registry).await
            }
        }
    }
}
