//! Sessions on a remote WebDriver endpoint (`--webdriver-url`): a Selenium
//! Grid or any driver someone else started. Nothing is started here; the
//! capabilities are placed for the endpoint's machine
//! ([`Placement::Remote`]).

use std::path::Path;
use std::time::Instant;

use fantoccini::error::NewSessionError;
use fantoccini::ClientBuilder;

use super::capabilities::{add_browser_args, capabilities, Placement};
use super::deadline::{CommandDeadline, DeadlineConnector};
use super::error::SetupError;
use super::id::EngineId;
use super::process::ProcessRegistry;
use super::session::{EngineSession, SESSION_CREATE_TIMEOUT};

/// Through a Grid a session waits for a free slot and the browser starts on
/// a loaded node: allow twice a local start.
pub const REMOTE_SESSION_CREATE_TIMEOUT: std::time::Duration =
    std::time::Duration::from_secs(2 * SESSION_CREATE_TIMEOUT.as_secs());

/// Creates a session of `engine` on the WebDriver endpoint `url`, whose
/// browser sends all traffic to `proxy` (an address the endpoint's machine
/// reaches). `browser_binary` is the browser's path on that machine, when
/// the user named one; `extra_args` are added to the browser's arguments.
pub async fn start_remote_session(
    engine: EngineId,
    url: &str,
    proxy: &str,
    browser_binary: Option<&Path>,
    extra_args: &[String],
    registry: &ProcessRegistry,
) -> Result<EngineSession, SetupError> {
    let started = Instant::now();
    let failed = |message: String| SetupError::RemoteSessionNotCreated {
        engine,
        url: url.to_owned(),
        message,
    };
    // Commands through a Grid are bounded like local ones (`--command-timeout`).
    let deadline = CommandDeadline::default();
    let mut builder = ClientBuilder::new(DeadlineConnector::new(deadline.clone()));
    let mut caps = capabilities(engine, proxy, Placement::Remote { browser_binary });
    add_browser_args(&mut caps, engine, extra_args);
    builder.capabilities(caps);
    let client =
        match tokio::time::timeout(REMOTE_SESSION_CREATE_TIMEOUT, builder.connect(url)).await {
            Ok(Ok(client)) => client,
            Ok(Err(NewSessionError::SessionNotCreated(webdriver))) => {
                return Err(failed(webdriver.message.into_owned()))
            }
            Ok(Err(other)) => return Err(failed(other.to_string())),
            Err(_) => {
                return Err(failed(format!(
                    "no answer within {REMOTE_SESSION_CREATE_TIMEOUT:?}"
                )))
            }
        };
    let browser_version = client
        .capabilities()
        .and_then(|caps| caps.get("browserVersion"))
        .and_then(|version| version.as_str())
        .unwrap_or_default()
        .to_owned();
    EngineSession::remote(
        client.clone(),
        deadline,
        engine,
        url,
        browser_version,
        started.elapsed(),
        registry,
    )
    .map_err(|source| {
        // The session exists remotely: end it rather than leave it to the
        // endpoint's timeout.
        tokio::spawn(client.close());
        SetupError::SessionDirectory { engine, source }
    })
}
