//! A standalone HTML page for a minimal divergence.
//!
//! Opened in a browser by itself (from `file:`, or any server), the page
//! makes each post of the case as the sender would, against its own window,
//! and prints whether it threw beside what the model says. The synchronous
//! part of postMessage (what it throws) depends only on the arguments and,
//! for "/", the caller's origin, so divergences in *what throws* show up
//! exactly. For divergences in *delivery*, open the page at the target's
//! origin (for example through `pmconf serve` on the YAML case next to
//! it): the page listens and prints every message it gets with its origin.
//!
//! Messages are built and shown with pmconf's own codec
//! (`harness/src/run/codec.js`), so the page posts exactly what the
//! harness posted, whatever the value's kind.

use crate::run::pages::script_safe_json;
use pmconf_model::case::Case;
use pmconf_model::Outcome;
use serde_json::json;

/// The page for `case`, with the model's outcome and the engine's.
pub fn standalone_html(
    case: &Case,
    description: &str,
    model: &Outcome,
    engine_saw: &Outcome,
    engine: &str,
) -> String {
    let posts: Vec<serde_json::Value> = case
        .posts()
        .map(|(_, p)| {
            json!({
                "from": case.windows[p.from].name,
                "to": case.windows[p.to].name,
                "targetOrigin": p.target_origin,
                "message": p.message.to_tagged_json(),
                "form": crate::run::info::call_form(p),
            })
        })
        .collect();
    let data = json!({
        "description": description,
        "posts": posts,
        "model": model,
        "engine": engine,
        "engineSaw": engine_saw,
    });
    let yaml_model = comment_safe(&serde_yaml::to_string(model).unwrap_or_default());
    let yaml_engine = comment_safe(&serde_yaml::to_string(engine_saw).unwrap_or_default());
    format!(
        r#"<!doctype html>
<meta charset=utf-8>
<title>pmconf repro: {title}</title>
<!--
  {comment_description}

  The reference model allows exactly this outcome:
{yaml_model}
  {engine} showed:
{yaml_engine}-->
<style>body{{font:14px system-ui,sans-serif;margin:2em}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}table{{border-collapse:collapse}}.bad{{background:#fdd}}</style>
<h1>pmconf repro</h1>
<p id=description></p>
<table><thead><tr><th>post</th><th>targetOrigin (or call form)</th><th>this browser</th><th>model</th></tr></thead><tbody id=rows></tbody></table>
<p id=shown></p>
<h2>messages this window received</h2>
<ul id=received></ul>
<script>
"use strict";
const DATA = {data};
{codec}
// The message codec pmconf's own agent uses (harness/src/run/codec.js):
// this page posts exactly what pmconf posted, and shows what arrives in
// the same tagged form.
const BUFFERS = {{}};
const CODEC = pmconfCodec({{ buffers: () => BUFFERS, portByName: () => undefined, portNameOf: () => "?" }});
const decode = (j) => CODEC.buildMessage(j);
const decodeArg = (j) => CODEC.decodeArg(j);
window.pmconfReceived = [];
// The call as the case writes it: positional, an options dictionary, or
// a raw argument list.
function call(p) {{
  if (p.form && p.form.args) return window.postMessage(...p.form.args.map((a, i) => (i === 0 ? decode(a) : decodeArg(a))));
  if (p.form && p.form.options) {{
    const o = {{}};
    if ("targetOrigin" in p.form.options) o.targetOrigin = p.form.options.targetOrigin;
    if ("transfer" in p.form.options) o.transfer = p.form.options.transfer.map(decode);
    return window.postMessage(decode(p.message), o);
  }}
  if (p.targetOrigin === null) return window.postMessage(decode(p.message));
  return window.postMessage(decode(p.message), p.targetOrigin);
}}
document.getElementById("description").textContent = DATA.description;
window.addEventListener("message", (e) => {{
  const data = CODEC.encodeReceived(e.data);
  window.pmconfReceived.push({{ origin: e.origin, data }});
  const li = document.createElement("li");
  li.textContent = "origin " + JSON.stringify(e.origin) + ": " + JSON.stringify(data);
  document.getElementById("received").append(li);
}});
DATA.posts.forEach((p, i) => {{
  let got;
  try {{
    call(p);
    got = "returns";
  }} catch (e) {{
    got = "throws " + e.name;
  }}
  const threw = DATA.model.posts[i].threw;
  const want = threw === null ? "returns" : "throws " + threw;
  const tr = document.createElement("tr");
  if (got !== want) tr.className = "bad";
  for (const text of [p.from + " \u2192 " + p.to, JSON.stringify(p.form || p.targetOrigin), got, want]) {{
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }}
  document.getElementById("rows").append(tr);
}});
document.getElementById("shown").textContent = document.querySelector('#rows .bad') ? "This browser shows the divergence: a post throws otherwise than the model says (in red)." : "This browser does not show the divergence here: every post throws or returns as the model says (a divergence in delivery shows only at the target's origin: run the YAML beside this page with pmconf run).";
</script>
"#,
        title = crate::report::html_escape(description),
        comment_description = comment_safe(description),
        data = script_safe_json(&data),
        codec = crate::run::pages::CODEC_JS,
    )
}

/// `text` made safe inside an HTML comment while staying pasteable: HTML
/// allows `--` in a comment's text (so `pmconf fuzz --seed 1` stays as it
/// is); only `-->` and `--!>` would end it early and `<!--` would nest
/// one, and those get a space.
///
/// <https://html.spec.whatwg.org/multipage/syntax.html#comments>
pub(crate) fn comment_safe(text: &str) -> String {
    text.replace("<!--", "<! --")
        .replace("--!>", "--! >")
        .replace("-->", "-- >")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_stay_pasteable_and_the_comment_cannot_end_early() {
        assert_eq!(
            comment_safe("found by `pmconf fuzz --seed 12345 --cases 20 --engine chromium`"),
            "found by `pmconf fuzz --seed 12345 --cases 20 --engine chromium`"
        );
        let hostile = comment_safe("a --> b --!> c <!-- d");
        assert!(!hostile.contains("-->") && !hostile.contains("--!>") && !hostile.contains("<!--"));
    }
}
