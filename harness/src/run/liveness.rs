//! Whether an engine's session is alive, and the PIDs it runs as.

use crate::engine::{EngineSession, ProcessIdentity, ProcessRegistry, ProcessState};
use std::io::Write as _;
use std::time::Duration;

/// Environment variable naming a file to which every session started
/// appends one JSON line with its PIDs (`engine`, `session`, `generation`,
/// `driver`, `browser`, `display`): for tests that kill a browser
/// mid-run, and for anyone debugging a hung engine.
pub const PIDFILE_VARIABLE: &str = "PMCONF_PIDFILE";

/// Returns (how it died) once the session's driver or browser process is
/// no longer running; never returns while both run.
pub(crate) async fn watch(
    session: &EngineSession,
    browser: Option<ProcessIdentity>,
    registry: &ProcessRegistry,
) -> String {
    // A remote session (`--webdriver-url`) has no driver or browser here:
    // then nothing is watched and only the command deadline and the probe
    // tell a death.
    let driver = session.driver_process();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(driver) = driver {
            if let ProcessState::Exited(status) = registry.state(driver) {
                return format!("the driver ({}) exited: {status}", driver.label());
            }
        }
        if let Some(browser) = browser.filter(|b| !b.is_running()) {
            return format!("the browser process (PID {}) is gone", browser.pid);
        }
    }
}

/// Whether the session is alive: `Err` says how it died.
pub(crate) async fn probe(
    session: &EngineSession,
    registry: &ProcessRegistry,
) -> Result<(), String> {
    let deadline = session.command_deadline();
    let limit = deadline.limit().unwrap_or(Duration::from_secs(30));
    if deadline.has_expired() {
        return Err(format!(
            "a WebDriver command got no answer within {} s (the browser or its driver hung)",
            limit.as_secs_f64()
        ));
    }
    // A remote session (`--webdriver-url`) has no driver process here: the
    // WebDriver command below is all there is to ask.
    if let Some(driver) = session.driver_process() {
        match registry.state(driver) {
            ProcessState::Running => {}
            ProcessState::Exited(status) => {
                return Err(format!("the driver ({}) exited: {status}", driver.label()))
            }
            ProcessState::NotOwned => {
                return Err(format!("the driver ({}) is gone", driver.label()))
            }
        }
    }
    // Session-wide, so a case that closed the current window does not
    // count as a death.
    match tokio::time::timeout(limit + Duration::from_secs(1), session.client.windows()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) if deadline.has_expired() => Err(format!(
            "a WebDriver command got no answer within {} s (the browser or its driver hung)",
            limit.as_secs_f64()
        )),
        Ok(Err(e)) => Err(format!("the session no longer answers: {e}")),
        Err(_) => Err(format!(
            "the session gave no answer within {} s",
            limit.as_secs_f64()
        )),
    }
}

/// Appends the session's PIDs to `$PMCONF_PIDFILE`, if set.
pub(crate) fn record_pids(
    session: &EngineSession,
    browser: Option<ProcessIdentity>,
    number: usize,
    generation: usize,
) {
    let Some(path) = std::env::var_os(PIDFILE_VARIABLE) else {
        return;
    };
    // A remote session owns no process here.
    let Some(driver) = session.driver_process().map(|d| d.pid()) else {
        return;
    };
    let line = serde_json::json!({
        "engine": session.engine.name(),
        "session": number + 1,
        "generation": generation,
        "driver": driver,
        "browser": browser.map(|p| p.pid),
        "display": session.display().map(|d| d.process().pid()),
    });
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "warning: {PIDFILE_VARIABLE}={}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}
