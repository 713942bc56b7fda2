//! The HTML writers: the test page (the case's top window, with the
//! title, `<link rel=help>` per reference, a comment saying where the test
//! comes from and how its hosts were mapped, testharness.js, and one
//! `case_test(...)` call) and one helper document per window that loads
//! a URL (its `case_window(...)` call). Windows loaded inline (`srcdoc`,
//! `data:`, the initial `about:blank`) get the same document as a string
//! in their creator's script.

use super::hosts::HostMap;
use super::js::string_literal;
use super::layout;
use super::refusal::Refusal;
use super::windows::{self, ChildContent};
use pmconf_model::case::{Case, Relation, Step, WindowIndex};

/// HTML text escaping for element content and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Everything the writers need about one case.
pub struct CasePages<'a> {
    /// The case.
    pub case: &'a Case,
    /// Its path, as named in comments.
    pub case_name: &'a str,
    /// Topic folder and stem (see [`layout`]).
    pub topic: &'a str,
    /// File stem.
    pub stem: &'a str,
    /// The host mapping (spells every URL and origin).
    pub map: &'a mut HostMap,
    /// The `expected` literal.
    pub expected: String,
    /// The top window's scheme is https.
    pub https: bool,
    /// A race case's `race_test` configuration and steps, and its helper
    /// documents ([`super::races`]).
    pub race: Option<(String, Vec<WrittenFile>)>,
}

/// A written file: its path below the output root, and its contents.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    /// Path below the WPT root (`webmessaging/pmconf/...`).
    pub path: String,
    /// The file's text.
    pub contents: String,
}

impl CasePages<'_> {
    /// The steps `w` takes, as `{k: (w, reply) => ...}`.
    fn steps_js(&mut self, w: WindowIndex) -> Result<String, Refusal> {
        let mut parts = Vec::new();
        for (k, p) in self.case.posts() {
            if p.from == w {
                parts.push(format!(
                    "\n  {k}: {}",
                    windows::step_fn(self.case, p, self.map)?
                ));
            }
        }
        Ok(format!("{{{}\n}}", parts.join(",")))
    }

    /// The configuration `w`'s script starts with. `inline` windows' own
    /// documents are written here as strings, into their creator's.
    fn config_js(&mut self, w: WindowIndex, paths: &[Option<String>]) -> Result<String, Refusal> {
        let case = self.case;
        let mut refs = Vec::new();
        for n in 0..case.windows.len() {
            if let Some(hops) = pmconf_model::case::reference_path(case, w, n) {
                refs.push(format!(
                    "{}: {}",
                    string_literal(&case.windows[n].name),
                    windows::hops_json(case, &hops)
                ));
            }
        }
        let up = if case.windows[w].relation == Relation::Top {
            "null".to_owned()
        } else {
            let hops = windows::path(case, w, 0, "to report to the test page")?;
            windows::hops_json(case, &hops)
        };
        let mut children = Vec::new();
        for c in 0..case.windows.len() {
            if case.windows[c].relation.creator() != Some(w) {
                continue;
            }
            let content = windows::child_content(case, c, self.map)?;
            let entry = match &content {
                ChildContent::Url(origin) => {
                    let url = format!(
                        "{origin} + {}",
                        string_literal(&format!("/{}", paths[c].as_deref().unwrap_or_default()))
                    );
                    windows::child_literal(case, c, &content, &url)
                }
                ChildContent::Inline(_) => {
                    let html = self.inline_document(c, paths)?;
                    windows::child_literal(case, c, &content, &html)
                }
            };
            children.push(entry);
        }
        let names = |list: Vec<WindowIndex>| {
            let v: Vec<String> = list
                .iter()
                .map(|i| string_literal(&case.windows[*i].name))
                .collect();
            format!("[{}]", v.join(", "))
        };
        for t in windows::targets(case, w) {
            windows::path(case, w, t, "to send its end marker")?;
        }
        let mut fields = vec![
            format!("name: {}", string_literal(&case.windows[w].name)),
            format!("up: {up}"),
            format!("refs: {{{}}}", refs.join(", ")),
            format!("children: [{}]", children.join(",\n    ")),
            format!("targets: {}", names(windows::targets(case, w))),
            format!("endsFrom: {}", names(windows::senders(case, w))),
        ];
        if case.windows[w].relation == Relation::Top {
            fields.extend(self.conductor_fields()?);
        }
        Ok(format!("{{\n  {}\n}}", fields.join(",\n  ")))
    }

    /// The test page's extra configuration: every window, how to reach
    /// each, which window takes each step.
    fn conductor_fields(&mut self) -> Result<Vec<String>, Refusal> {
        let case = self.case;
        let all: Vec<String> = case
            .windows
            .iter()
            .map(|w| string_literal(&w.name))
            .collect();
        let mut reach = Vec::new();
        for n in 1..case.windows.len() {
            let hops = windows::path(case, 0, n, "to drive its steps")?;
            reach.push(format!(
                "{}: {}",
                string_literal(&case.windows[n].name),
                windows::hops_json(case, &hops)
            ));
        }
        let mut steps = Vec::new();
        let mut describe = Vec::new();
        let mut posts = Vec::new();
        for (k, s) in case.steps.iter().enumerate() {
            let actor = s.actor(case).unwrap_or(0);
            steps.push(format!(
                "[{k}, {}]",
                string_literal(&case.windows[actor].name)
            ));
            if let Step::Post(p) = s {
                posts.push(k.to_string());
                describe.push(format!(
                    "{k}: {}",
                    windows::describe_post(case, p, self.map)?
                ));
            }
        }
        let openers: Vec<String> = (1..case.windows.len())
            .filter(|&w| {
                case.windows
                    .iter()
                    .any(|c| c.relation == Relation::Popup { opener: w })
            })
            .map(|w| string_literal(&case.windows[w].name))
            .collect();
        Ok(vec![
            format!("windows: [{}]", all.join(", ")),
            format!("others: [{}]", all[1..].join(", ")),
            format!("reach: {{{}}}", reach.join(", ")),
            format!("openers: [{}]", openers.join(", ")),
            format!("steps: [{}]", steps.join(", ")),
            format!("posts: [{}]", posts.join(", ")),
            format!("describe: {{{}}}", describe.join(", ")),
        ])
    }

    fn agent_src(&self) -> String {
        format!("/{}", layout::AGENT_PATH)
    }

    /// The document of an inline window (srcdoc, data:, about:blank):
    /// absolute URL to the shared script (a data: document has no base).
    fn inline_document(
        &mut self,
        w: WindowIndex,
        paths: &[Option<String>],
    ) -> Result<String, Refusal> {
        let base = if self.https {
            "https://{{host}}:{{ports[https][0]}}"
        } else {
            "http://{{host}}:{{ports[http][0]}}"
        };
        let call = self.window_call(w, paths)?;
        Ok(format!(
            "<!DOCTYPE html><meta charset=utf-8><script src=\"{base}{}\"></script><script>{call}</script>",
            self.agent_src()
        ))
    }

    fn window_call(&mut self, w: WindowIndex, paths: &[Option<String>]) -> Result<String, Refusal> {
        Ok(format!(
            "case_window({}, {}, {});",
            string_literal(&self.case.windows[w].name),
            self.config_js(w, paths)?,
            self.steps_js(w)?
        ))
    }

    /// Every file of the case: the test page first, then its helpers.
    pub fn write(
        &mut self,
        title: &str,
        tentative_note: Option<&str>,
    ) -> Result<Vec<WrittenFile>, Refusal> {
        let case = self.case;
        // Helpers first: their paths go into their creators' scripts. A
        // helper's name depends on whether it substitutes, which depends
        // on its children's paths: write them deepest first.
        let mut paths: Vec<Option<String>> = vec![None; case.windows.len()];
        let mut files = Vec::new();
        let race = self.race.take();
        let plain_windows = if race.is_some() {
            1
        } else {
            case.windows.len()
        };
        for w in (1..plain_windows).rev() {
            if !matches!(
                windows::child_content(case, w, self.map)?,
                ChildContent::Url(_)
            ) {
                continue;
            }
            let body = format!(
                "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>{} ({})</title>\n<script src=\"{}\"></script>\n<body>\n<script>\n{}\n</script>\n",
                escape(title),
                escape(&case.windows[w].name),
                self.agent_src(),
                self.window_call(w, &paths)?
            );
            let path = layout::helper_path(self.topic, self.stem, &case.windows[w].name, &body);
            paths[w] = Some(path.clone());
            files.push(WrittenFile {
                path,
                contents: body,
            });
        }
        files.reverse();
        if let Some((_, helpers)) = &race {
            files.extend(helpers.iter().cloned());
        }
        let mut head = String::from("<!DOCTYPE html>\n<meta charset=\"utf-8\">\n");
        let popups = case
            .windows
            .iter()
            .any(|w| matches!(w.relation, Relation::Popup { .. }));
        if popups || case.windows.len() > 3 || case.is_race() {
            head.push_str("<meta name=\"timeout\" content=\"long\">\n");
        }
        head.push_str(&format!("<title>{}</title>\n", escape(title)));
        for r in &case.references {
            head.push_str(&format!("<link rel=\"help\" href=\"{}\">\n", escape(r)));
        }
        let mut comment = vec![
            format!("Exported by pmconf from {}.", self.case_name),
            String::new(),
            case.description.trim().to_owned(),
            String::new(),
            "Assertions come from pmconf's reference model of the HTML and URL".to_owned(),
            "Standards (the outcomes they allow). Hosts of the case, as WPT's:".to_owned(),
        ];
        comment.extend(self.map.describe().into_iter().map(|l| format!("  {l}")));
        comment.push(
            "Page paths are the helpers' own: only a window URL's origin matters here.".to_owned(),
        );
        if let Some(note) = tentative_note {
            comment.push(String::new());
            comment.push(note.to_owned());
        }
        // A script comment: case names hold `--`, which an HTML comment
        // cannot.
        let comment = comment
            .iter()
            .flat_map(|l| {
                if l.is_empty() {
                    vec![""]
                } else {
                    l.lines().collect()
                }
            })
            .map(|l| format!("// {l}").trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
            .replace("</", "<\\/");
        head.push_str("<script src=\"/resources/testharness.js\"></script>\n");
        head.push_str("<script src=\"/resources/testharnessreport.js\"></script>\n");
        head.push_str(&format!("<script src=\"{}\"></script>\n", self.agent_src()));
        let call = match &race {
            Some((args, _)) => format!(
                "race_test({}, {args}, {});",
                string_literal(title),
                self.expected
            ),
            None => format!(
                "case_test({}, {}, {}, {});",
                string_literal(title),
                self.config_js(0, &paths)?,
                self.steps_js(0)?,
                self.expected
            ),
        };
        let page = format!("{head}<body>\n<script>\n{comment}\n\n{call}\n</script>\n");
        let path = layout::test_path(
            self.topic,
            self.stem,
            self.https,
            tentative_note.is_some(),
            &page,
        );
        files.insert(
            0,
            WrittenFile {
                path,
                contents: page,
            },
        );
        Ok(files)
    }
}
