//! What kind of process each process of an engine's tree is, as data:
//! one rule list per engine, matched on the process's name and arguments.
//!
//! Names and arguments as measured on Debian 12 (see
//! `shared/browser-notes.md`): Chromium's children carry `--type=...`
//! (`renderer`, `gpu-process`, `utility` with a `--utility-sub-type`,
//! `zygote`); Firefox's carry `-contentproc` and end with their type
//! (`tab`, `socket`, `rdd`, `gpu`, `utility`); WebKitGTK's are separate
//! binaries (`WebKitWebProcess`, `WebKitNetworkProcess`,
//! `WebKitGPUProcess`).

use crate::engine::EngineId;
use serde::Serialize;

/// The kinds of process a profile sums CPU time by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    /// pmconf itself (the server, the proxy, the WebDriver client).
    Harness,
    /// The WebDriver server.
    Driver,
    /// The browser's main (UI) process.
    Browser,
    /// Renderer (Chromium), content (Firefox) or web (WebKit) processes:
    /// where pages run.
    Renderer,
    /// The network process or service.
    Network,
    /// The GPU process.
    Gpu,
    /// Zygotes, utility, media and crash-reporter processes.
    Utility,
    /// The Xvfb display started for a session.
    Display,
}

impl ProcessKind {
    /// Every kind, in table order.
    pub const ALL: [ProcessKind; 8] = [
        ProcessKind::Harness,
        ProcessKind::Driver,
        ProcessKind::Browser,
        ProcessKind::Renderer,
        ProcessKind::Network,
        ProcessKind::Gpu,
        ProcessKind::Utility,
        ProcessKind::Display,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            ProcessKind::Harness => "harness",
            ProcessKind::Driver => "driver",
            ProcessKind::Browser => "browser",
            ProcessKind::Renderer => "renderer",
            ProcessKind::Network => "network",
            ProcessKind::Gpu => "gpu",
            ProcessKind::Utility => "utility",
            ProcessKind::Display => "xvfb",
        }
    }
}

/// One test on a process.
#[derive(Debug, Clone, Copy)]
pub enum Test {
    /// Some argument contains this text.
    ArgContains(&'static str),
    /// Some argument is exactly this.
    Arg(&'static str),
    /// The program's name (`comm`, or the last part of the first argument)
    /// contains this text.
    Name(&'static str),
}

/// A kind, given when every test holds.
#[derive(Debug, Clone, Copy)]
pub struct KindRule {
    /// The kind given.
    pub kind: ProcessKind,
    /// Tests that must all hold.
    pub all: &'static [Test],
}

const fn rule(kind: ProcessKind, all: &'static [Test]) -> KindRule {
    KindRule { kind, all }
}

use ProcessKind::{Gpu, Network, Renderer, Utility};
use Test::{Arg, ArgContains, Name};

const CHROMIUM: &[KindRule] = &[
    rule(Renderer, &[ArgContains("--type=renderer")]),
    rule(
        Network,
        &[ArgContains(
            "--utility-sub-type=network.mojom.NetworkService",
        )],
    ),
    rule(Gpu, &[ArgContains("--type=gpu-process")]),
    // Zygotes, other utilities, the crash handler.
    rule(Utility, &[ArgContains("--type=")]),
    rule(Utility, &[Name("crashpad")]),
];

const FIREFOX: &[KindRule] = &[
    rule(Renderer, &[Arg("-contentproc"), Arg("tab")]),
    rule(Network, &[Arg("-contentproc"), Arg("socket")]),
    rule(Gpu, &[Arg("-contentproc"), Arg("gpu")]),
    rule(Utility, &[Arg("-contentproc")]),
];

const WEBKITGTK: &[KindRule] = &[
    rule(Renderer, &[Name("WebKitWebProces")]),
    rule(Network, &[Name("WebKitNetworkPr")]),
    rule(Gpu, &[Name("WebKitGPUProces")]),
    rule(Utility, &[Name("WebKit")]),
];

/// The rules of an engine.
pub fn rules(engine: EngineId) -> &'static [KindRule] {
    match engine {
        EngineId::Chromium => CHROMIUM,
        EngineId::Firefox => FIREFOX,
        EngineId::WebKitGtk => WEBKITGTK,
    }
}

/// The kind of a descendant of an engine's driver: the first rule that
/// matches, else the browser's main process (or a process it started that
/// no rule names, such as a shell wrapper). `name` is the `comm` of
/// `/proc/PID/stat` (at most 15 bytes, hence the cut names above) and
/// `args` the NUL-separated `/proc/PID/cmdline`.
pub fn classify(engine: EngineId, name: &str, args: &[String]) -> ProcessKind {
    let program = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("");
    let holds = |test: &Test| match *test {
        ArgContains(text) => args.iter().any(|a| a.contains(text)),
        Arg(text) => args.iter().any(|a| a == text),
        Name(text) => name.contains(text) || program.contains(text),
    };
    rules(engine)
        .iter()
        .find(|r| r.all.iter().all(holds))
        .map(|r| r.kind)
        .unwrap_or(ProcessKind::Browser)
}

/// Splits `/proc/PID/cmdline` into arguments. Chromium rewrites its
/// children's command line into one space-separated string (as
/// `setproctitle` does), so a single argument holding spaces is split on
/// them as well.
pub fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.len() == 1 && args[0].contains(' ') {
        return args[0].split(' ').map(str::to_owned).collect();
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        parse_cmdline(line.replace(' ', "\0").as_bytes())
    }

    #[test]
    fn chromium_children_are_classified_by_their_type_argument() {
        let c = |line: &str| classify(EngineId::Chromium, "chromium", &args(line));
        assert_eq!(
            c("/usr/lib/chromium/chromium --type=renderer --lang=en-US"),
            Renderer
        );
        assert_eq!(
            c("/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService"),
            Network
        );
        assert_eq!(
            c("/usr/lib/chromium/chromium --type=utility --utility-sub-type=storage.mojom.StorageService"),
            Utility
        );
        assert_eq!(c("/usr/lib/chromium/chromium --type=gpu-process"), Gpu);
        assert_eq!(c("/usr/lib/chromium/chromium --type=zygote"), Utility);
        assert_eq!(
            c("/usr/lib/chromium/chromium --headless --remote-debugging-port=0"),
            ProcessKind::Browser
        );
        assert_eq!(
            classify(
                EngineId::Chromium,
                "chrome_crashpad",
                &args("/usr/lib/chromium/chrome_crashpad_handler --database=x")
            ),
            Utility
        );
    }

    #[test]
    fn chromium_rewritten_command_lines_are_split_on_spaces() {
        // One NUL-terminated string, as Chromium leaves it.
        let raw = b"/usr/lib/chromium/chromium --type=renderer --lang=en-US\0";
        let parsed = parse_cmdline(raw);
        assert_eq!(parsed.len(), 3);
        assert_eq!(classify(EngineId::Chromium, "chromium", &parsed), Renderer);
    }

    #[test]
    fn firefox_content_processes_are_classified_by_their_last_argument() {
        let f = |line: &str| classify(EngineId::Firefox, "firefox-esr", &args(line));
        let content = "/usr/lib/firefox-esr/firefox-esr -contentproc -childID 3 -isForBrowser -prefsLen 3 {abc} 1234 true";
        assert_eq!(f(&format!("{content} tab")), Renderer);
        assert_eq!(f(&format!("{content} socket")), Network);
        assert_eq!(f(&format!("{content} rdd")), Utility);
        assert_eq!(f(&format!("{content} gpu")), Gpu);
        assert_eq!(
            f("/usr/lib/firefox-esr/firefox-esr --marionette -headless -profile /tmp/p"),
            ProcessKind::Browser
        );
        // "tab" as part of some other argument is not the type.
        assert_eq!(
            f("/usr/lib/firefox-esr/firefox-esr -profile /tmp/tabs"),
            ProcessKind::Browser
        );
    }

    #[test]
    fn webkit_processes_are_classified_by_their_program_name() {
        let w = |comm: &str, line: &str| classify(EngineId::WebKitGtk, comm, &args(line));
        assert_eq!(
            w(
                "WebKitWebProces",
                "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess 12 34"
            ),
            Renderer
        );
        assert_eq!(
            w(
                "WebKitNetworkPr",
                "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitNetworkProcess 5 6"
            ),
            Network
        );
        assert_eq!(
            w(
                "MiniBrowser",
                "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser --automation"
            ),
            ProcessKind::Browser
        );
    }
}
