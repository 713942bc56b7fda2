//! An X display for engines that have no headless mode (WebKitGTK).
//!
//! Starts `Xvfb :N -screen 0 1280x1024x24 -nolisten tcp` on the first free
//! display number from :99 up, and waits for its socket.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::process::Command;

use super::process::{ProcessHandle, ProcessRegistry, ProcessState};

/// First display number tried.
const FIRST_DISPLAY: u32 = 99;
/// How many display numbers are tried.
const DISPLAY_NUMBERS: u32 = 100;
/// How many times another server may win the race for a number.
const START_ATTEMPTS: usize = 5;
/// How long Xvfb may take to create its socket.
pub const DISPLAY_READY_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Display numbers handed out by this process and not yet released: two
/// sessions starting at once must not pick the same one before either
/// Xvfb has written its lock file.
static RESERVED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// A running Xvfb server owned by the harness.
#[derive(Debug)]
pub struct XvfbDisplay {
    number: u32,
    process: ProcessHandle,
}

impl XvfbDisplay {
    /// The display number N.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The `DISPLAY` value, `:N`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }

    /// The Xvfb process.
    pub fn process(&self) -> &ProcessHandle {
        &self.process
    }

    /// Ends Xvfb (blocking, see [`ProcessRegistry::end`]) and releases the
    /// display number.
    pub fn end(self, registry: &ProcessRegistry) {
        registry.end(&self.process);
    }
}

impl Drop for XvfbDisplay {
    fn drop(&mut self) {
        release(self.number);
    }
}

/// Why no display could be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DisplayError {
    /// Every display number from :99 on is taken.
    #[error(
        "no free X display number between :{FIRST_DISPLAY} and :{}; \
         remove stale /tmp/.X*-lock files or set DISPLAY",
        FIRST_DISPLAY + DISPLAY_NUMBERS - 1
    )]
    NoFreeDisplay,
    /// Xvfb could not be started at all.
    #[error("could not start {xvfb}: {source}; install it with: apt-get install -y xvfb")]
    Spawn {
        /// The Xvfb binary.
        xvfb: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Xvfb exited before its socket appeared.
    #[error("Xvfb on :{display} exited ({status}) before it was ready; its output:\n{output}")]
    Exited {
        /// The display number.
        display: u32,
        /// Its exit status.
        status: ExitStatus,
        /// The end of what it printed.
        output: String,
    },
    /// The socket did not appear in time.
    #[error(
        "Xvfb on :{display} did not create /tmp/.X11-unix/X{display} within {waited:?}; \
         its output:\n{output}"
    )]
    NotReady {
        /// The display number.
        display: u32,
        /// How long we waited.
        waited: Duration,
        /// The end of what it printed.
        output: String,
    },
}

fn socket_path(display: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/.X11-unix/X{display}"))
}

fn lock_path(display: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/.X{display}-lock"))
}

/// The PID written in an X server's lock file (`"%10d\n"`).
fn lock_owner(display: u32) -> Option<u32> {
    std::fs::read_to_string(lock_path(display))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Reserves the first display number with neither socket nor lock file.
fn reserve_free_display() -> Option<u32> {
    let mut reserved = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    let number = (FIRST_DISPLAY..FIRST_DISPLAY + DISPLAY_NUMBERS)
        .find(|&n| !reserved.contains(&n) && !socket_path(n).exists() && !lock_path(n).exists())?;
    reserved.insert(number);
    Some(number)
}

fn release(display: u32) {
    RESERVED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&display);
}

/// Starts Xvfb on a free display and waits until it accepts connections.
/// Its output goes to `log`.
pub async fn start_xvfb(
    xvfb: &Path,
    log: &Path,
    registry: &ProcessRegistry,
) -> Result<XvfbDisplay, DisplayError> {
    let mut last_error = DisplayError::NoFreeDisplay;
    for _ in 0..START_ATTEMPTS {
        let number = reserve_free_display().ok_or(DisplayError::NoFreeDisplay)?;
        match start_on(number, xvfb, log, registry).await {
            Ok(display) => return Ok(display),
            // Another server took the number between our check and Xvfb's
            // lock; its lock file now makes the next pick differ.
            Err(StartFailure::LostRace) => release(number),
            Err(StartFailure::Failed(error)) => {
                release(number);
                last_error = error;
                break;
            }
        }
    }
    Err(last_error)
}

enum StartFailure {
    LostRace,
    Failed(DisplayError),
}

async fn start_on(
    number: u32,
    xvfb: &Path,
    log: &Path,
    registry: &ProcessRegistry,
) -> Result<XvfbDisplay, StartFailure> {
    let spawn_error = |source| {
        StartFailure::Failed(DisplayError::Spawn {
            xvfb: xvfb.to_owned(),
            source,
        })
    };
    let log_file = File::create(log).map_err(spawn_error)?;
    let mut command = Command::new(xvfb);
    command
        .arg(format!(":{number}"))
        .args(["-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
        .stdout(Stdio::from(log_file.try_clone().map_err(spawn_error)?))
        .stderr(Stdio::from(log_file));
    let process = registry.spawn("Xvfb", &mut command).map_err(spawn_error)?;
    let display = XvfbDisplay { number, process };

    let started = Instant::now();
    loop {
        if let ProcessState::Exited(status) = registry.state(&display.process) {
            registry.end(&display.process);
            let won_by_other = lock_owner(number).is_some_and(|pid| pid != display.process.pid());
            return Err(if won_by_other {
                StartFailure::LostRace
            } else {
                StartFailure::Failed(DisplayError::Exited {
                    display: number,
                    status,
                    output: super::driver::log_tail(log),
                })
            });
        }
        // The socket alone could be another server's: the lock file names
        // the server that owns the display.
        if socket_path(number).exists() && lock_owner(number) == Some(display.process.pid()) {
            return Ok(display);
        }
        if started.elapsed() > DISPLAY_READY_TIMEOUT {
            registry.end(&display.process);
            return Err(StartFailure::Failed(DisplayError::NotReady {
                display: number,
                waited: DISPLAY_READY_TIMEOUT,
                output: super::driver::log_tail(log),
            }));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_numbers_are_not_handed_out_twice() {
        let first = reserve_free_display().unwrap();
        let second = reserve_free_display().unwrap();
        assert_ne!(first, second);
        assert!(first >= FIRST_DISPLAY && second >= FIRST_DISPLAY);
        release(first);
        release(second);
    }
}
