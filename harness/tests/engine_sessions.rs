//! Real sessions of each engine: a script runs, the browser version is
//! known, and afterwards no process the harness started is left, whether
//! the session was closed properly or the harness aborted.
//!
//! An engine that is not installed is skipped with the reason printed,
//! unless `CI` is set: then it fails. The tests check that *no* descendant
//! of the test process survives, so they take turns (see [`SERIAL`]) even
//! without `--test-threads=1`, which is still the recommended way to run
//! them on a 2-core machine:
//! `cargo test -p pmconf --test engine_sessions -- --test-threads=1`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pmconf::engine::{
    discover, start_session, EngineId, EngineSession, FoundBinary, Installed, ProcessIdentity,
    ProcessRegistry, SetupError,
};
use serde_json::json;
use tokio::net::TcpListener;

/// Held by every test for its whole run: each one asserts that no
/// descendant of this process is left, which another test's live session
/// would contradict.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The engine's binaries, or `None` (test skipped) when it is not installed
/// and `CI` is unset.
fn installed_or_skip(engine: EngineId) -> Option<Installed> {
    match discover(engine) {
        Ok(installed) => Some(installed),
        Err(missing) if std::env::var_os("CI").is_some() => {
            panic!("CI is set and an engine is missing: {missing}")
        }
        Err(missing) => {
            eprintln!("skipping {engine}: {missing}");
            None
        }
    }
}

/// A proxy address that accepts connections and never answers: the
/// browsers' background requests go nowhere, and nothing else is reached.
async fn silent_proxy() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    (listener, address)
}

/// Every descendant of this test process, found independently of the
/// registry by walking `/proc` parent links. The registry makes this
/// process a subreaper, so descendants that detached (crash handlers) or
/// were orphaned (MiniBrowser) re-parent here and are still found.
fn descendants_of_this_process() -> BTreeSet<ProcessIdentity> {
    let mut parent_of = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        if fields[0] == "Z" {
            continue;
        }
        parent_of.insert(pid, fields[1].parse::<u32>().unwrap());
    }
    let me = std::process::id();
    let mut found = BTreeSet::from([me]);
    loop {
        let before = found.len();
        for (&pid, parent) in &parent_of {
            if found.contains(parent) {
                found.insert(pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&me);
    found.into_iter().filter_map(ProcessIdentity::of).collect()
}

/// Children of this process that exited and were never reaped.
fn unreaped_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
            (fields[0] == "Z" && fields[1] == me).then_some(pid)
        })
        .collect()
}

fn still_running(processes: &BTreeSet<ProcessIdentity>) -> Vec<(ProcessIdentity, String)> {
    processes
        .iter()
        .filter(|process| process.is_running())
        .map(|process| {
            let command = std::fs::read(format!("/proc/{}/cmdline", process.pid))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            (*process, command)
        })
        .collect()
}

/// Everything the session's processes amount to right now, by the
/// registry's account and by an independent walk of `/proc`.
fn processes_of(session: &EngineSession, registry: &ProcessRegistry) -> BTreeSet<ProcessIdentity> {
    let mut processes = descendants_of_this_process();
    processes.extend(registry.live_processes());
    assert!(
        processes.contains(
            &session
                .driver_process()
                .expect("a local session has a driver")
                .identity()
        ),
        "the driver is among them"
    );
    if let Some(display) = session.display() {
        assert!(processes.contains(&display.process().identity()));
    }
    // Driver + browser at least; browsers are process trees.
    assert!(processes.len() >= 3, "{processes:?}");
    processes
}

async fn start(
    engine: EngineId,
    installed: &Installed,
    registry: &ProcessRegistry,
) -> EngineSession {
    let (_proxy, proxy_address) = silent_proxy().await;
    let started = Instant::now();
    let session = start_session(engine, installed, &proxy_address, registry)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    println!(
        "{engine}: session started in {:?} (start_session measured {:?}), browser {}",
        started.elapsed(),
        session.startup_time(),
        session.browser_version
    );
    session
}

/// Start, script, popup, close, and nothing left behind.
async fn session_runs_a_script_and_leaves_no_process(engine: EngineId) {
    let _serial = SERIAL.lock().await;
    let Some(installed) = installed_or_skip(engine) else {
        return;
    };
    let registry = ProcessRegistry::new();
    let session = start(engine, &installed, &registry).await;
    assert_eq!(session.engine, engine);
    assert!(!session.browser_version.is_empty());
    assert!(
        session
            .browser_version
            .starts_with(|c: char| c.is_ascii_digit()),
        "{}",
        session.browser_version
    );

    let sum = session.client.execute("return 1+1", vec![]).await.unwrap();
    assert_eq!(sum, json!(2));

    // Popups must open without a user gesture (the harness opens windows
    // to test cross-window messaging). The timer makes sure no activation
    // from the WebDriver command is left.
    let opened = session
        .client
        .execute_async(
            "const done = arguments[0];
             setTimeout(() => done(window.open('about:blank', '_blank') !== null), 50);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(opened, json!(true), "{engine} blocked window.open");

    let processes = processes_of(&session, &registry);
    let session_dir = session.session_dir().to_owned();
    assert!(session_dir.join("driver.log").exists());

    let closing = Instant::now();
    session.close().await.unwrap();
    println!("{engine}: session closed in {:?}", closing.elapsed());

    assert_eq!(still_running(&processes), []);
    assert_eq!(still_running(&descendants_of_this_process()), []);
    assert_eq!(unreaped_children(), Vec::<u32>::new());
    assert!(registry.owned().is_empty());
    assert!(!session_dir.exists(), "the profile is removed");
}

/// The harness aborts: `end_all` without closing the session first. No
/// browser helper (MiniBrowser, WebKitNetworkProcess, crash handlers,
/// content processes) may survive.
async fn abort_leaves_no_process(engine: EngineId) {
    let _serial = SERIAL.lock().await;
    let Some(installed) = installed_or_skip(engine) else {
        return;
    };
    let registry = ProcessRegistry::new();
    let session = start(engine, &installed, &registry).await;
    // A page load makes the engines start their content processes.
    session.client.goto("about:blank").await.unwrap();
    let processes = processes_of(&session, &registry);
    println!("{engine}: {} processes before the abort", processes.len());

    let ending = Instant::now();
    registry.end_all();
    println!("{engine}: end_all took {:?}", ending.elapsed());

    assert_eq!(still_running(&processes), []);
    assert_eq!(still_running(&descendants_of_this_process()), []);
    assert_eq!(unreaped_children(), Vec::<u32>::new());
    // Dropping the session afterwards ends nothing twice and does not hang.
    drop(session);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_session_runs_a_script_and_leaves_no_process() {
    session_runs_a_script_and_leaves_no_process(EngineId::Chromium).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_session_runs_a_script_and_leaves_no_process() {
    session_runs_a_script_and_leaves_no_process(EngineId::Firefox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkitgtk_session_runs_a_script_and_leaves_no_process() {
    session_runs_a_script_and_leaves_no_process(EngineId::WebKitGtk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_abort_leaves_no_process() {
    abort_leaves_no_process(EngineId::Chromium).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_abort_leaves_no_process() {
    abort_leaves_no_process(EngineId::Firefox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkitgtk_abort_leaves_no_process() {
    abort_leaves_no_process(EngineId::WebKitGtk).await;
}

/// Binaries that are not what discovery promised: typed errors, and the
/// processes started on the way are ended.
#[tokio::test]
async fn a_driver_that_exits_at_once_is_reported_with_its_output() {
    let _serial = SERIAL.lock().await;
    let registry = ProcessRegistry::new();
    let fake = |path: &str| FoundBinary {
        path: PathBuf::from(path),
        version: None,
    };
    let installed = Installed {
        engine: EngineId::Chromium,
        browser: fake("/bin/true"),
        // `sh --port=PORT` complains about the option and exits.
        driver: fake("/bin/sh"),
        xvfb: None,
    };
    let error = start_session(EngineId::Chromium, &installed, "127.0.0.1:9", &registry)
        .await
        .unwrap_err();
    let SetupError::DriverFailedToStart { reason, output, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert!(reason.contains("exited"), "{reason}");
    assert!(
        output.to_lowercase().contains("option"),
        "the driver's output is quoted: {output}"
    );
    assert!(error.to_string().contains("pmconf doctor"));
    assert!(registry.owned().is_empty());
    assert!(registry.live_processes().is_empty());

    let error = start_session(EngineId::Firefox, &installed, "127.0.0.1:9", &registry)
        .await
        .unwrap_err();
    assert!(matches!(error, SetupError::WrongEngine { .. }), "{error}");
}

#[tokio::test]
async fn a_display_engine_without_display_or_xvfb_is_missing_xvfb() {
    let _serial = SERIAL.lock().await;
    if std::env::var_os("DISPLAY").is_some() {
        eprintln!("skipping: DISPLAY is set, so no Xvfb is needed");
        return;
    }
    let registry = ProcessRegistry::new();
    let installed = Installed {
        engine: EngineId::WebKitGtk,
        browser: FoundBinary {
            path: PathBuf::from("/bin/true"),
            version: None,
        },
        driver: FoundBinary {
            path: PathBuf::from("/bin/true"),
            version: None,
        },
        xvfb: None,
    };
    let started = Instant::now();
    let error = start_session(EngineId::WebKitGtk, &installed, "127.0.0.1:9", &registry)
        .await
        .unwrap_err();
    assert!(error.is_missing(), "{error}");
    assert!(error.to_string().contains("xvfb"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(registry.owned().is_empty());
}

/// The driver dies on its own (SIGKILL to it alone, as in a crash): its
/// browser processes are orphaned and re-parented to the harness. `end_all`
/// must still find them, through the ownership tag in their environment.
async fn crashed_driver_leaves_no_orphans(engine: EngineId) {
    let _serial = SERIAL.lock().await;
    let Some(installed) = installed_or_skip(engine) else {
        return;
    };
    let registry = ProcessRegistry::new();
    let session = start(engine, &installed, &registry).await;
    // Collected without asking the registry, so that it learns nothing
    // about the descendants before the crash.
    let processes = descendants_of_this_process();
    let driver = session
        .driver_process()
        .expect("a local session has a driver")
        .pid();
    // SAFETY: `driver` is a child of this test process that has not been
    // reaped (the registry holds its handle), so the PID is ours.
    unsafe { libc::kill(driver as libc::pid_t, libc::SIGKILL) };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let orphans = still_running(&processes);
    assert!(
        orphans.len() >= 2,
        "{engine}: browser processes outlive the driver: {orphans:?}"
    );

    registry.end_all();
    assert_eq!(still_running(&processes), []);
    assert_eq!(still_running(&descendants_of_this_process()), []);
    assert_eq!(unreaped_children(), Vec::<u32>::new());
    drop(session);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_crashed_driver_leaves_no_orphans() {
    crashed_driver_leaves_no_orphans(EngineId::Chromium).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_crashed_driver_leaves_no_orphans() {
    crashed_driver_leaves_no_orphans(EngineId::Firefox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkitgtk_crashed_driver_leaves_no_orphans() {
    crashed_driver_leaves_no_orphans(EngineId::WebKitGtk).await;
}

/// Set in the environment of the copy of this test binary that
/// [`sigterm_ends_registered_processes_and_exits_143`] starts.
const SIGNAL_CHILD_VARIABLE: &str = "PMCONF_TEST_SIGNAL_CHILD";

/// Not a test by itself: the body of the child process of
/// [`sigterm_ends_registered_processes_and_exits_143`]. Starts a process
/// through the registry, prints its PID and waits for a signal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by sigterm_ends_registered_processes_and_exits_143"]
async fn signal_cleanup_child() {
    if std::env::var_os(SIGNAL_CHILD_VARIABLE).is_none() {
        return;
    }
    let registry = ProcessRegistry::new();
    pmconf::engine::install_signal_cleanup(registry.clone()).unwrap();
    let mut sleep = tokio::process::Command::new("sleep");
    sleep.arg("30");
    let handle = registry.spawn("sleep", &mut sleep).unwrap();
    println!("SLEEP_PID={}", handle.pid());
    tokio::time::sleep(Duration::from_secs(30)).await;
    panic!("no signal arrived");
}

#[test]
fn sigterm_ends_registered_processes_and_exits_143() {
    let _serial = SERIAL.blocking_lock();
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "signal_cleanup_child",
            "--ignored",
            "--nocapture",
        ])
        .env(SIGNAL_CHILD_VARIABLE, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let sleep_pid: u32 = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("SLEEP_PID=")?.trim().parse().ok())
        .expect("the child prints the PID of its sleep");
    let sleep = ProcessIdentity::of(sleep_pid).expect("sleep is running");
    assert!(sleep.is_running());

    // SAFETY: `child` is our own unreaped child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(143),
        "{status:?} (signal {:?})",
        status.signal()
    );
    // The sleep was re-parented to PID 1 when the child exited, but it was
    // ended before that.
    assert!(!sleep.is_running());
}

/// The driver starts but the browser does not: `SessionNotCreated` with
/// the driver's message, and the driver is ended.
#[tokio::test]
async fn a_browser_that_does_not_start_is_reported_as_session_not_created() {
    let _serial = SERIAL.lock().await;
    let Some(mut installed) = installed_or_skip(EngineId::Chromium) else {
        return;
    };
    installed.browser.path = PathBuf::from("/bin/false");
    let registry = ProcessRegistry::new();
    let (_proxy, proxy_address) = silent_proxy().await;
    let error = start_session(EngineId::Chromium, &installed, &proxy_address, &registry)
        .await
        .unwrap_err();
    let SetupError::SessionNotCreated { message, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert!(!message.is_empty());
    println!("chromium with /bin/false: {message}");
    assert!(registry.owned().is_empty(), "the driver was ended");
    assert_eq!(still_running(&descendants_of_this_process()), []);
}
