//! `pmconf export wpt` without a browser: what is written for a case, what
//! is refused and why, the manifest, bad input. (The exported tests run in
//! the engines in `wpt_export_verify.rs`.)

mod common;

use common::{pmconf, text, workspace};
use pmconf::export::manifest::{self, Manifest};
use std::path::Path;

fn export(args: &[&str], out: &Path) -> std::process::Output {
    let mut c = pmconf();
    c.args(["export", "wpt"]).args(args).arg("--out").arg(out);
    c.output().unwrap()
}

fn read(out: &Path, path: &str) -> String {
    std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The test page of `cases/topology/iframe-both-ways.yaml`, checked
/// against what the HTML Standard's window post message steps say, by
/// hand: top (a.test:8000, so WPT's own origin `{{host}}` and
/// ports[http][0]) posts "down" to its child (b.test:8001, another site,
/// so WPT's other site `{{hosts[alt][]}}`, on its first port) with the
/// child's exact origin: step 8.1's check passes, the child receives
/// "down" with event.origin the top's origin (step 5: the caller's
/// origin) and event.source top; then the child posts "up" to top with
/// top's origin: delivered, origin the child's.
#[test]
fn a_plain_case_becomes_a_test_page_and_a_helper_with_the_models_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let out = export(&["cases/topology/iframe-both-ways.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = read(
        dir.path(),
        "webmessaging/pmconf/topology/iframe-both-ways.sub.html",
    );
    assert!(
        page.starts_with("<!DOCTYPE html>\n<meta charset=\"utf-8\">\n"),
        "{page}"
    );
    assert!(page.contains("<title>postMessage: parent and cross-origin child post to each other with exact targetOrigins</title>"), "{page}");
    assert!(page.contains("<script src=\"/resources/testharness.js\"></script>\n<script src=\"/resources/testharnessreport.js\"></script>"));
    assert!(
        page.contains("  a.test -> {{host}} (http:8000 -> ports[http][0])"),
        "{page}"
    );
    assert!(
        page.contains("  b.test -> {{hosts[alt][]}} (http:8001 -> ports[http][0])"),
        "{page}"
    );
    // The post, with the child's origin spelled in WPT's tokens.
    assert!(page.contains("0: (w, reply) => w[\"child\"].postMessage(\"down\", \"http://{{hosts[alt][]}}:{{ports[http][0]}}\")"), "{page}");
    // The one allowed outcome, hand-derived above.
    assert!(page.contains(
        "received: {\"top\": [{message: \"up\", origin: \"http://{{hosts[alt][]}}:{{ports[http][0]}}\", source: \"child\"}], \"child\": [{message: \"down\", origin: \"http://{{host}}:{{ports[http][0]}}\", source: \"top\"}]}"
    ), "{page}");
    // The child is a helper document on the other site, which takes step 1.
    assert!(page.contains("url: \"http://{{hosts[alt][]}}:{{ports[http][0]}}\" + \"/webmessaging/pmconf/topology/resources/iframe-both-ways--child.sub.html\""), "{page}");
    let helper = read(
        dir.path(),
        "webmessaging/pmconf/topology/resources/iframe-both-ways--child.sub.html",
    );
    assert!(helper.contains("1: (w, reply) => w[\"top\"].postMessage(\"up\", \"http://{{host}}:{{ports[http][0]}}\")"), "{helper}");
    assert!(
        !helper.contains("testharness.js"),
        "a helper loads no harness: {helper}"
    );
    // The shared script is written once, and never names a host.
    let shared = read(dir.path(), "webmessaging/pmconf/resources/case-window.js");
    assert!(shared.contains("global.case_test = function"));
    // Nothing names web-platform.test itself.
    assert!(!page.contains("web-platform.test") && !helper.contains("web-platform.test"));
}

/// Every file written for every case of the suite passes the lint rules
/// WPT's `lint` checks that can be checked locally.
#[test]
fn every_exported_file_of_the_suite_passes_the_lint_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = export(&["cases"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let m = manifest::read(&dir.path().join(manifest::FILE_NAME)).unwrap();
    assert!(m.exported.len() >= 80, "{} exported", m.exported.len());
    let mut files = vec!["webmessaging/pmconf/resources/case-window.js".to_owned()];
    for e in &m.exported {
        files.push(e.test.clone());
        files.extend(e.helpers.iter().cloned());
    }
    for f in files {
        let contents = read(dir.path(), &f);
        assert_eq!(
            pmconf::export::lint::problems(&f, &contents),
            Vec::<String>::new(),
            "{f}"
        );
    }
}

fn write_case(dir: &Path, name: &str, yaml: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path.to_string_lossy().into_owned()
}

/// What WPT cannot express is refused with its reason, grouped, and the
/// manifest says so; what it can is listed with its test.
#[test]
fn refusals_are_grouped_with_their_reason_in_the_manifest() {
    let cases = tempfile::tempdir().unwrap();
    let loopback = write_case(
        cases.path(),
        "loopback.yaml",
        "description: l\nwindows:\n  top: { url: \"http://a.test:8000/\" }\n  child: { parent: top, url: \"http://127.0.0.1:8001/\" }\nsteps:\n  - post: { from: child, to: top, message: m, target_origin: \"*\" }\n",
    );
    let default_port = write_case(
        cases.path(),
        "port.yaml",
        "description: p\nwindows:\n  top: { url: \"http://a.test:8000/\" }\n  child: { parent: top, url: \"http://b.test:8001/\" }\nsteps:\n  - post: { from: top, to: child, message: m, target_origin: \"http://b.test:80\" }\n",
    );
    let out = pmconf()
        .args(["export", "wpt", "--manifest"])
        .args([
            &loopback,
            &default_port,
            "harness/tests/artifacts/firefox-null-source-under-sync-xhr.yaml",
            "cases/target-origin/exact-match.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("1 exported, 3 refused\n"), "{stdout}");
    assert!(
        stdout.contains("refused, loopback-literal (1):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("loads http://127.0.0.1:8001/: WPT's servers are reached by name only"),
        "{stdout}"
    );
    assert!(stdout.contains("refused, port (1):"), "{stdout}");
    assert!(stdout.contains("writes the default port 80"), "{stdout}");
    assert!(stdout.contains("refused, top-window (1):"), "{stdout}");
    assert!(
        stdout.contains("the top window (the test page) is navigated"),
        "{stdout}"
    );
    assert!(stdout.contains(
        "cases/target-origin/exact-match.yaml -> webmessaging/pmconf/target-origin/exact-match.sub.html (exact)"
    ), "{stdout}");
}

/// A cross-window call (`function_of`) and an Error made in another realm
/// are exported in a case without race steps: the step calls the other
/// window's own `postMessage` with the target as `this`, reports what it
/// throws with the realm whose Error it is an instance of (the model's
/// `SyntaxError@same`), and builds the Error with that window's
/// constructor. In a race case (whose steps have no window references)
/// they are still refused, each in its group.
#[test]
fn a_cross_window_call_and_another_realms_error_are_exported_outside_races() {
    let cases = tempfile::tempdir().unwrap();
    let windows = "windows:\n  top: { url: \"http://a.test:8000/\" }\n  same: { parent: top, url: \"http://a.test:8000/\" }\n  child: { parent: top, url: \"http://b.test:8001/\" }\nsteps:\n";
    let call = write_case(
        cases.path(),
        "call.yaml",
        &format!("description: c\n{windows}  - post: {{ from: top, to: child, function_of: same, message: m, target_origin: \"*\" }}\n"),
    );
    let realm = write_case(
        cases.path(),
        "realm.yaml",
        &format!("description: r\n{windows}  - post: {{ from: top, to: same, message: {{ $error: {{ name: TypeError, realm: same }} }}, target_origin: \"*\" }}\n"),
    );
    let race_call = write_case(
        cases.path(),
        "race-call.yaml",
        &format!("description: rc\n{windows}  - post: {{ from: top, to: child, function_of: same, message: m, target_origin: \"*\" }}\n  - remove: {{ window: child }}\n"),
    );
    let race_realm = write_case(
        cases.path(),
        "race-realm.yaml",
        &format!("description: rr\n{windows}  - post: {{ from: top, to: same, message: {{ $error: {{ name: TypeError, realm: same }} }}, target_origin: \"*\" }}\n  - remove: {{ window: child }}\n"),
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = pmconf()
        .args(["export", "wpt"])
        .args([&call, &realm, &race_call, &race_realm])
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("2 exported, 2 refused\n"), "{stdout}");
    let page = read(out_dir.path(), "webmessaging/pmconf/outside/call.sub.html");
    assert!(page.contains("const f = w[\"same\"];"), "{page}");
    assert!(
        page.contains("f.postMessage.call(w[\"child\"], \"m\", \"*\");"),
        "{page}"
    );
    assert!(
        page.contains(
            "const realm = e instanceof f.Error ? \"same\" : e instanceof Error ? \"top\" : '?';"
        ),
        "{page}"
    );
    let page = read(out_dir.path(), "webmessaging/pmconf/outside/realm.sub.html");
    assert!(page.contains("new (w[\"same\"].TypeError)()"), "{page}");
    let manifest = read(out_dir.path(), "pmconf-wpt-manifest.json");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let refused: Vec<(String, String)> = manifest["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        refused.contains(&(
            "call-shape".into(),
            "step 0 calls `same`'s postMessage function with `child` as this (`function_of`): a cross-window call in a race case is not written yet".into()
        )),
        "{refused:?}"
    );
    assert!(
        refused.contains(&(
            "value-kind".into(),
            "step 0 posts an Error made in `same`'s realm: in a race case, not written yet".into()
        )),
        "{refused:?}"
    );
}

/// The manifest an export writes reads back, and names each case's test
/// for the nightly site's link.
#[test]
fn the_manifest_links_a_case_to_its_exported_test() {
    let dir = tempfile::tempdir().unwrap();
    let out = export(
        &[
            "cases/found/chromium--invalid-host-label--2a458257.yaml",
            "cases/serialization/ipv6-loopback.yaml",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let m: Manifest = manifest::read(&dir.path().join(manifest::FILE_NAME)).unwrap();
    assert_eq!(
        manifest::exported_test_for(
            &m,
            "./cases/found/chromium--invalid-host-label--2a458257.yaml"
        ),
        Some("webmessaging/pmconf/found/chromium--invalid-host-label--2a458257.sub.html")
    );
    assert_eq!(
        manifest::exported_test_for(&m, "cases/serialization/ipv6-loopback.yaml"),
        None
    );
    assert_eq!(m.refused_by_group.get("loopback-literal"), Some(&1));
    // The finding's test asserts the model's SyntaxError (the URL
    // Standard's host parser fails the empty punycode label `xn--`).
    let page = read(
        dir.path(),
        "webmessaging/pmconf/found/chromium--invalid-host-label--2a458257.sub.html",
    );
    assert!(
        page.contains("postMessage(\"\", \"http://xn--.{{host}}:{{ports[http][0]}}\")"),
        "{page}"
    );
    assert!(
        page.contains("{\"step\":0,\"threw\":\"SyntaxError\"}"),
        "{page}"
    );
}

/// Bad input: a missing case is an error naming it, exit 2, and nothing
/// is written.
#[test]
fn a_missing_case_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = export(&["cases/no-such-case.yaml"], &out_dir);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-case.yaml"),
        "{}",
        text(&out)
    );
    assert!(!out_dir.exists(), "nothing may be written");
    let _ = workspace();
}

/// A race case: `cases/races/post-then-remove-same-task.yaml`. By hand
/// from the HTML Standard: the post and the removal run in one task of
/// top's; the child (b.test, another site: WPT's alternate host) has its
/// own event loop, which may run the message task before the removal (the
/// child gets "m") or not (once removed, its document is not fully active
/// and the task never runs). Either way the sibling gets "still here".
/// The test page runs both steps in one call and asserts the set.
#[test]
fn a_race_case_runs_its_steps_as_page_script_and_asserts_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = export(&["cases/races/post-then-remove-same-task.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = read(
        dir.path(),
        "webmessaging/pmconf/races/post-then-remove-same-task.sub.html",
    );
    assert!(
        page.contains("<meta name=\"timeout\" content=\"long\">"),
        "{page}"
    );
    assert!(page.contains("race_test("), "{page}");
    assert!(
        page.contains("{reach: null, steps: [0, 1]}"),
        "one task for the group: {page}"
    );
    assert!(
        page.contains("1: go => { go.frameOf(go.at([0])).remove(); }"),
        "{page}"
    );
    let child = "http://{{hosts[alt][]}}:{{ports[http][0]}}";
    assert!(
        page.contains(&format!(
            "0: go => go.at([0]).postMessage(\"m\", \"{child}\")"
        )),
        "{page}"
    );
    let still = "\"sib\": [{message: \"still here\", origin: \"http://{{host}}:{{ports[http][0]}}\", source: \"top\"}]";
    assert!(
        page.contains(&format!("\"child\": [], {still}")),
        "not delivered: {page}"
    );
    assert!(
        page.contains(&format!("\"child\": [{{message: \"m\", origin: \"http://{{{{host}}}}:{{{{ports[http][0]}}}}\", source: \"top\"}}], {still}")),
        "delivered before the removal: {page}"
    );
    let m: Manifest = manifest::read(&dir.path().join(manifest::FILE_NAME)).unwrap();
    assert!(m.exported[0].race);
    assert_eq!(m.exported[0].assertion, "one-of");
}
