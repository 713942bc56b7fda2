//! `pmconf doctor`: which engines and drivers are installed, with versions,
//! and the command that installs what is missing; then every declared
//! engine instance with its version or what is wrong.

use super::placement::declared_instances;
use crate::engine::{doctor, DeclaredInstance, Location};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

/// Runs `pmconf doctor`; exit status 0 when every engine and declared
/// instance is ready, 2 otherwise (so scripts can gate on it).
pub fn run(engines: Option<&Path>) -> i32 {
    let declared = match declared_instances(engines) {
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
