//! The exported tests in the real engines: served by wptserve (PyPI, from
//! `scripts/install-wpt-tools`), testharness.js from the npm package
//! wpt-runner, run through pmconf's own WebDriver sessions and proxy. Each
//! must PASS where pmconf's accepted verdict is `conforms` and FAIL, with
//! the assertion naming the divergence, where it is `diverges`.
//!
//! A representative subset runs here (the whole agreement table is
//! `pmconf export wpt cases --out DIR --verify`, a few minutes per
//! engine): iframes across sites, a popup with a frame, srcdoc and
//! about:blank frames, a data: frame, a sandboxed frame, the options
//! dictionary with a transfer list, an IDN host, an https test page, a
//! cross-window call (exceptions tagged with their realm), a
//! race (post, then remove the frame, in one task; run 5 times), and one
//! adopted finding per engine. A missing engine or tool is skipped
//! with the reason printed, unless CI is set.

mod common;

use common::{ci, engines, pmconf, text};
use serde_json::Value as Json;

const SUBSET: [&str; 13] = [
    "cases/topology/iframe-both-ways.yaml",
    "cases/topology/popup-frame.yaml",
    "cases/opaque/srcdoc-and-about-blank-inherit.yaml",
    "cases/opaque/data-frame-sender.yaml",
    "cases/opaque/sandboxed-sender-null.yaml",
    "cases/call-forms/options-transfer-only.yaml",
    "cases/serialization/idn-unicode-sender.yaml",
    "cases/serialization/https-origin.yaml",
    "cases/races/post-then-remove-same-task.yaml",
    "cases/calls/function-of-exceptions-are-the-functions-realm.yaml",
    "cases/found/chromium--invalid-host-label--2a458257.yaml",
    "cases/found/firefox--blob-wrapped--461e34f0.yaml",
    "cases/found/webkitgtk--blob-wrapped--332251e4.yaml",
];

fn tools_present() -> bool {
    match pmconf::export::verify::tools::WptTools::find() {
        Ok(_) => true,
        Err(e) if ci() => panic!("CI is set and {e}"),
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    }
}

#[test]
fn exported_tests_agree_with_pmconfs_verdicts_in_every_engine() {
    let tools = common::workspace().join("target/wpt-tools");
    std::env::set_var("PMCONF_WPT_TOOLS", &tools);
    if !tools_present() {
        return;
    }
    let engines = engines();
    if engines.is_empty() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let list: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let out = pmconf()
        .env("PMCONF_WPT_TOOLS", &tools)
        .args(["export", "wpt"])
        .args(SUBSET)
        .arg("--out")
        .arg(dir.path())
        .args(["--verify", "--engine", &list.join(",")])
        .output()
        .unwrap();
    let report = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "every cell must agree:\n{report}"
    );
    let verify: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pmconf-wpt-verify.json")).unwrap(),
    )
    .unwrap();
    let cells = verify["agreement"].as_array().unwrap();
    assert_eq!(cells.len(), SUBSET.len() * engines.len(), "{report}");
    for e in &engines {
        // The finding adopted for this engine fails there, and its
        // assertion names what diverged: the post that threw (or not),
        // or the window whose messages differ.
        let finding = SUBSET
            .iter()
            .find(|c| c.starts_with(&format!("cases/found/{}--", e.name())))
            .unwrap();
        let names = match e.name() {
            // model SyntaxError, Chromium returns
            "chromium" => "step 0 (top → top, targetOrigin",
            // model delivers, Firefox drops
            "firefox" => "messages received by top",
            // model returns, WebKitGTK throws SyntaxError
            _ => "step 0 (top → top, targetOrigin",
        };
        let cell = cells
            .iter()
            .find(|c| c["case"] == *finding && c["engine"] == e.name())
            .unwrap_or_else(|| panic!("no cell for {finding} in {e}:\n{report}"));
        assert_eq!(cell["verdict"], "diverges", "{cell}");
        assert_eq!(cell["status"], "FAIL", "{cell}");
        let message = cell["message"].as_str().unwrap_or_default();
        assert!(message.contains(names), "{message}");
        // A conforming case passes there.
        let plain = cells
            .iter()
            .find(|c| c["case"] == SUBSET[0] && c["engine"] == e.name())
            .unwrap();
        assert_eq!(plain["status"], "PASS", "{plain}");
    }
}
