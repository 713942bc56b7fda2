//! Why a session could not be started, by phase, each with what to do.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use super::discovery::Missing;
use super::display::DisplayError;
use super::id::EngineId;

/// A failure while starting an [`EngineSession`](super::EngineSession).
///
/// The phases, in order: binaries present, session directory, display,
/// WebDriver server start, server ready, session created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The browser, its driver or Xvfb is not installed.
    #[error(transparent)]
    Missing(#[from] Missing),

    /// `start_session` was given the discovery result of another engine.
    #[error(
        "asked for a {requested} session with the binaries of {given}; pass discover({requested})"
    )]
    WrongEngine {
        /// The engine asked for.
        requested: EngineId,
        /// The engine the binaries belong to.
        given: EngineId,
    },

    /// The temporary session directory (profile and logs) could not be made.
    #[error("{engine}: could not create a session directory: {source}; check that $TMPDIR (or /tmp) is writable and not full")]
    SessionDirectory {
        /// The engine.
        engine: EngineId,
        /// Why.
        source: io::Error,
    },

    /// The engine needs an X display and none could be started.
    #[error("{engine} needs an X display: {source}")]
    Display {
        /// The engine.
        engine: EngineId,
        /// Why it failed.
        source: DisplayError,
    },

    /// The WebDriver server could not be started or exited at once.
    #[error(
        "{engine}: WebDriver server {} failed to start: {reason}; \
         run `pmconf doctor` and try starting it by hand. Its output:\n{output}",
        driver.display()
    )]
    DriverFailedToStart {
        /// The engine.
        engine: EngineId,
        /// The driver binary.
        driver: PathBuf,
        /// What happened (spawn error or exit status).
        reason: String,
        /// The end of what the driver printed.
        output: String,
    },

    /// The WebDriver server runs but did not answer `GET /status` in time.
    #[error(
        "{engine}: WebDriver server {} did not answer GET /status on port {port} within \
         {waited:?}; the machine may be overloaded (retry with fewer parallel jobs). \
         Its output:\n{output}",
        driver.display()
    )]
    DriverNotReady {
        /// The engine.
        engine: EngineId,
        /// The driver binary.
        driver: PathBuf,
        /// The port it was told to listen on.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// The end of what the driver printed.
        output: String,
    },

    /// The driver answered `POST /session` with an error.
    #[error(
        "{engine}: the browser did not start (session not created): {message}; \
         check `pmconf doctor` (browser and driver versions must match). \
         Driver output:\n{output}"
    )]
    SessionNotCreated {
        /// The engine.
        engine: EngineId,
        /// The driver's error message.
        message: String,
        /// The end of what the driver printed.
        output: String,
    },

    /// `POST /session` did not answer in time.
    #[error(
        "{engine}: session creation did not finish within {waited:?}; {hint} Driver output:\n{output}"
    )]
    SessionTimedOut {
        /// The engine.
        engine: EngineId,
        /// How long we waited.
        waited: Duration,
        /// What usually causes this for the engine.
        hint: &'static str,
        /// The end of what the driver printed.
        output: String,
    },

    /// A remote WebDriver endpoint (`--webdriver-url`) refused or did not
    /// answer `POST /session`.
    #[error(
        "{engine}: the remote WebDriver endpoint {url} did not create a session: {message}; \
         check that it is up (`curl {url}/status`) and serves this engine (a Selenium Grid \
         needs a node with a {engine} slot: see scripts/grid)"
    )]
    RemoteSessionNotCreated {
        /// The engine.
        engine: EngineId,
        /// The endpoint.
        url: String,
        /// The endpoint's error, or the timeout.
        message: String,
    },
}

impl SetupError {
    /// The engine the failure concerns.
    pub fn engine(&self) -> EngineId {
        match self {
            SetupError::Missing(missing) => missing.engine,
            SetupError::WrongEngine { requested, .. } => *requested,
            SetupError::SessionDirectory { engine, .. }
            | SetupError::Display { engine, .. }
            | SetupError::DriverFailedToStart { engine, .. }
            | SetupError::DriverNotReady { engine, .. }
            | SetupError::SessionNotCreated { engine, .. }
            | SetupError::SessionTimedOut { engine, .. }
            | SetupError::RemoteSessionNotCreated { engine, .. } => *engine,
        }
    }

    /// Whether the engine is simply not installed (a run may skip it),
    /// as opposed to installed but failing.
    pub fn is_missing(&self) -> bool {
        matches!(self, SetupError::Missing(_))
    }
}
