//! `pmconf doctor`: which engines and drivers are installed, with versions,
//! and the command that installs what is missing; then every declared
//! engine instance with its version or what is wrong; then, for each
//! installed engine, whether it keys agent clusters by origin by default
//! (`window.originAgentCluster` of a same-site, cross-origin frame in a
//! secure context), which decides what the race model's origin-keyed
//! outcomes (whatwg/html#7617, `model/src/agent.rs`) mean for that engine.

use super::placement::declared_instances;
use crate::engine::{
    discover, doctor, start_session, DeclaredInstance, EngineId, Location, ProcessRegistry,
};
use crate::server::{handler_fn, OriginServer, Request, Response};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// Runs `pmconf doctor`; exit status 0 when every engine and declared
/// instance is ready, 2 otherwise (so scripts can gate on it). The agent
/// cluster probe only reports: it never changes the status.
pub async fn run(engines: Option<PathBuf>, registry: ProcessRegistry) -> i32 {
    let declared = match declared_instances(engines.as_deref()) {
        Ok(d) => d,
        Err(status) => return status,
    };
    let lines = doctor();
    let mut all_ok = true;
    for line in &lines {
        println!("{line}");
        all_ok &= line.is_ok();
    }
    if !all_ok {
        println!("\nsome engines are missing; `bash scripts/install-engines` installs all of them");
    }
    for d in &declared {
        let (ok, text) = describe(d);
        println!("{text}");
        all_ok &= ok;
    }
    agent_cluster_probe(&registry).await;
    if all_ok {
        0
    } else {
        super::EXIT_BAD_INPUT
    }
}

/// One declared instance's lines, and whether it is ready.
fn describe(d: &DeclaredInstance) -> (bool, String) {
    let i = &d.instance;
    let head = format!("{} ({}, declared at {})", i.name, i.kind, d.declared_at);
    let mut args = if i.args.is_empty() {
        String::new()
    } else {
        format!("\n  args     {}", crate::report::shell_words(&i.args))
    };
    if let Some(other) = &i.compare_with {
        args.push_str(&format!(
            "\n  compare  with {other}'s accepted snapshots while it has none of its own"
        ));
    }
    match &i.location {
        Location::Local(binaries) => {
            let problems = i.problems();
            if !problems.is_empty() {
                let listed: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
                return (false, format!("{head}: BROKEN\n{}", listed.join("\n")));
            }
            let Ok(installed) = i.installed(binaries) else {
                return (false, format!("{head}: BROKEN"));
            };
            let version =
                |v: &Option<String>| v.clone().unwrap_or_else(|| "version unknown".into());
            // What it does not name is the system engine's.
            let whose = |named: &Option<std::path::PathBuf>| {
                if named.is_some() {
                    String::new()
                } else {
                    format!(", the system {}'s", i.kind)
                }
            };
            (
                true,
                format!(
                    "{head}: ok\n  browser  {} ({}{})\n  driver   {} ({}{}){args}",
                    installed.browser.path.display(),
                    version(&installed.browser.version),
                    whose(&binaries.browser),
                    installed.driver.path.display(),
                    version(&installed.driver.version),
                    whose(&binaries.driver),
                ),
            )
        }
        Location::Remote { url, browser } => {
            let browser = browser
                .as_ref()
                .map(|b| format!("\n  browser  {} (on the endpoint)", b.display()))
                .unwrap_or_default();
            match remote_status(url) {
                Ok(ready) => (
                    true,
                    format!("{head}: ok\n  remote   {url} (/status: {ready}){browser}{args}"),
                ),
                Err(e) => (
                    false,
                    format!("{head}: UNREACHABLE\n  remote   {url}: {e}\n  fix: start the endpoint (scripts/grid start) or correct webdriver-url"),
                ),
            }
        }
    }
}

/// `GET /status` on a WebDriver endpoint: its `ready` value, or why not.
fn remote_status(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host")?;
    let port = parsed.port_or_known_default().ok_or("no port")?;
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host has no address")?;
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let path = format!("{}/status", parsed.path().trim_end_matches('/'));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let status: serde_json::Value = serde_json::from_str(body).map_err(|_| {
        format!(
            "not a WebDriver /status answer: {}",
            answer.lines().next().unwrap_or("")
        )
    })?;
    Ok(match status["value"]["ready"].as_bool() {
        Some(true) => "ready".into(),
        Some(false) => format!("not ready: {}", status["value"]["message"]),
        None => "answered".into(),
    })
}

/// The probe's pages: each embeds a frame of the same site as itself but
/// another origin, and the probe reads the frame's
/// `window.originAgentCluster`: an https frame in a top-level https page
/// (a secure context), the same pair inside an http page on pmconf's
/// runner host, as a case's windows are (not a secure context: the
/// top-level creation URL is http), and an http frame in an http page.
const PROBES: [(&str, &str, &[u16]); 3] = [
    (
        "https frame, https top",
        "https://a.test:8443/__pmconf/oac/top",
        &[0],
    ),
    (
        "https frame, http runner",
        "http://pmconf.test/__pmconf/oac/runner",
        &[0, 0],
    ),
    (
        "http frame, http top",
        "http://a.test:8000/__pmconf/oac/plain",
        &[0],
    ),
];
const PROBE_READ: &str =
    "return [String(window.originAgentCluster), String(window.isSecureContext)];";

fn probe_page(req: &Request) -> Response {
    let frame =
        |url: &str| format!("<!doctype html><title>probe</title><iframe src=\"{url}\"></iframe>");
    let body = match req.path() {
        "/__pmconf/oac/top" => frame("https://www.a.test:8443/__pmconf/oac/frame"),
        "/__pmconf/oac/runner" => frame("https://a.test:8443/__pmconf/oac/top"),
        "/__pmconf/oac/plain" => frame("http://www.a.test:8000/__pmconf/oac/frame"),
        "/__pmconf/oac/frame" => "<!doctype html><title>frame</title>".to_owned(),
        _ => return Response::not_found(),
    };
    Response::text(200, "text/html; charset=utf-8", body)
}

/// For each installed engine, `window.originAgentCluster` of the frame in
/// each embedding, one line per engine.
async fn agent_cluster_probe(registry: &ProcessRegistry) {
    println!("\nagent clusters: window.originAgentCluster of a frame of the same site as its parent, another origin");
    let header: Vec<String> = PROBES
        .iter()
        .map(|(what, _, _)| format!("{what:<27}"))
        .collect();
    println!("  {:<10} {}", "", header.join(" ").trim_end());
    let server = match OriginServer::start(handler_fn(|req| async move { probe_page(&req) })).await
    {
        Ok(s) => s,
        Err(e) => {
            println!("  cannot probe: the local server did not start: {e}");
            return;
        }
    };
    for engine in EngineId::ALL {
        let line = match discover(engine) {
            Err(_) => "not installed".to_owned(),
            Ok(installed) => {
                match probe_engine(engine, &installed, &server.proxy_address(), registry).await {
                    Ok(cells) => cells
                        .iter()
                        .map(|c| format!("{c:<27}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    Err(e) => format!("cannot probe: {e}"),
                }
            }
        };
        println!("  {:<10} {}", engine.name(), line.trim_end());
    }
    println!("  (true: agent clusters keyed by origin there, as whatwg/html PR #7617 makes the default in secure contexts; the model contests what only origin keying allows. undefined: not implemented)");
    server.shutdown().await;
}

/// One cell per probe: the frame's `originAgentCluster`, and whether it is
/// a secure context.
async fn probe_engine(
    engine: EngineId,
    installed: &crate::engine::Installed,
    proxy: &str,
    registry: &ProcessRegistry,
) -> Result<Vec<String>, String> {
    let session = start_session(engine, installed, proxy, registry)
        .await
        .map_err(|e| e.to_string())?;
    let client = session.client.clone();
    let result = async {
        let mut cells = Vec::new();
        for (_, url, frames) in PROBES {
            client.goto(url).await.map_err(|e| e.to_string())?;
            for &f in frames {
                client
                    .clone()
                    .enter_frame(f)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let v = client
                .execute(PROBE_READ, vec![])
                .await
                .map_err(|e| e.to_string())?;
            let got: Vec<String> = serde_json::from_value(v).map_err(|e| e.to_string())?;
            let secure = if got[1] == "true" {
                "secure"
            } else {
                "not secure"
            };
            cells.push(format!("{} ({secure})", got[0]));
        }
        Ok(cells)
    }
    .await;
    let _ = session.close().await;
    result
}
