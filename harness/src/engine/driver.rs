//! Starting a WebDriver server on a free port and waiting until it answers.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::Command;

use super::discovery::Installed;
use super::error::SetupError;
use super::process::{ProcessHandle, ProcessRegistry, ProcessState};

/// How long a driver may take to answer `GET /status`.
pub const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one `/status` probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Attempts when the chosen port was taken before the driver bound it.
const PORT_ATTEMPTS: usize = 3;
/// How much of a log an error message quotes.
const LOG_TAIL_BYTES: u64 = 4096;

/// A WebDriver server that answers on `url`.
#[derive(Debug)]
pub(crate) struct RunningDriver {
    pub process: ProcessHandle,
    pub url: String,
}

/// Starts the engine's driver with its output in `log` and `DISPLAY` set
/// to `display` (when given), and waits for `GET /status` to answer.
pub(crate) async fn start_driver(
    installed: &Installed,
    display: Option<&str>,
    log: &Path,
    registry: &ProcessRegistry,
) -> Result<RunningDriver, SetupError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match start_once(installed, display, log, registry).await {
            Err(SetupError::DriverFailedToStart { output, .. })
                if attempt < PORT_ATTEMPTS && mentions_port_in_use(&output) => {}
            result => return result,
        }
    }
}

fn mentions_port_in_use(output: &str) -> bool {
    let output = output.to_ascii_lowercase();
    output.contains("address already in use") || output.contains("address in use")
}

async fn start_once(
    installed: &Installed,
    display: Option<&str>,
    log: &Path,
    registry: &ProcessRegistry,
) -> Result<RunningDriver, SetupError> {
    let engine = installed.engine;
    let driver = &installed.driver.path;
    let failed = |reason: String| SetupError::DriverFailedToStart {
        engine,
        driver: driver.clone(),
        reason,
        output: log_tail(log),
    };
    let port = free_port().map_err(|e| failed(format!("no free port: {e}")))?;
    let log_file = File::create(log).map_err(|e| failed(format!("cannot create log: {e}")))?;
    let log_copy = log_file
        .try_clone()
        .map_err(|e| failed(format!("cannot create log: {e}")))?;

    let mut command = Command::new(driver);
    command
        .args(engine.description().driver_args_for_port(port))
        .stdout(Stdio::from(log_copy))
        .stderr(Stdio::from(log_file));
    if let Some(display) = display {
        command.env("DISPLAY", display);
    }
    let process = registry
        .spawn(engine.description().driver.name, &mut command)
        .map_err(|e| failed(e.to_string()))?;

    let started = Instant::now();
    loop {
        if let ProcessState::Exited(status) = registry.state(&process) {
            registry.end(&process);
            return Err(failed(format!("exited with {status}")));
        }
        if status_answers(port).await {
            return Ok(RunningDriver {
                process,
                url: format!("http://127.0.0.1:{port}"),
            });
        }
        if started.elapsed() > DRIVER_READY_TIMEOUT {
            registry.end(&process);
            return Err(SetupError::DriverNotReady {
                engine,
                driver: driver.clone(),
                port,
                waited: DRIVER_READY_TIMEOUT,
                output: log_tail(log),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A loopback port nobody listened on a moment ago. Another process may
/// take it before the driver binds it; [`start_driver`] retries then.
fn free_port() -> std::io::Result<u16> {
    let listener = StdTcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    Ok(listener.local_addr()?.port())
}

/// Whether `GET /status` on the port answers with HTTP 200.
async fn status_answers(port: u16) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        let request =
            format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(head.starts_with(b"HTTP/1.") && &head[8..12] == b" 200")
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, probe).await,
        Ok(Ok(true))
    )
}

/// The last few kilobytes of a log file, starting at a line boundary.
pub(crate) fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::from("(no output captured)");
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = length.saturating_sub(LOG_TAIL_BYTES);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::from("(output unreadable)");
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = match (start > 0, text.find('\n')) {
        (true, Some(newline)) => &text[newline + 1..],
        _ => &text[..],
    };
    if text.trim().is_empty() {
        String::from("(no output)")
    } else {
        text.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn log_tail_keeps_the_end_from_a_line_start() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for line in 0..2000 {
            writeln!(file, "line {line}").unwrap();
        }
        let tail = log_tail(file.path());
        assert!(tail.ends_with("line 1999"));
        assert!(tail.starts_with("line "), "{}", &tail[..20]);
        assert!(tail.len() <= LOG_TAIL_BYTES as usize);
    }

    #[test]
    fn log_tail_of_nothing_says_so() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(log_tail(file.path()), "(no output)");
        assert_eq!(
            log_tail(Path::new("/nonexistent/pmconf.log")),
            "(no output captured)"
        );
    }

    #[test]
    fn recognises_port_collisions_in_driver_output() {
        assert!(mentions_port_in_use(
            "[SEVERE]: bind() failed: Address already in use (98)"
        ));
        assert!(mentions_port_in_use("Address in use (os error 98)"));
        assert!(!mentions_port_in_use("Permission denied"));
    }

    #[tokio::test]
    async fn status_probe_needs_an_http_200() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            for answer in ["HTTP/1.1 500 Oops\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n{}"] {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await.unwrap();
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        assert!(!status_answers(port).await);
        assert!(status_answers(port).await);
        server.await.unwrap();
        assert!(!status_answers(port).await, "nobody listens any more");
    }
}
