//! Race cases as tests: one helper document per document the case can
//! load (`child`, `child@1`...), steps written as the page script that
//! takes them (`location.href = ...`, the `<iframe>` element's `src`,
//! `location.reload()`, removing the element, `close()`, `history.pushState`,
//! `location.hash`, `document.domain`, creating the frame or popup), the
//! test page driving them task by task (a `same_task` group in one call),
//! and the model's set of allowed outcomes asserted as a set.
//!
//! The document plan, its final documents and its end-of-case markers are
//! pmconf's own ([`CasePlan`]), so a race runs the same way in both.

use super::hosts::{HostMap, Role};
use super::html::{escape, WrittenFile};
use super::js::string_literal;
use super::layout;
use super::refusal::{Refusal, RefusalGroup};
use super::windows::{self, ChildContent};
use crate::case_files::LoadedCase;
use crate::run::plan::CasePlan;
use crate::run::protocol::HopStep;
use pmconf_model::case::{Case, NavigateVia, Relation, Step, Topology, WindowIndex};
use serde_json::Value as Json;

fn label_file(label: &str) -> String {
    label.replace('@', "--")
}

/// Refuses what a race export cannot write.
pub fn check(case: &Case) -> Result<(), Refusal> {
    let mut reloads = Vec::new();
    for s in &case.steps {
        match s {
            Step::Navigate(n) if n.window == 0 => {
                return Err(Refusal::new(
                    RefusalGroup::TopWindow,
                    "the top window (the test page) is navigated",
                ))
            }
            Step::Reload { window } if *window == 0 => {
                return Err(Refusal::new(
                    RefusalGroup::TopWindow,
                    "the top window (the test page) is reloaded",
                ))
            }
            Step::Reload { window } => {
                if reloads.contains(window) {
                    return Err(Refusal::new(
                        RefusalGroup::WindowShape,
                        format!(
                            "window `{}` is reloaded twice: its documents load the same URL, which the test cannot tell apart",
                            case.windows[*window].name
                        ),
                    ));
                }
                reloads.push(*window);
            }
            Step::Post(p) if p.reply_to.is_some() => {
                return Err(Refusal::new(
                    RefusalGroup::WindowShape,
                    "a reply in a race case",
                ))
            }
            _ => {}
        }
    }
    for w in &case.windows {
        if w.created_by_step.is_some()
            && !matches!(&w.content, pmconf_model::case::WindowContent::Url(u) if u.scheme().starts_with("http"))
        {
            return Err(Refusal::new(
                RefusalGroup::WindowShape,
                format!(
                    "window `{}` is created by a step and loads no http(s) URL",
                    w.name
                ),
            ));
        }
    }
    Ok(())
}

/// pmconf's JSON hop paths (`["parent"]`, `["frame", i]`, `["handle",
/// name]`) in the shared script's form.
fn hops_from_plan(hops: &[HopStep]) -> String {
    let parts: Vec<String> = hops
        .iter()
        .map(|h| match h {
            HopStep::Parent => "'parent'".to_owned(),
            HopStep::Opener => "'opener'".to_owned(),
            HopStep::Frame(i) => i.to_string(),
            HopStep::Handle(name) => format!("{{popup: {}}}", Json::from(name.as_str())),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn path_at(
    case: &Case,
    topo: &Topology,
    from: WindowIndex,
    to: WindowIndex,
    why: &str,
) -> Result<String, Refusal> {
    topo.path(case, from, to)
        .map(|h| windows::hops_json(case, &h))
        .ok_or_else(|| {
            Refusal::new(
                RefusalGroup::WindowShape,
                format!(
                    "{} cannot reach {} by script {why}",
                    case.windows[from].name, case.windows[to].name
                ),
            )
        })
}

/// Writes a race case's files.
pub struct RacePages<'a> {
    /// The case.
    pub case: &'a Case,
    /// pmconf's plan of it.
    pub plan: CasePlan,
    /// Topic and stem.
    pub topic: &'a str,
    /// File stem.
    pub stem: &'a str,
    /// The host mapping.
    pub map: &'a mut HostMap,
    /// Scheme of the test page.
    pub https: bool,
    /// Helpers that hold no substitution (named without `.sub`).
    plain: Vec<String>,
}

impl<'a> RacePages<'a> {
    /// The plan of `loaded`.
    pub fn new(
        loaded: &'a LoadedCase,
        topic: &'a str,
        stem: &'a str,
        map: &'a mut HostMap,
        https: bool,
    ) -> Self {
        RacePages {
            case: &loaded.case,
            plan: CasePlan::new(0, 0, loaded),
            topic,
            stem,
            map,
            https,
            plain: Vec::new(),
        }
    }

    fn helper_path(&self, label: &str) -> String {
        format!(
            "{}/{}/resources/{}--{}{}.html",
            layout::ROOT,
            self.topic,
            self.stem,
            label_file(label),
            if self.plain.iter().any(|l| l == label) {
                ""
            } else {
                ".sub"
            }
        )
    }

    fn url_of_document(&mut self, written: &str, label: &str) -> Result<String, Refusal> {
        let origin = windows::origin_part(written).to_owned();
        Ok(format!(
            "{} + {}",
            self.map.spell(&origin, Role::Loaded)?.js(),
            string_literal(&format!("/{}", self.helper_path(label)))
        ))
    }

    /// Every topology a window's script may see, for naming sources.
    fn ref_sets(&self, w: WindowIndex) -> String {
        let case = self.case;
        let mut sets: Vec<String> = Vec::new();
        for k in 0..=case.steps.len() {
            let topo = Topology::before_step(case, k);
            let mut refs = Vec::new();
            for n in 0..case.windows.len() {
                if let Some(h) = topo.path(case, w, n) {
                    refs.push(format!(
                        "{}: {}",
                        string_literal(&case.windows[n].name),
                        windows::hops_json(case, &h)
                    ));
                }
            }
            let set = format!("{{{}}}", refs.join(", "));
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
        format!("[{}]", sets.join(", "))
    }

    /// The step `k` as page script taken by its actor.
    fn step_js(&mut self, k: usize) -> Result<String, Refusal> {
        let case = self.case;
        let topo = Topology::before_step(case, k);
        let step = &case.steps[k];
        let actor = step.actor(case).unwrap_or(0);
        Ok(match step {
            Step::Post(p) => {
                let to = path_at(case, &topo, actor, p.to, "to post")?;
                format!(
                    "go => go.at({to}).postMessage({})",
                    windows::call_args(p, self.map)?
                )
            }
            Step::Navigate(n) => {
                let label = self.loaded_label(k)?;
                let url = self.url_of_document(&n.url_as_written, &label)?;
                let target = path_at(case, &topo, n.by, n.window, "to navigate it")?;
                match n.via {
                    NavigateVia::Location => {
                        format!("go => {{ go.at({target}).location.href = {url}; }}")
                    }
                    NavigateVia::Src => {
                        format!("go => {{ go.frameOf(go.at({target})).src = {url}; }}")
                    }
                }
            }
            Step::Reload { .. } => "go => { location.reload(); }".to_owned(),
            Step::Remove { window } => {
                let target = path_at(case, &topo, actor, *window, "to remove it")?;
                format!("go => {{ go.frameOf(go.at({target})).remove(); }}")
            }
            Step::Close { window } => {
                let target = path_at(case, &topo, actor, *window, "to close it")?;
                format!("go => {{ go.at({target}).close(); }}")
            }
            Step::PushState { .. } => {
                "go => { history.pushState(null, '', '?pushed'); }".to_owned()
            }
            Step::Fragment { fragment, .. } => {
                format!("go => {{ location.hash = {}; }}", string_literal(fragment))
            }
            Step::SetDomain { domain, .. } => {
                format!(
                    "go => {{ document.domain = {}; }}",
                    self.map.spell_domain(domain)?.js()
                )
            }
            Step::Create { window } => {
                let child = self.child_js(*window)?;
                format!("go => {{ go.create({child}); }}")
            }
            // `check_shape` refuses every case with a SharedArrayBuffer
            // (and so every `sab_write`) before any step is written.
            Step::WaitLoaded { .. }
            | Step::Channel { .. }
            | Step::PortPost(_)
            | Step::PortCall { .. }
            | Step::SabWrite(_) => "go => {}".to_owned(),
        })
    }

    fn loaded_label(&self, k: usize) -> Result<String, Refusal> {
        self.plan.documents.loads[k]
            .map(|d| self.plan.documents.documents[d].label.clone())
            .ok_or_else(|| {
                Refusal::new(
                    RefusalGroup::WindowShape,
                    format!("step {k} loads no document"),
                )
            })
    }

    /// A window's creation, as its creator's script makes it.
    fn child_js(&mut self, c: WindowIndex) -> Result<String, Refusal> {
        let case = self.case;
        let content = windows::child_content(case, c, self.map)?;
        let url_or_html = match &content {
            ChildContent::Url(_) => {
                let written = case.windows[c].url_as_written.clone().unwrap_or_default();
                self.url_of_document(&written, &case.windows[c].name)?
            }
            ChildContent::Inline(_) => self.inline_document(c)?,
        };
        Ok(windows::child_literal(case, c, &content, &url_or_html))
    }

    fn inline_document(&mut self, w: WindowIndex) -> Result<String, Refusal> {
        let base = if self.https {
            "https://{{host}}:{{ports[https][0]}}"
        } else {
            "http://{{host}}:{{ports[http][0]}}"
        };
        let call = self.document_call(w, &self.case.windows[w].name.clone())?;
        Ok(format!(
            "<!DOCTYPE html><meta charset=utf-8><script src=\"{base}/{}\"></script><script>{call}</script>",
            layout::AGENT_PATH
        ))
    }

    /// The path from `w` to the test page, once `w` exists.
    fn up(&self, w: WindowIndex) -> Result<String, Refusal> {
        let case = self.case;
        if w == 0 {
            return Ok("null".to_owned());
        }
        let from = case.windows[w].created_by_step.map_or(0, |s| s + 1);
        path_at(
            case,
            &Topology::before_step(case, from),
            w,
            0,
            "to report to the test page",
        )
    }

    fn config_fields(&mut self, w: WindowIndex, label: &str) -> Result<Vec<String>, Refusal> {
        let case = self.case;
        let mut children = Vec::new();
        for c in 0..case.windows.len() {
            if case.windows[c].relation.creator() == Some(w)
                && case.windows[c].created_by_step.is_none()
            {
                children.push(self.child_js(c)?);
            }
        }
        let markers = self.plan.markers();
        let mark_targets: Vec<String> = markers
            .send
            .iter()
            .filter(|(s, _)| *s == w)
            .flat_map(|(_, targets)| targets.iter().map(|t| hops_from_plan(t)))
            .collect();
        let ends_from: Vec<String> = markers
            .expect
            .iter()
            .filter(|(x, _)| *x == w)
            .flat_map(|(_, names)| names.iter().map(|n| string_literal(n)))
            .collect();
        // The document a reload of this one loads.
        let reload = case.steps.iter().enumerate().find_map(|(k, s)| match s {
            Step::Reload { window }
                if *window == w && self.plan.latest_document_before(w, k) == label =>
            {
                self.loaded_label(k).ok()
            }
            _ => None,
        });
        Ok(vec![
            format!("window: {}", string_literal(&case.windows[w].name)),
            format!("up: {}", self.up(w)?),
            format!("refSets: {}", self.ref_sets(w)),
            format!("children: [{}]", children.join(",\n    ")),
            format!("markTargets: [{}]", mark_targets.join(", ")),
            format!("endsFrom: [{}]", ends_from.join(", ")),
            format!(
                "reloadLabel: {}",
                reload.map_or("null".to_owned(), |l| string_literal(&l))
            ),
        ])
    }

    fn steps_of(&mut self, w: WindowIndex) -> Result<String, Refusal> {
        let mut parts = Vec::new();
        for k in 0..self.case.steps.len() {
            let s = &self.case.steps[k];
            if matches!(s, Step::WaitLoaded { .. }) || s.actor(self.case) != Some(w) {
                continue;
            }
            parts.push(format!("\n  {k}: {}", self.step_js(k)?));
        }
        Ok(format!("{{{}\n}}", parts.join(",")))
    }

    fn document_call(&mut self, w: WindowIndex, label: &str) -> Result<String, Refusal> {
        let fields = self.config_fields(w, label)?;
        Ok(format!(
            "race_document({}, {{\n  {}\n}}, {});",
            string_literal(label),
            fields.join(",\n  "),
            self.steps_of(w)?
        ))
    }

    /// The test page's fields: tasks, the documents it waits for, who
    /// posts end markers.
    fn conductor_fields(&mut self, labels: &[String]) -> Result<Vec<String>, Refusal> {
        let case = self.case;
        let initial: Vec<String> = (1..case.windows.len())
            .filter(|&w| case.windows[w].created_by_step.is_none())
            .map(|w| string_literal(&case.windows[w].name))
            .collect();
        let mut tasks = Vec::new();
        for range in case.tasks() {
            let first = range.start;
            if let Step::WaitLoaded { window } = &case.steps[first] {
                let label = self.plan.latest_document_before(*window, first);
                tasks.push(format!("{{wait: {}}}", string_literal(&label)));
                continue;
            }
            let actor = case.steps[first].actor(case).unwrap_or(0);
            let reach = if actor == 0 {
                "null".to_owned()
            } else {
                path_at(
                    case,
                    &Topology::before_step(case, first),
                    0,
                    actor,
                    "to drive its steps",
                )?
            };
            let ks: Vec<String> = range.map(|k| k.to_string()).collect();
            tasks.push(format!("{{reach: {reach}, steps: [{}]}}", ks.join(", ")));
        }
        let markers = self.plan.markers();
        let end = Topology::at_end(case);
        let mut finals = Vec::new();
        for (w, _) in &markers.expect {
            finals.push(string_literal(&self.plan.final_document(*w)));
        }
        let mut finishers = Vec::new();
        let mut itself = false;
        for (w, _) in &markers.send {
            if *w == 0 {
                itself = true;
            } else {
                finishers.push(path_at(case, &end, 0, *w, "to end the case")?);
            }
        }
        let openers: Vec<String> = (1..case.windows.len())
            .filter(|&w| {
                end.exists[w]
                    && case
                        .windows
                        .iter()
                        .any(|c| c.relation == Relation::Popup { opener: w })
            })
            .filter_map(|w| end.path(case, 0, w).map(|h| windows::hops_json(case, &h)))
            .collect();
        let posts: Vec<String> = case.posts().map(|(k, _)| k.to_string()).collect();
        Ok(vec![
            format!("label: {}", string_literal(&case.windows[0].name)),
            format!("initial: [{}]", initial.join(", ")),
            format!("tasks: [\n    {}\n  ]", tasks.join(",\n    ")),
            format!("finals: [{}]", finals.join(", ")),
            format!("finishers: [{}]", finishers.join(", ")),
            format!("finishesItself: {itself}"),
            format!("openers: [{}]", openers.join(", ")),
            format!("posts: [{}]", posts.join(", ")),
            format!(
                "labels: [{}]",
                labels
                    .iter()
                    .map(|l| string_literal(l))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ])
    }

    /// Every file: the test page's script call, then the helpers (one per
    /// document loaded from a URL).
    pub fn write(&mut self, labels: &[String]) -> Result<(String, Vec<WrittenFile>), Refusal> {
        // Names depend on contents (`.sub` only with substitutions), and
        // contents hold other helpers' names: a second pass settles them
        // (a URL always holds a substitution, so names do not change it).
        let first = self.write_once(labels)?;
        self.plain = first
            .1
            .iter()
            .filter(|f| !f.contents.contains("{{"))
            .map(|f| f.path.clone())
            .collect();
        self.plain = self
            .plan
            .documents
            .documents
            .iter()
            .map(|d| d.label.clone())
            .filter(|l| self.plain.contains(&self.helper_path(l)))
            .collect();
        self.write_once(labels)
    }

    fn write_once(&mut self, labels: &[String]) -> Result<(String, Vec<WrittenFile>), Refusal> {
        let case = self.case;
        let mut files = Vec::new();
        let documents = self.plan.documents.documents.clone();
        let reload_loaded: Vec<usize> = case
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Step::Reload { .. }))
            .filter_map(|(k, _)| self.plan.documents.loads[k])
            .collect();
        for (d, doc) in documents.iter().enumerate() {
            let w = doc.window;
            if w == 0 || doc.initial_about_blank || reload_loaded.contains(&d) {
                continue;
            }
            // Documents loaded from a URL: the window's own up front or by
            // its creation, or a navigation's.
            let from_url = self.plan.documents.loads.contains(&Some(d))
                || matches!(
                    windows::child_content(case, w, self.map)?,
                    ChildContent::Url(_)
                );
            if !from_url {
                continue;
            }
            let title = format!("{} ({})", doc.label, self.stem);
            let body = format!(
                "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<script src=\"/{}\"></script>\n<body>\n<script>\n{}\n</script>\n",
                escape(&title),
                layout::AGENT_PATH,
                self.document_call(w, &doc.label)?
            );
            files.push(WrittenFile {
                path: self.helper_path(&doc.label),
                contents: body,
            });
        }
        let mut fields = self.config_fields(0, &case.windows[0].name)?;
        fields.extend(self.conductor_fields(labels)?);
        let config = format!("{{\n  {}\n}}", fields.join(",\n  "));
        let steps = self.steps_of(0)?;
        Ok((format!("{config}, {steps}"), files))
    }
}
