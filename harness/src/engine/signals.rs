//! Ending every browser when the harness is interrupted.
//!
//! Drivers and browsers run in their own process groups, so a Ctrl-C in the
//! terminal reaches only the harness; without this, they would keep running.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use super::process::ProcessRegistry;

/// Exit status after SIGINT (128 + 2), as a shell reports it.
pub const EXIT_ON_SIGINT: i32 = 130;
/// Exit status after SIGTERM (128 + 15).
pub const EXIT_ON_SIGTERM: i32 = 143;
/// Exit status after SIGHUP (128 + 1): the terminal went away.
pub const EXIT_ON_SIGHUP: i32 = 129;

/// The exit status a received signal calls for; 0 while none was received.
/// Process-wide because a signal is: the main path reads it so that a run
/// whose browsers were ended by the handler exits with the signal's status,
/// not with the error it saw when they died.
static SIGNAL_EXIT_STATUS: AtomicI32 = AtomicI32::new(0);

/// The exit status for the termination signal received, if one was.
pub fn signal_exit_status() -> Option<i32> {
    match SIGNAL_EXIT_STATUS.load(Ordering::SeqCst) {
        0 => None,
        status => Some(status),
    }
}

/// On the first SIGINT, SIGTERM or SIGHUP: ends every process in
/// `registry` and refuses new ones (see [`ProcessRegistry::shut_down`]),
/// then exits with 130, 143 or 129. Call once at the start of `main`, inside the tokio runtime:
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// let registry = pmconf::engine::ProcessRegistry::new();
/// pmconf::engine::install_signal_cleanup(registry.clone())?;
/// // ... start sessions with `registry` ...
/// # Ok(()) }
/// ```
///
/// The handlers are installed before this returns. Further signals during
/// the cleanup are ignored.
pub fn install_signal_cleanup(registry: ProcessRegistry) -> io::Result<JoinHandle<()>> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        let (name, status) = tokio::select! {
            _ = interrupt.recv() => ("SIGINT", EXIT_ON_SIGINT),
            _ = terminate.recv() => ("SIGTERM", EXIT_ON_SIGTERM),
            _ = hangup.recv() => ("SIGHUP", EXIT_ON_SIGHUP),
        };
        // Recorded before anything is ended: whoever notices the browsers
        // dying learns why.
        SIGNAL_EXIT_STATUS.store(status, Ordering::SeqCst);
        eprintln!("pmconf: {name} received, ending browsers and drivers");
        // Ending blocks for up to a few seconds; keep it off the workers.
        let _ = tokio::task::spawn_blocking(move || registry.shut_down()).await;
        std::process::exit(status);
    }))
}
