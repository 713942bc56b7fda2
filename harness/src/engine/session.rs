//! A live WebDriver session of one engine, with the processes and files it
//! owns.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::{Client, ClientBuilder};
use tempfile::TempDir;

use super::capabilities::{add_browser_args, capabilities, Placement};
use super::deadline::{CommandDeadline, DeadlineConnector};
use super::description::Quirk;
use super::discovery::{Installed, Missing, MissingBinary};
use super::display::{start_xvfb, XvfbDisplay};
use super::driver::{log_tail, start_driver};
use super::error::SetupError;
use super::id::EngineId;
use super::process::{ProcessHandle, ProcessRegistry};

/// How long `POST /session` may take. Warm starts take 0.2-1.6 s; WebKit
/// without a working display hangs forever. Firefox took over 30 s with six
/// other browsers running on two cores (a race campaign with `--sessions
/// 2`), so the limit leaves room for a loaded machine; a start that misses
/// it is tried once more (`EngineInstance::start`).
pub const SESSION_CREATE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `DELETE /session` may take when closing.
pub const SESSION_DELETE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running browser under WebDriver control.
///
/// Owns its WebDriver server (one per session, even for Chromium, so that
/// ending the session ends every process it started), its Xvfb if one was
/// started for it, and a temporary directory holding the browser profile
/// and the driver's log. [`EngineSession::close`] ends all of them; so does
/// dropping the session, less gracefully.
pub struct EngineSession {
    /// The WebDriver client.
    pub client: Client,
    /// The engine.
    pub engine: EngineId,
    /// The browser's version as the session reports it (`browserVersion`).
    pub browser_version: String,
    /// `None` for a session on a remote endpoint (nothing runs here).
    driver: Option<ProcessHandle>,
    driver_url: String,
    display: Option<XvfbDisplay>,
    registry: ProcessRegistry,
    startup_time: Duration,
    session_dir: TempDir,
    deadline: CommandDeadline,
    ended: bool,
}

impl std::fmt::Debug for EngineSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSession")
            .field("engine", &self.engine)
            .field("browser_version", &self.browser_version)
            .field("driver", &self.driver)
            .field("driver_url", &self.driver_url)
            .field("display", &self.display)
            .field("session_dir", &self.session_dir.path())
            .finish_non_exhaustive()
    }
}

impl EngineSession {
    /// The WebDriver server's base URL (`http://127.0.0.1:PORT`).
    pub fn driver_url(&self) -> &str {
        &self.driver_url
    }

    /// The WebDriver server process; `None` on a remote endpoint.
    pub fn driver_process(&self) -> Option<&ProcessHandle> {
        self.driver.as_ref()
    }

    /// The Xvfb display started for this session, if any.
    pub fn display(&self) -> Option<&XvfbDisplay> {
        self.display.as_ref()
    }

    /// How long starting took, from the first process to the created session.
    pub fn startup_time(&self) -> Duration {
        self.startup_time
    }

    /// The temporary directory holding the profile and `driver.log`;
    /// removed when the session ends.
    pub fn session_dir(&self) -> &Path {
        self.session_dir.path()
    }

    /// The time limit on each WebDriver command (none until set), and
    /// whether a command exceeded it.
    pub fn command_deadline(&self) -> &CommandDeadline {
        &self.deadline
    }

    /// The last `lines` lines of the driver's log (which holds the
    /// browser's output too), for saying why a session died.
    pub fn log_tail(&self, lines: usize) -> String {
        let tail = log_tail(&self.session_dir.path().join("driver.log"));
        let all: Vec<&str> = tail.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Ends the WebDriver session (the browser closes), then the driver's
    /// process group and every descendant, then the display, then removes
    /// the session directory. The processes are ended even when ending the
    /// WebDriver session fails; that failure is returned.
    pub async fn close(mut self) -> Result<(), CmdError> {
        let deleted =
            match tokio::time::timeout(SESSION_DELETE_TIMEOUT, self.client.clone().close()).await {
                Ok(result) => result,
                Err(_) => Err(CmdError::WaitTimeout),
            };
        let registry = self.registry.clone();
        let driver = self.driver.clone();
        let display = self.display.take();
        self.ended = true;
        // Ending blocks for up to a few seconds; keep it off the workers.
        let _ =
            tokio::task::spawn_blocking(move || end_processes(&registry, &driver, display)).await;
        deleted
    }
}

impl Drop for EngineSession {
    fn drop(&mut self) {
        if !self.ended {
            end_processes(&self.registry, &self.driver, self.display.take());
        }
    }
}

fn end_processes(
    registry: &ProcessRegistry,
    driver: &Option<ProcessHandle>,
    display: Option<XvfbDisplay>,
) {
    // The browser first (it lives in the driver's group), then its display.
    if let Some(driver) = driver {
        registry.end(driver);
    }
    if let Some(display) = display {
        display.end(registry);
    }
}

/// Ends the processes started so far if session start fails or is
/// cancelled part-way.
struct StartedSoFar<'a> {
    registry: &'a ProcessRegistry,
    driver: Option<ProcessHandle>,
    display: Option<XvfbDisplay>,
}

impl Drop for StartedSoFar<'_> {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            self.registry.end(&driver);
        }
        if let Some(display) = self.display.take() {
            display.end(self.registry);
        }
    }
}

/// Starts a session of `engine` whose browser sends all traffic to the
/// forward proxy `proxy` (`"127.0.0.1:PORT"`).
///
/// Starts Xvfb first if the engine needs a display and `DISPLAY` is unset,
/// then the WebDriver server on a free port, then the session (with a
/// [`SESSION_CREATE_TIMEOUT`]). Every process goes into `registry`; on
/// failure, those already started are ended before returning.
pub async fn start_session(
    engine: EngineId,
    installed: &Installed,
    proxy: &str,
    registry: &ProcessRegistry,
) -> Result<EngineSession, SetupError> {
    start_session_with_args(engine, installed, &[], proxy, registry).await
}

/// [`start_session`] with browser arguments added to pmconf's own (an
/// engine instance's `args`).
pub async fn start_session_with_args(
    engine: EngineId,
    installed: &Installed,
    extra_args: &[String],
    proxy: &str,
    registry: &ProcessRegistry,
) -> Result<EngineSession, SetupError> {
    if installed.engine != engine {
        return Err(SetupError::WrongEngine {
            requested: engine,
            given: installed.engine,
        });
    }
    let started = Instant::now();
    let session_dir = tempfile::Builder::new()
        .prefix(&format!("pmconf-{engine}-"))
        .tempdir()
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let profile_dir = session_dir.path().join("profile");
    std::fs::create_dir(&profile_dir)
        .map_err(|source| SetupError::SessionDirectory { engine, source })?;
    let driver_log = session_dir.path().join("driver.log");

    let mut started_so_far = StartedSoFar {
        registry,
        driver: None,
        display: None,
    };
    let display_name = if engine.description().has_quirk(Quirk::NeedsDisplay) {
        match std::env::var("DISPLAY") {
            Ok(display) if !display.is_empty() => Some(display),
            _ => {
                let xvfb = installed.xvfb.as_deref().ok_or_else(|| Missing {
                    engine,
                    binaries: vec![MissingBinary {
                        name: super::description::XVFB.name,
                        looked_for: vec!["Xvfb (DISPLAY was set during discovery)".into()],
                        install: super::description::XVFB.install,
                    }],
                })?;
                let display = start_xvfb(xvfb, &session_dir.path().join("xvfb.log"), registry)
                    .await
                    .map_err(|source| SetupError::Display { engine, source })?;
                let name = display.name();
                started_so_far.display = Some(display);
                Some(name)
            }
        }
    } else {
        None
    };

    let driver = start_driver(installed, display_name.as_deref(), &driver_log, registry).await?;
    started_so_far.driver = Some(driver.process.clone());

    let deadline = CommandDeadline::default();
    let mut builder = ClientBuilder::new(DeadlineConnector::new(deadline.clone()));
    let mut caps = capabilities(
        engine,
        proxy,
        Placement::Local {
            profile_dir: &profile_dir,
            browser_binary: &installed.browser.path,
        },
    );
    add_browser_args(&mut caps, engine, extra_args);
    builder.capabilities(caps);
    let client =
        match tokio::time::timeout(SESSION_CREATE_TIMEOUT, builder.connect(&driver.url)).await {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => {
                let message = match error {
                    NewSessionError::SessionNotCreated(webdriver) => webdriver.message.into_owned(),
                    other => other.to_string(),
                };
                return Err(SetupError::SessionNotCreated {
                    engine,
                    message,
                    output: log_tail(&driver_log),
                });
            }
            Err(_) => {
                return Err(SetupError::SessionTimedOut {
                    engine,
                    waited: SESSION_CREATE_TIMEOUT,
                    hint: timeout_hint(engine),
                    output: log_tail(&driver_log),
                })
            }
        };

    let browser_version = client
        .capabilities()
        .and_then(|caps| caps.get("browserVersion"))
        .and_then(|version| version.as_str())
        .map(str::to_owned)
        .or_else(|| installed.browser.version.clone())
        .unwrap_or_default();

    // Success: the session owns the processes from here on.
    let display = started_so_far.display.take();
    started_so_far.driver = None;
    Ok(EngineSession {
        client,
        engine,
        browser_version,
        driver: Some(driver.process),
        driver_url: driver.url,
        display,
        registry: registry.clone(),
        startup_time: started.elapsed(),
        session_dir,
        deadline,
        ended: false,
    })
}

impl EngineSession {
    /// A session created on a remote endpoint: it owns no process here;
    /// closing it only deletes the WebDriver session.
    pub(super) fn remote(
        client: Client,
        deadline: CommandDeadline,
        engine: EngineId,
        url: &str,
        browser_version: String,
        startup_time: Duration,
        registry: &ProcessRegistry,
    ) -> std::io::Result<EngineSession> {
        Ok(EngineSession {
            client,
            engine,
            browser_version,
            driver: None,
            driver_url: url.to_owned(),
            display: None,
            registry: registry.clone(),
            startup_time,
            session_dir: tempfile::Builder::new()
                .prefix(&format!("pmconf-{engine}-remote-"))
                .tempdir()?,
            deadline,
            ended: false,
        })
    }
}

fn timeout_hint(engine: EngineId) -> &'static str {
    if engine.description().has_quirk(Quirk::NeedsDisplay) {
        "the browser probably cannot open its window: check DISPLAY, or unset it so pmconf starts Xvfb."
    } else {
        "the machine may be overloaded; retry with fewer parallel jobs."
    }
}
