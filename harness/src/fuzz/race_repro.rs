//! A standalone HTML page for a race finding: opened in a browser by
//! itself (from `file:` or any server), it runs the race several times and
//! shows the histogram of outcomes, each marked allowed or not by the
//! model.
//!
//! The page plays the case's steps in order, one task per step or
//! `same_task` group (a group runs in one script turn), against iframes it
//! makes for the case's windows. Each document is an `srcdoc` iframe
//! document that registers its `message` listener in its first script and
//! reports what it receives, labelled as the model labels documents
//! (`child`, `child@3` for the document step 3 loads). A navigation or
//! reload sets a new `srcdoc`, which is a real navigation: the old
//! document stays until the new one commits.
//!
//! NOTE: every document here has the page's own origin, popups are iframes
//! (a page opened by hand may not open popups), iframes sit side by side
//! rather than nested, and origin targetOrigins become `*`: the page shows
//! *which document* receives what and how often, the part of a race that
//! does not depend on origins. The YAML beside it, run with `pmconf run`,
//! is the faithful reproduction.

use crate::run::pages::script_safe_json;
use pmconf_model::case::{Case, Relation, Step};
use pmconf_model::Outcome;
use serde_json::{json, Value};

/// An outcome's histogram key, as the page computes it from what its
/// documents received: each document that received something, in label
/// order, with the JSON of each `event.data` in order.
pub fn outcome_key(outcome: &Outcome) -> String {
    let mut rows: Vec<(String, Vec<String>)> = outcome
        .received
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(label, list)| {
            (
                label.clone(),
                list.iter()
                    .map(|d| serde_json::to_string(&d.message).unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    rows.sort();
    if rows.is_empty() {
        return "nothing delivered".into();
    }
    rows.iter()
        .map(|(label, data)| format!("{label}: {}", data.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The page for `case`: `runs` runs, the model's allowed outcomes, those
/// an open issue of the HTML Standard leaves open (`contested`: shown as
/// such, never as the divergence) and what `engine` showed (with how
/// often), for the comment and the table.
pub fn race_html(
    case: &Case,
    description: &str,
    (allowed, contested): (&[Outcome], &[Outcome]),
    engine: &str,
    engine_saw: &[(Outcome, usize)],
    runs: usize,
) -> String {
    let windows: Vec<Value> = case
        .windows
        .iter()
        .map(|w| {
            json!({
                "name": w.name,
                "createdByStep": w.created_by_step,
                "popup": matches!(w.relation, Relation::Popup { .. }),
            })
        })
        .collect();
    let name = |w: usize| case.windows[w].name.clone();
    let steps: Vec<Value> = case
        .steps
        .iter()
        .map(|s| match s {
            Step::Post(p) => json!({
                "kind": "post", "from": name(p.from), "to": name(p.to),
                "functionOf": p.function_of.map(name),
                "message": p.message.to_tagged_json(),
                "targetOrigin": match p.target_origin.as_deref() {
                    None | Some("/") => "/",
                    Some(_) => "*",
                },
            }),
            Step::Navigate(n) => json!({"kind": "navigate", "window": name(n.window)}),
            Step::Fragment { window, fragment } => {
                json!({"kind": "fragment", "window": name(*window), "fragment": fragment})
            }
            Step::SetDomain { window, domain } => {
                json!({"kind": "set_domain", "window": name(*window), "domain": domain})
            }
            other => json!({"kind": other.kind(), "window": name(other.subject())}),
        })
        .collect();
    let tasks: Vec<Vec<usize>> = case.tasks().into_iter().map(|r| r.collect()).collect();
    let allowed_keys: Vec<String> = allowed.iter().map(outcome_key).collect();
    let contested_keys: Vec<String> = contested
        .iter()
        .map(outcome_key)
        .filter(|k| !allowed_keys.contains(k))
        .collect();
    let seen: Vec<Value> = engine_saw
        .iter()
        .map(|(o, n)| json!({"outcome": outcome_key(o), "count": n}))
        .collect();
    let data = json!({
        "description": description,
        "windows": windows,
        "steps": steps,
        "tasks": tasks,
        "allowed": allowed_keys,
        "contested": contested_keys,
        "engine": engine,
        "engineSaw": seen,
        "runs": runs,
    });
    let comment = super::repro::comment_safe;
    let allowed_text: Vec<String> = allowed_keys.iter().map(|k| format!("    {k}")).collect();
    let seen_text: Vec<String> = engine_saw
        .iter()
        .map(|(o, n)| format!("    {n} x {}", outcome_key(o)))
        .collect();
    format!(
        r#"<!doctype html>
<meta charset=utf-8>
<title>pmconf race repro: {title}</title>
<!--
  {comment_description}

  The reference model allows these outcomes (documents that received
  something, and the messages in order):
{allowed_text}
  {engine} showed:
{seen_text}
  This page runs the race {runs} times in the browser that opens it and
  shows the histogram. Every document here has the page's origin, popups
  are iframes and origin targetOrigins are "*": it shows which document
  gets each message. The exact reproduction is the YAML beside it with
  pmconf's own runner, in any browser and without WebDriver:
  `pmconf serve THAT.yaml --repeat 20`, then open the URL it prints.
-->
<style>body{{font:14px system-ui,sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}table{{border-collapse:collapse}}.bad{{background:#fdd}}#stage iframe{{width:60px;height:40px}}</style>
<h1>pmconf race repro</h1>
<p id=description></p>
<p id=status>running…</p>
<p id=shown></p>
<table><thead><tr><th>outcome</th><th>runs</th><th>model</th></tr></thead><tbody id=rows></tbody></table>
<div id=stage></div>
<script>
"use strict";
const DATA = {data};
{codec}
// pmconf's own message codec (harness/src/run/codec.js).
const BUFFERS = {{}};
const CODEC = (window.CODEC = pmconfCodec({{ buffers: () => BUFFERS, portByName: () => undefined, portNameOf: () => "?" }}));
const decode = (j) => CODEC.buildMessage(j);
const tick = () => new Promise((r) => setTimeout(r, 0));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function docHtml(label) {{
  return "<!doctype html><script>addEventListener('message', (e) => top.pmconfRecord(" +
    JSON.stringify(label) + ", top.CODEC.encodeReceived(e.data))); top.pmconfLoaded(" + JSON.stringify(label) +
    ");<\/script>";
}}
async function runOnce(stage) {{
  const received = {{}};
  const loaded = new Set();
  window.pmconfRecord = (label, data) => (received[label] = received[label] || []).push(JSON.stringify(data));
  window.pmconfLoaded = (label) => loaded.add(label);
  const frames = {{}};
  const latest = {{}};
  const make = (name) => {{
    const f = document.createElement("iframe");
    f.srcdoc = docHtml(name);
    latest[name] = name;
    stage.append(f);
    frames[name] = f;
  }};
  const win = (name) => frames[name] && frames[name].contentWindow;
  for (const w of DATA.windows) if (w.createdByStep === null) make(w.name);
  for (let t = 0; t < 400 && !DATA.windows.every((w) => w.createdByStep !== null || loaded.has(w.name)); t++) await sleep(5);
  for (const task of DATA.tasks) {{
    for (const i of task) {{
      const s = DATA.steps[i];
      if (s.kind === "wait") {{
        for (let t = 0; t < 400 && !loaded.has(latest[s.window]); t++) await sleep(5);
        continue;
      }}
      try {{
        switch (s.kind) {{
          case "post":
            if (s.functionOf) win(s.from).Function("f", "t", "d", "o", "f.postMessage.call(t, d, o)")(win(s.functionOf), win(s.to), decode(s.message), s.targetOrigin);
            else win(s.from).Function("t", "d", "o", "t.postMessage(d, o)")(win(s.to), decode(s.message), s.targetOrigin);
            break;
          case "navigate":
          case "reload":
            latest[s.window] = s.window + "@" + i;
            frames[s.window].srcdoc = docHtml(latest[s.window]);
            break;
          case "remove":
            frames[s.window].remove();
            break;
          case "close":
            setTimeout(() => frames[s.window].remove(), 0);
            break;
          case "create":
            make(s.window);
            break;
          case "push_state":
            win(s.window).history.pushState(null, "");
            break;
          case "fragment":
            win(s.window).location.hash = s.fragment;
            break;
          case "set_domain":
            win(s.window).document.domain = s.domain;
            break;
        }}
      }} catch (e) {{
        (received["exceptions"] = received["exceptions"] || []).push(JSON.stringify(s.kind + " " + i + ": " + e.name));
      }}
    }}
    await tick();
  }}
  await sleep(300);
  stage.textContent = "";
  const labels = Object.keys(received).filter((l) => received[l].length).sort();
  return labels.length ? labels.map((l) => l + ": " + received[l].join(" ")).join("; ") : "nothing delivered";
}}
async function main() {{
  document.getElementById("description").textContent = DATA.description;
  const counts = new Map();
  const stage = document.getElementById("stage");
  for (let r = 0; r < DATA.runs; r++) {{
    const key = await runOnce(stage);
    counts.set(key, (counts.get(key) || 0) + 1);
    document.getElementById("status").textContent = "run " + (r + 1) + " of " + DATA.runs;
  }}
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  // A contested outcome is one an open issue of the HTML Standard leaves
  // open (pmconf's verdict `contested`): shown, never the divergence.
  const isContested = (o) => !DATA.allowed.includes(o) && DATA.contested.includes(o);
  for (const [outcome, count] of rows) {{
    const tr = document.createElement("tr");
    const ok = DATA.allowed.includes(outcome);
    if (!ok && !isContested(outcome)) tr.className = "bad";
    const verdict = ok ? "allowed" : isContested(outcome) ? "contested (an open issue of the HTML Standard)" : "not allowed";
    for (const text of [outcome, String(count), verdict]) {{
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }}
    document.getElementById("rows").append(tr);
  }}
  const off = rows.filter(([o]) => !DATA.allowed.includes(o) && !isContested(o)).reduce((n, [, c]) => n + c, 0);
  const open = rows.filter(([o]) => isContested(o)).reduce((n, [, c]) => n + c, 0);
  document.getElementById("shown").textContent = off ? "This browser shows the divergence: " + off + " of " + DATA.runs + " runs ended outside the model's allowed outcomes (in red)." : "This browser did not show the divergence in " + DATA.runs + " runs: every outcome is one the model allows" + (open ? " or one an open issue of the HTML Standard leaves open (" + open + " contested)" : "") + " (reload to try again, or run the YAML beside this page with pmconf run --repeat 20).";
  window.pmconfHistogram = {{ runs: DATA.runs, rows: rows.map(([outcome, count]) => ({{ outcome, count, allowed: DATA.allowed.includes(outcome), contested: isContested(outcome) }})) }};
  document.getElementById("status").textContent = DATA.runs + " runs; " + DATA.engine + " showed: " +
    DATA.engineSaw.map((s) => s.count + " \u00d7 " + s.outcome).join(", ");
}}
main();
</script>
"#,
        title = crate::report::html_escape(description),
        comment_description = comment(description),
        allowed_text = comment(&allowed_text.join("\n")),
        seen_text = comment(&seen_text.join("\n")),
        data = script_safe_json(&data),
        codec = crate::run::pages::CODEC_JS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::{Delivery, PostOutcome};

    #[test]
    fn keys_list_documents_that_received_in_label_order() {
        let d = |m: &str| Delivery {
            message: json!(m),
            origin: "http://a.test".into(),
            source: Some("top".into()),
            ports: Vec::new(),
        };
        let o = Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![
                ("top".into(), vec![]),
                ("child@1".into(), vec![d("m"), d("n")]),
                ("child".into(), vec![d("x")]),
            ],
        };
        assert_eq!(outcome_key(&o), r#"child: "x"; child@1: "m" "n""#);
        let none = Outcome {
            posts: vec![],
            received: vec![("top".into(), vec![])],
        };
        assert_eq!(outcome_key(&none), "nothing delivered");
    }
}
