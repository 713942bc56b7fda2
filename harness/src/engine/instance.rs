//! An engine instance: one engine a run drives, under the name its results,
//! snapshots and reports use. The three system engines are instances named
//! after their kind; `--webdriver-url` moves an instance to a remote
//! WebDriver endpoint.

use std::path::PathBuf;

use super::discovery::discover;
use super::error::SetupError;
use super::id::EngineId;
use super::process::ProcessRegistry;
use super::remote::start_remote_session;
use super::session::{start_session, EngineSession};

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
}

/// Where an instance's browser runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// On this machine, under a driver pmconf starts: the system binaries.
    Local,
    /// On a remote WebDriver endpoint (a Selenium Grid).
    Remote {
        /// The endpoint, e.g. `http://127.0.0.1:4444`.
        url: String,
        /// The browser's path on the endpoint's machine, if named.
        browser: Option<PathBuf>,
    },
}

impl EngineInstance {
    /// The system engine `kind`, named after it.
    pub fn system(kind: EngineId) -> Self {
        EngineInstance {
            name: kind.name().to_owned(),
            kind,
            location: Location::Local,
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
        }
    }

    /// Whether its browser runs on this machine (and so must be installed).
    pub fn is_local(&self) -> bool {
        matches!(self.location, Location::Local)
    }

    /// Starts a session whose browser sends all traffic to `proxy`.
    pub async fn start(
        &self,
        proxy: &str,
        registry: &ProcessRegistry,
    ) -> Result<EngineSession, SetupError> {
        match &self.location {
            Location::Local => {
                let installed = discover(self.kind).map_err(SetupError::Missing)?;
                start_session(self.kind, &installed, proxy, registry).await
            }
            Location::Remote { url, browser } => {
                start_remote_session(self.kind, url, proxy, browser.as_deref(), registry).await
            }
        }
    }
}
