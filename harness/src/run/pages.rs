//! The HTML the server sends: the runner page and each window's page.

use super::protocol::AgentConfig;
use serde_json::Value as Json;

/// The agent every window runs.
pub const AGENT_JS: &str = include_str!("agent.js");

/// The message codec the agent and every standalone page use.
pub const CODEC_JS: &str = include_str!("codec.js");

/// The host of the runner page (reserved: cases cannot use it).
pub const RUNNER_HOST: &str = pmconf_model::hosts::HARNESS_HOST;

/// The runner page's path.
pub const RUNNER_PATH: &str = "/__pmconf/runner";

/// JSON made safe to embed in an inline `<script>`: `<`, `>` and `&` can
/// never close the script element or start a comment, and U+2028/U+2029
/// (line terminators in older JavaScript) are escaped. The result is still
/// valid JSON and a valid JavaScript expression.
pub fn script_safe_json(value: &Json) -> String {
    let text = serde_json::to_string(value).expect("JSON values serialize");
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The script that sets a window's configuration and runs the agent.
pub fn inject_script(config: &AgentConfig) -> String {
    let config = serde_json::to_value(config).expect("an agent configuration serializes");
    format!(
        "window.__pmconfConfig = {};\n{CODEC_JS}\n{AGENT_JS}",
        script_safe_json(&config)
    )
}

/// A window's whole page.
pub fn window_html(config: &AgentConfig) -> String {
    format!(
        "<!doctype html>\n<meta charset=utf-8>\n<title>pmconf window</title>\n<body>\n<script>\n{}\n</script>\n</body>\n",
        inject_script(config)
    )
}

/// The headers every page of a cross-origin isolated case is served with:
/// COOP `same-origin` (it matters on the top-level page), COEP
/// `require-corp`, and CORP `cross-origin` so that the case's cross-origin
/// iframes may load under their embedder's COEP.
/// <https://html.spec.whatwg.org/multipage/browsers.html#cross-origin-isolation>
pub const ISOLATION_HEADERS: [(&str, &str); 3] = [
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-resource-policy", "cross-origin"),
];

/// The runner page: one long-lived top-level page per engine session, into
/// which the harness mounts each batch of cases as iframes.
pub fn runner_html() -> String {
    r#"<!doctype html>
<meta charset=utf-8>
<title>pmconf runner</title>
<body>
<p id="progress"></p>
<script>
"use strict";
// Mounts a case's top window in a new slot (an iframe), and returns it.
window.__pmconfMount = function (key, pagePath, urlAsWritten) {
  var f = document.createElement("iframe");
  f.id = "slot-" + key;
  f.src = new URL(pagePath, urlAsWritten).href;
  document.body.appendChild(f);
  return f;
};
// Document reuse (harness/src/run/reuse.rs). Each of `mounts` is
// [key, pagePath, urlAsWritten, poolKey or null]: a case with a pool key
// takes an idle slot left with that key, if there is one, else a new
// slot. Returns, per mount, [frame index, slot id, whether reused, the
// key prefix a reused slot served last].
window.__pmconfMountReusing = function (mounts) {
  var taken = mounts.map(function (m) {
    var f = null;
    if (m[3] !== null) {
      f = Array.prototype.slice.call(document.querySelectorAll("iframe")).filter(function (x) {
        return x.dataset.pool === m[3] && x.dataset.busy !== "1";
      })[0] || null;
    }
    var reused = f !== null;
    var servedLast = reused ? f.dataset.keyPrefix : null;
    if (!reused) {
      f = window.__pmconfMount(m[0], m[1], m[2]);
      if (m[3] !== null) f.dataset.pool = m[3];
    }
    f.dataset.busy = "1";
    f.dataset.keyPrefix = m[0];
    f.style.display = "";
    f.dataset.used = String(++window.__pmconfUses);
    return [f, reused, servedLast];
  });
  var all = Array.prototype.slice.call(document.querySelectorAll("iframe"));
  return taken.map(function (t) { return [all.indexOf(t[0]), t[0].id, t[1], t[2]]; });
};
window.__pmconfUses = 0;
// Keeps the slots `keep` (ids) and those already idle for later cases, at
// most `cap` of them, the most recently used; removes every other.
window.__pmconfRelease = function (keep, cap) {
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe"));
  var kept = frames.filter(function (f) { return f.dataset.busy === "0" || keep.indexOf(f.id) >= 0; });
  kept.sort(function (a, b) { return Number(b.dataset.used) - Number(a.dataset.used); });
  kept = kept.slice(0, cap);
  frames.forEach(function (f) {
    // An idle slot is not rendered (its documents stay, and run no
    // script until a case takes the slot again).
    if (kept.indexOf(f) >= 0) { f.dataset.busy = "0"; f.style.display = "none"; } else f.remove();
  });
};
// The channel (harness/src/run/via_channel.rs): with a runner id and
// the run's token in this page's URL, the harness mounts, opens and
// releases over a WebSocket instead of WebDriver script calls.
// A page opened by a person (`pmconf serve`) has the token but no runner
// id: it picks one, so that several browsers can run at once.
(function () {
  var q = new URLSearchParams(location.search);
  if (!q.get("token")) return;
  var runner = q.get("runner") || "b" + Math.random().toString(36).slice(2, 10);
  var ws = new WebSocket("ws://" + location.host + "/__pmconf/channel?runner=" +
    encodeURIComponent(runner) + "&token=" + encodeURIComponent(q.get("token")));
  var reply = function (id, results) {
    if (id !== undefined) ws.send(JSON.stringify({ t: "done", id: id, results: results }));
  };
  ws.onmessage = function (e) {
    var m = JSON.parse(e.data);
    if (m.t === "mount") reply(m.id, window.__pmconfMountReusing(m.mounts));
    else if (m.t === "release") { window.__pmconfRelease(m.keep, m.cap); reply(m.id, true); }
    else if (m.t === "open") reply(m.id, m.urls.map(function (u) { return window.open(u, "_blank") !== null; }));
    else if (m.t === "progress") document.getElementById("progress").textContent = m.text;
    else if (m.t === "report") {
      // The results: pmconf's HTML report, in place of this page.
      reply(m.id, true);
      document.open();
      document.write(m.html);
      document.close();
    }
    else reply(m.id, { harnessError: "unknown command " + m.t });
  };
  ws.onclose = function () {
    var p = document.getElementById("progress");
    if (p) p.textContent += " (pmconf closed the connection)";
  };
})();
</script>
</body>
"#
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_json_cannot_close_the_script() {
        let v = json!({"m": "</script><script>alert(1)</script>", "l": "a\u{2028}b", "q": "\"'\\"});
        let s = script_safe_json(&v);
        // Not only `</script>`: a raw `<` can also open `<!--` or
        // `<script` inside an inline script and change how it parses.
        assert!(!s.contains(['<', '>', '&']), "{s}");
        assert!(!s.contains('\u{2028}'));
        // Still the same value once parsed.
        let back: Json = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn window_page_embeds_config_and_agent() {
        let config = crate::run::protocol::AgentConfig {
            key: "k".into(),
            doc: "d".into(),
            race: false,
            name: "</script>".into(),
            report_base: "http://a.test/".into(),
            marker_prefix: "m".into(),
            token: "t".into(),
            harness_host: "pmconf.test".into(),
            source_refs: Default::default(),
            unreachable_senders: vec![],
            back_refs: Default::default(),
            senders_here: vec![],
            unidentified_source: "?".into(),
            steps: Default::default(),
            children: vec![],
            ports: crate::run::protocol::PortConfig {
                candidates: vec![],
                twins: Default::default(),
            },
        };
        let html = window_html(&config);
        assert_eq!(
            html.matches("</script>").count(),
            1,
            "only the real closing tag"
        );
        assert!(html.contains("window.__pmconfConfig = {\"key\":\"k\""));
        assert!(html.contains("window.__pmconf = {"));
    }
}
