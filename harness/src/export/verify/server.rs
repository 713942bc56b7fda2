//! wptserve behind pmconf's proxy.
//!
//! The browsers keep pmconf's own server as their only proxy (WebKitGTK
//! takes nothing else but `--proxy=`). That server answers every `*.test`
//! name and never connects anywhere by itself; the verifier gives it a
//! [`Handler`] of its own, [`WptForward`], which hands each request for
//! one of WPT's hosts (`web-platform.test`, `not-web-platform.test` and
//! their subdomains) to the wptserve this verifier started on 127.0.0.1,
//! and answers anything else with 404 (or gives it to another handler,
//! pmconf's runner, for the side-by-side run). So the only connection
//! made is to a loopback listener of this machine that the verifier
//! owns; the server's default behaviour is unchanged, since nothing but
//! the verifier installs this handler.

use crate::engine::{ProcessHandle, ProcessRegistry};
use crate::server::{Handler, Request, Response, WebSocket};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long wptserve may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `host` is one of WPT's hosts (or a name below them).
pub fn is_wpt_host(host: &str) -> bool {
    let h = host.trim_end_matches('.');
    [
        super::super::hosts::BROWSER_HOST,
        super::super::hosts::ALT_HOST,
    ]
    .iter()
    .any(|base| h == *base || h.ends_with(&format!(".{base}")))
}

/// The runner's own `testharnessreport.js`: as every WPT runner does
/// (wptrunner and wpt-runner each serve theirs), it only hands the
/// results to the runner, here by keeping them where WebDriver reads them.
pub const TESTHARNESSREPORT_JS: &str = "\
// pmconf's testharnessreport.js: keeps testharness.js's results for the\n\
// verifier to read over WebDriver.\n\
add_completion_callback(function (tests, status) {\n\
  window.__pmconf_wpt_results = {\n\
    status: status.status,\n\
    message: status.message,\n\
    tests: tests.map(function (t) { return {name: t.name, status: t.status, message: t.message}; })\n\
  };\n\
});\n";

/// A document root for wptserve: the export's `webmessaging/` and
/// `resources/` holding testharness.js (from the npm package) and the
/// runner's testharnessreport.js.
pub fn make_doc_root(dir: &Path, export: &Path, testharness: &Path) -> std::io::Result<()> {
    let resources = dir.join("resources");
    std::fs::create_dir_all(&resources)?;
    std::os::unix::fs::symlink(
        std::fs::canonicalize(export.join("webmessaging"))?,
        dir.join("webmessaging"),
    )?;
    std::os::unix::fs::symlink(
        std::fs::canonicalize(testharness)?,
        resources.join("testharness.js"),
    )?;
    std::fs::write(resources.join("testharnessreport.js"), TESTHARNESSREPORT_JS)
}

/// A running wptserve.
pub struct WptServe {
    /// The loopback port it listens on.
    pub port: u16,
    /// Its process (ended by the registry).
    pub process: ProcessHandle,
}

/// Starts wptserve (the venv's Python running `serve_wpt.py`) on
/// 127.0.0.1, serving `doc_root`; `work` holds the launcher and its log.
pub async fn start_wptserve(
    python: &Path,
    doc_root: &Path,
    work: &Path,
    registry: &ProcessRegistry,
) -> Result<WptServe, String> {
    let script = work.join("serve_wpt.py");
    std::fs::write(&script, include_str!("serve_wpt.py")).map_err(|e| e.to_string())?;
    let port_file = work.join("wptserve.port");
    let log = std::fs::File::create(work.join("wptserve.log")).map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(python);
    command
        .arg(&script)
        .arg(doc_root)
        .arg(&port_file)
        .current_dir(work)
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    let process = registry
        .spawn("wptserve", &mut command)
        .map_err(|e| format!("starting wptserve ({}): {e}", python.display()))?;
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&port_file) {
            if let Ok(port) = text.trim().parse() {
                return Ok(WptServe { port, process });
            }
        }
        if started.elapsed() > START_TIMEOUT || !process.identity().is_running() {
            let log = std::fs::read_to_string(work.join("wptserve.log")).unwrap_or_default();
            registry.end(&process);
            return Err(format!(
                "wptserve did not start within {}s:\n{log}",
                START_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Hands requests for WPT's hosts to wptserve on loopback.
pub struct WptForward {
    port: u16,
    client: Client<HttpConnector, Full<Bytes>>,
    other: Option<Arc<dyn Handler>>,
}

impl WptForward {
    /// Forwards to `127.0.0.1:port`; anything not for a WPT host goes to
    /// `other`, or is answered 404.
    pub fn new(port: u16, other: Option<Arc<dyn Handler>>) -> Arc<Self> {
        let mut connector = HttpConnector::new();
        connector.enforce_http(true);
        Arc::new(WptForward {
            port,
            client: Client::builder(TokioExecutor::new()).build(connector),
            other,
        })
    }

    async fn forward(&self, req: Request) -> Response {
        let uri = format!("http://127.0.0.1:{}{}", self.port, req.path_and_query);
        let mut builder = hyper::Request::builder()
            .method(req.method.as_str())
            .uri(uri);
        for (name, value) in &req.headers {
            if matches!(
                name.as_str(),
                "host" | "connection" | "proxy-connection" | "keep-alive"
            ) {
                continue;
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        // wptserve reads the host and port the browser addressed.
        builder = builder.header("host", format!("{}:{}", req.host, req.port));
        let request = match builder.body(Full::new(req.body.clone())) {
            Ok(r) => r,
            Err(e) => return Response::text(500, "text/plain", format!("pmconf: {e}\n")),
        };
        match self.client.request(request).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers: Vec<(String, String)> = resp
                    .headers()
                    .iter()
                    .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect();
                match resp.into_body().collect().await {
                    Ok(body) => Response {
                        status,
                        headers,
                        body: body.to_bytes().to_vec(),
                    },
                    Err(e) => Response::text(
                        502,
                        "text/plain",
                        format!("pmconf: reading wptserve's answer: {e}\n"),
                    ),
                }
            }
            Err(e) => Response::text(
                502,
                "text/plain",
                format!("pmconf: wptserve on 127.0.0.1:{}: {e}\n", self.port),
            ),
        }
    }
}

impl Handler for WptForward {
    fn handle(&self, req: Request) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            if is_wpt_host(&req.host) {
                self.forward(req).await
            } else if let Some(other) = &self.other {
                other.handle(req).await
            } else {
                Response::not_found()
            }
        })
    }

    /// The exported tests open no WebSocket; pmconf's runner (side by
    /// side) does, on its own host.
    fn accepts_websocket(&self, req: &Request) -> Result<(), String> {
        match &self.other {
            Some(other) if !is_wpt_host(&req.host) => other.accepts_websocket(req),
            _ => Err("the WPT verifier takes no WebSockets for WPT's hosts".to_owned()),
        }
    }

    fn websocket(
        &self,
        req: Request,
        socket: WebSocket,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        match &self.other {
            Some(other) => other.websocket(req, socket),
            None => Box::pin(async {}),
        }
    }
}

/// Where the verifier's files go (`target/pmconf/wpt-verify`).
pub fn work_dir() -> PathBuf {
    PathBuf::from("target/pmconf/wpt-verify")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wpt_hosts_are_forwarded() {
        assert!(is_wpt_host("web-platform.test"));
        assert!(is_wpt_host("www1.not-web-platform.test"));
        assert!(is_wpt_host("xn--lve-6lad.web-platform.test"));
        assert!(!is_wpt_host("a.test"));
        assert!(!is_wpt_host("evil-web-platform.test"));
        assert!(!is_wpt_host("pmconf.test"));
    }
}
