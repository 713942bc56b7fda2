//! From a validated case to what each of its windows must do in a page: the
//! agent configuration (`window.__pmconfConfig`) and where WebDriver finds
//! each window.

use super::protocol::{
    AgentConfig, CallFormConfig, ChildConfig, FunctionOf, HopStep, Ordered, Path, StepConfig,
    StepEntry,
};
use super::state::PageRun;
use crate::case_files::LoadedCase;
use pmconf_model::answer::delivered_posts;
use pmconf_model::case::{
    CallForm, Case, Hop, NavigateVia, Relation, Step, Topology, WindowContent, WindowIndex,
};
use pmconf_model::contested::ContestedOutcome;
use pmconf_model::navigation::{plan_case, DocumentIndex, Plan};
use pmconf_model::{answer_case, Outcome};

/// Path below the server root where window pages live.
pub const PAGE_PREFIX: &str = "/__pmconf/w/";

/// Where WebDriver finds a window: the top-level browsing context it is in,
/// and the frame indices below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowLocation {
    /// In the runner page's slot for this case: `frames` below the case's
    /// top window (which is the slot's iframe).
    Runner {
        /// Frame indices below the case's top window.
        frames: Vec<u16>,
    },
    /// In a popup: the popup window (its index in the case) and frame
    /// indices below it.
    Popup {
        /// The popup's window index.
        popup: WindowIndex,
        /// Frame indices below the popup.
        frames: Vec<u16>,
    },
}

/// A case ready to run: the model's answer and what the harness needs.
#[derive(Debug, Clone)]
pub struct CasePlan {
    /// Position of the plan in the run; part of every page URL.
    pub id: usize,
    /// Which loaded case it runs (a race case is planned once per repeat).
    pub case_index: usize,
    /// The case file name.
    pub name: String,
    /// The case.
    pub case: Case,
    /// The model's allowed outcomes.
    pub allowed: Vec<Outcome>,
    /// The model's contested outcomes (an open spec issue each).
    pub contested: Vec<ContestedOutcome>,
    /// The documents the case can create (their labels name them in
    /// observations).
    pub documents: Plan,
    /// Where each window is before the first step, by window index.
    pub locations: Vec<WindowLocation>,
    /// Which windows run script (and so report).
    pub scripted: Vec<bool>,
    /// Why the harness cannot run this case, if it cannot.
    pub cannot_run: Option<String>,
}

impl CasePlan {
    /// Plans a loaded case as plan `id` of the run, for loaded case
    /// `case_index`.
    pub fn new(id: usize, case_index: usize, loaded: &LoadedCase) -> Self {
        let case = loaded.case.clone();
        let answer = answer_case(&case);
        let (allowed, contested) = (answer.allowed, answer.contested);
        let documents = plan_case(&case);
        let n = case.windows.len();
        let scripted: Vec<bool> = case
            .windows
            .iter()
            .map(|w| !w.sandbox_flags.blocks_scripts())
            .collect();
        let initial = Topology::initial(&case);
        let locations = (0..n).map(|i| locate(&case, &initial, i)).collect();
        let mut cannot_run = None;
        for (i, w) in case.windows.iter().enumerate() {
            if let Some(c) = w.relation.creator() {
                if !scripted[c] {
                    cannot_run = Some(format!(
                        "`{}` runs no script, so pmconf cannot create its child `{}`",
                        case.windows[c].name, w.name
                    ));
                }
            }
            let blank = matches!(&w.content, WindowContent::Url(u) if u.scheme() == "about");
            if blank && w.sandbox_flags.forces_opaque_origin() && scripted[i] {
                cannot_run = Some(format!(
                    "`{}` is a sandboxed about:blank document: pmconf cannot inject its agent",
                    w.name
                ));
            }
        }
        CasePlan {
            id,
            case_index,
            name: loaded.name.clone(),
            case,
            allowed,
            contested,
            documents,
            locations,
            scripted,
            cannot_run,
        }
    }

    /// The windows the harness waits for before the first step: every
    /// window created up front that runs script.
    pub fn observer_windows(&self) -> impl Iterator<Item = WindowIndex> + '_ {
        (0..self.case.windows.len())
            .filter(|&i| self.scripted[i] && self.case.windows[i].created_by_step.is_none())
    }

    /// Windows that call `postMessage` in some step.
    pub fn senders(&self) -> Vec<WindowIndex> {
        let mut out: Vec<WindowIndex> = Vec::new();
        for (_, p) in self.case.posts() {
            if !out.contains(&p.from) {
                out.push(p.from);
            }
        }
        out
    }

    /// The label of the document `w` has once every step has run and every
    /// navigation has committed.
    pub fn final_document(&self, w: WindowIndex) -> String {
        self.latest_document_before(w, self.case.steps.len())
    }

    /// The label of the latest document of `w` that steps before `step`
    /// load (what a `wait: loaded` at `step` waits for).
    pub fn latest_document_before(&self, w: WindowIndex, step: usize) -> String {
        let d = self.latest_document_index_before(w, step);
        self.documents.documents[d].label.clone()
    }

    /// The end-of-case markers: who posts them to whom, and which markers
    /// each surviving window's final document waits for. Each window that
    /// posted in the case and still exists posts one to every scripted
    /// window it reaches; in a race case every surviving window also posts
    /// one to itself, because a sender may be gone (removed, closed) with
    /// its messages still queued. Tasks from one source to one target keep
    /// their order, so a document that has its markers has every message
    /// it will ever get.
    pub fn markers(&self) -> Markers {
        let case = &self.case;
        let end = Topology::at_end(case);
        let alive = |w: WindowIndex| end.exists[w] && self.scripted[w];
        let mut send: Vec<(WindowIndex, Vec<Path>)> = Vec::new();
        let mut expect: Vec<(WindowIndex, Vec<String>)> = (0..case.windows.len())
            .filter(|&w| alive(w))
            .map(|w| (w, Vec::new()))
            .collect();
        let race = case.is_race();
        let senders = self.senders();
        for w in 0..case.windows.len() {
            if !alive(w) {
                continue;
            }
            let mut targets: Vec<WindowIndex> = Vec::new();
            if senders.contains(&w) {
                targets.extend(
                    (0..case.windows.len()).filter(|&t| alive(t) && end.path(case, w, t).is_some()),
                );
            }
            if race && !targets.contains(&w) {
                targets.push(w);
            }
            if targets.is_empty() {
                continue;
            }
            for &t in &targets {
                let e = expect.iter_mut().find(|(x, _)| *x == t).expect("alive");
                e.1.push(case.windows[w].name.clone());
            }
            send.push((
                w,
                targets
                    .iter()
                    .map(|&t| path_of(case, &end.path(case, w, t).expect("reachable")))
                    .collect(),
            ));
        }
        let mut markers = Markers { send, expect };
        super::ports::add_port_markers(case, &self.documents, &self.scripted, &mut markers);
        markers
    }

    /// The agent configuration of document `d`, with page keys built from
    /// `key_prefix` (`<engine>/<case id>.<mount>`), and what every page of
    /// the run is told (`run`: the string that starts every end-of-case
    /// marker message, the channel's token).
    pub fn document_config(
        &self,
        d: DocumentIndex,
        key_prefix: &str,
        run: &PageRun,
    ) -> AgentConfig {
        let case = &self.case;
        let doc = &self.documents.documents[d];
        let w = doc.window;
        let first = doc.label == case.windows[w].name;
        // The tree this document starts in: before any step for a window
        // created up front, after the step that creates its window or
        // loads it otherwise.
        let born_at = self
            .step_loading(d)
            .or(case.windows[w].created_by_step)
            .map_or(0, |i| i + 1);
        let topo = Topology::before_step(case, born_at);

        // Identifying event.source: a reference to every window this one
        // can reach; senders it cannot reach are named by elimination.
        let senders = self.senders();
        let mut source_refs = Ordered::default();
        let mut unreachable_senders = Vec::new();
        for (i, other) in case.windows.iter().enumerate() {
            match topo.path(case, w, i) {
                Some(p) => {
                    source_refs.insert(other.name.clone(), path_of(case, &p));
                }
                None if senders.contains(&i) => unreachable_senders.push(other.name.clone()),
                None => {}
            }
        }

        // A sender it cannot reach is told apart by the way back: the hops
        // from the sender to this window (parent, opener, frames[i]), which
        // this script can take from event.source. Handles are the sender's
        // own variables, so a way through one does not count.
        let end = Topology::at_end(case);
        let mut back_refs = Ordered::default();
        for name in &unreachable_senders {
            let s = case.window_index(name).expect("a window of the case");
            let way = [&topo, &end]
                .into_iter()
                .filter_map(|t| t.path(case, s, w))
                .find(|p| !p.iter().any(|h| matches!(h, Hop::PopupHandle(_))));
            if let Some(p) = way {
                back_refs.insert(name.clone(), path_of(case, &p));
            }
        }

        // The windows that post to this one: what an event.source it
        // cannot name may be (a candidate set, outcome.rs).
        let mut senders_here: Vec<String> = Vec::new();
        for (_, p) in case.posts().filter(|(_, p)| p.to == w) {
            let name = &case.windows[p.from].name;
            if !senders_here.contains(name) {
                senders_here.push(name.clone());
            }
        }

        let mut steps = Ordered::default();
        for (i, step) in case.steps.iter().enumerate() {
            if step.actor(case) != Some(w) {
                continue;
            }
            let (await_ports, ships_ports) = super::ports::awaited_ports(&self.documents, i);
            steps.insert(
                i.to_string(),
                StepEntry {
                    step: self.step_config(i, key_prefix, run),
                    await_ports,
                    ships_ports,
                },
            );
        }

        // A window's first document creates the windows made up front.
        let children: Vec<ChildConfig> = if first {
            (0..case.windows.len())
                .filter(|&c| {
                    case.windows[c].relation.creator() == Some(w)
                        && case.windows[c].created_by_step.is_none()
                })
                .map(|c| self.child_config(c, key_prefix, run))
                .collect()
        } else {
            Vec::new()
        };

        AgentConfig {
            key: format!("{key_prefix}/{w}"),
            doc: doc.label.clone(),
            race: case.is_race(),
            name: case.windows[w].name.clone(),
            report_base: self.report_base_of_document(d),
            marker_prefix: run.marker_prefix.to_owned(),
            token: run.token.to_owned(),
            harness_host: pmconf_model::hosts::HARNESS_HOST.to_owned(),
            source_refs,
            unreachable_senders,
            back_refs,
            senders_here,
            unidentified_source: pmconf_model::outcome::UNIDENTIFIED_SOURCE.to_owned(),
            steps,
            children,
            ports: super::ports::port_config(case, &self.documents),
        }
    }

    /// The navigate or reload step that loads document `d`, if one does.
    fn step_loading(&self, d: DocumentIndex) -> Option<usize> {
        self.documents.loads.iter().position(|l| *l == Some(d))
    }

    /// The path from `actor` to each window named in `realms` (whose
    /// constructors a message's `$error`s use), by name.
    fn realm_paths(
        &self,
        topo: &Topology,
        actor: WindowIndex,
        realms: Vec<String>,
    ) -> std::collections::BTreeMap<String, Path> {
        let case = &self.case;
        realms
            .into_iter()
            .map(|r| {
                let w = case.window_index(&r).expect("validated");
                let hops = topo
                    .path(case, actor, w)
                    .expect("validation checked reachability");
                (r, path_of(case, &hops))
            })
            .collect()
    }

    fn step_config(&self, i: usize, key_prefix: &str, run: &PageRun) -> StepConfig {
        let case = &self.case;
        let topo = Topology::before_step(case, i);
        let actor = case.steps[i].actor(case).expect("a script step");
        let name = |w: WindowIndex| case.windows[w].name.clone();
        match &case.steps[i] {
            Step::Post(p) => {
                let path = topo
                    .path(case, actor, p.to)
                    .expect("validation checked reachability");
                // A reply posts to `event.source` of the n-th message event
                // this document saw (n counted over delivered posts to it).
                let reply_to = p.reply_to.map(|step| {
                    delivered_posts(case)
                        .into_iter()
                        .filter(|&d| {
                            d < step && case.steps[d].as_post().map(|q| q.to) == Some(actor)
                        })
                        .count()
                });
                let transfer = p
                    .transfer
                    .as_ref()
                    .map(|list| list.iter().map(super::ports::transfer_config).collect());
                StepConfig::Post {
                    target: path_of(case, &path),
                    reply_to,
                    message: p.message.to_tagged_json(),
                    target_origin: p.target_origin.clone(),
                    transfer,
                    form: call_form_config(&p.form),
                    function_of: p.function_of.map(|f| FunctionOf {
                        path: path_of(
                            case,
                            &topo
                                .path(case, actor, f)
                                .expect("validation checked reachability"),
                        ),
                        name: name(f),
                    }),
                    realms: self.realm_paths(&topo, actor, p.error_realms()),
                }
            }
            Step::Navigate(n) => {
                let path = topo.path(case, actor, n.window).unwrap_or_default();
                let d = self.documents.loads[i].expect("planned");
                let url = format!(
                    "{}{}",
                    origin_prefix(&n.url_as_written),
                    self.page_path_of_document(d, key_prefix)
                );
                StepConfig::Navigate {
                    name: name(n.window),
                    target: path_of(case, &path),
                    via: match n.via {
                        NavigateVia::Src => "src",
                        NavigateVia::Location => "location",
                    },
                    url,
                }
            }
            Step::Create { window } => StepConfig::Create {
                child: self.child_config(*window, key_prefix, run),
            },
            Step::Fragment { fragment, .. } => StepConfig::Fragment {
                fragment: fragment.clone(),
            },
            Step::SetDomain { domain, .. } => StepConfig::SetDomain {
                domain: domain.clone(),
            },
            Step::Reload { window } => StepConfig::Reload {
                name: name(*window),
            },
            Step::Remove { window } => StepConfig::Remove {
                name: name(*window),
            },
            Step::Close { window } => StepConfig::Close {
                name: name(*window),
            },
            Step::PushState { window } => StepConfig::PushState {
                name: name(*window),
            },
            Step::SabWrite(w) => StepConfig::SabWrite {
                post: w.post,
                sab: w.sab.clone(),
                offset: w.offset,
                bytes: w.bytes.clone(),
            },
            Step::PortPost(p) => super::ports::port_step_config(
                &case.steps[i],
                self.realm_paths(&topo, actor, p.error_realms()),
            )
            .expect("a port step"),
            other => super::ports::port_step_config(other, Default::default())
                .expect("every other script step is a port step"),
        }
    }

    fn child_config(&self, c: WindowIndex, key_prefix: &str, run: &PageRun) -> ChildConfig {
        let window = &self.case.windows[c];
        let kind = match window.relation {
            Relation::Popup { .. } => "popup",
            _ => "iframe",
        };
        let first = self.first_document(c);
        let page_path = self.page_path_of_document(first, key_prefix);
        let nested = || super::pages::window_html(&self.document_config(first, key_prefix, run));
        let (src, srcdoc, data_html, inject) = match &window.content {
            WindowContent::Srcdoc(_) => (None, Some(nested()), None, None),
            WindowContent::Url(u) if u.scheme() == "data" => (None, None, Some(nested()), None),
            WindowContent::Url(u) if u.scheme() == "about" => (
                None,
                None,
                None,
                Some(super::pages::inject_script(
                    &self.document_config(first, key_prefix, run),
                )),
            ),
            WindowContent::Url(_) => (Some(self.url_as_written(c)), None, None, None),
        };
        // A window made by a `create` step shows its initial about:blank
        // first; the creator watches it.
        let blank_doc = window
            .created_by_step
            .and_then(|i| self.documents.created[i])
            .and_then(|(initial, then)| {
                then.map(|_| self.documents.documents[initial].label.clone())
            });
        ChildConfig {
            kind,
            name: window.name.clone(),
            key: format!("{key_prefix}/{c}"),
            sandbox: window.sandbox_attribute.clone(),
            src,
            page_path,
            srcdoc,
            data_html,
            inject,
            blank_doc,
        }
    }

    /// The document window `w` first loads (its initial about:blank aside).
    pub fn first_document(&self, w: WindowIndex) -> DocumentIndex {
        match self.case.windows[w].created_by_step {
            None => self.documents.initial_document[w].expect("planned"),
            Some(i) => {
                let (initial, then) = self.documents.created[i].expect("planned");
                then.unwrap_or(initial)
            }
        }
    }

    /// The server path of document `d`'s page: its window's first document
    /// at `<key_prefix>/<window>`, a navigation's at
    /// `<key_prefix>/<window>/<step>`. A reload fetches its document's path
    /// again.
    pub fn page_path_of_document(&self, d: DocumentIndex, key_prefix: &str) -> String {
        let w = self.documents.documents[d].window;
        match self.step_loading(d) {
            Some(i) if matches!(self.case.steps[i], Step::Navigate(_)) => {
                format!("{PAGE_PREFIX}{key_prefix}/{w}/{i}")
            }
            Some(i) => {
                // A reload: the path of the document it reloads.
                let before = self.latest_document_index_before(w, i);
                self.page_path_of_document(before, key_prefix)
            }
            None => format!("{PAGE_PREFIX}{key_prefix}/{w}"),
        }
    }

    fn latest_document_index_before(&self, w: WindowIndex, step: usize) -> DocumentIndex {
        // Only navigate and reload steps load documents.
        self.documents.loads[..step]
            .iter()
            .rev()
            .flatten()
            .copied()
            .find(|&d| self.documents.documents[d].window == w)
            .unwrap_or_else(|| self.first_document(w))
    }

    /// The URL of the top window's first page, for a case whose top window
    /// the harness opens as a top-level window (an isolated case).
    pub fn top_level_url(&self, key_prefix: &str) -> String {
        format!(
            "{}{}",
            origin_prefix(&self.url_as_written(0)),
            self.page_path(0, key_prefix)
        )
    }

    /// The server path of window `w`'s first page.
    pub fn page_path(&self, w: WindowIndex, key_prefix: &str) -> String {
        self.page_path_of_document(self.first_document(w), key_prefix)
    }

    /// The window's URL as the case wrote it (the browser parses the host
    /// itself, so IDN and IPv4 spellings go through the engine's own URL
    /// parser), for http(s) windows.
    pub fn url_as_written(&self, w: WindowIndex) -> String {
        match &self.case.windows[w].content {
            WindowContent::Url(u) => self.case.windows[w]
                .url_as_written
                .clone()
                .unwrap_or_else(|| u.to_string()),
            WindowContent::Srcdoc(_) => String::new(),
        }
    }

    /// Where document `d` sends its reports: the URL it was loaded from
    /// when that is http(s), otherwise its creator's (data:, srcdoc and
    /// about:blank documents).
    pub fn report_base_of_document(&self, d: DocumentIndex) -> String {
        if let Some(i) = self.step_loading(d) {
            let w = self.documents.documents[d].window;
            let loader = self.latest_document_index_before(w, i);
            return match &self.case.steps[i] {
                Step::Navigate(n) => n.url_as_written.clone(),
                _ => self.report_base_of_document(loader),
            };
        }
        self.report_base(self.documents.documents[d].window)
    }

    /// Where window `w`'s first document sends its reports: its own URL when
    /// it has an http one, otherwise its creator's.
    pub fn report_base(&self, w: WindowIndex) -> String {
        let mut at = w;
        loop {
            if let WindowContent::Url(u) = &self.case.windows[at].content {
                if u.scheme() == "http" || u.scheme() == "https" {
                    return self.url_as_written(at);
                }
            }
            at = self.case.windows[at]
                .relation
                .creator()
                .expect("the top window has an http(s) URL");
        }
    }

    /// Where window `w` is in the tree just before step `step`.
    pub fn location_before(&self, w: WindowIndex, step: usize) -> WindowLocation {
        locate(&self.case, &Topology::before_step(&self.case, step), w)
    }
}

/// The end-of-case markers of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Markers {
    /// Which window posts markers, and the hop paths of their targets.
    pub send: Vec<(WindowIndex, Vec<Path>)>,
    /// Each surviving scripted window, and the windows whose markers its
    /// final document waits for.
    pub expect: Vec<(WindowIndex, Vec<String>)>,
}

/// `scheme://host:port` of a URL as written (everything before its path),
/// so a page path can follow it without the browser re-spelling the host.
fn origin_prefix(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// How the agent passes a post's arguments: positionally, as an options
/// object (targetOrigin and transfer as its members, only those given), or
/// as the raw argument list (in the case syntax, getters included).
fn call_form_config(form: &CallForm) -> CallFormConfig {
    match form {
        CallForm::Positional => CallFormConfig::Positional,
        CallForm::Options => CallFormConfig::Options,
        CallForm::Args(args) => CallFormConfig::Args {
            args: args.iter().map(|a| a.to_tagged_json()).collect(),
        },
    }
}

/// The agent's form of a path of hops.
pub(super) fn path_of(case: &Case, hops: &[Hop]) -> Path {
    hops.iter()
        .map(|h| match *h {
            Hop::Parent => HopStep::Parent,
            Hop::Opener => HopStep::Opener,
            Hop::Frame(i) => HopStep::Frame(i),
            Hop::PopupHandle(p) => HopStep::Handle(case.windows[p].name.clone()),
        })
        .collect()
}

fn locate(case: &Case, topo: &Topology, w: WindowIndex) -> WindowLocation {
    let (top_level, frames) = topo.frame_indices(case, w);
    let frames = frames.into_iter().map(|i| i as u16).collect();
    match case.windows[top_level].relation {
        Relation::Popup { .. } => WindowLocation::Popup {
            popup: top_level,
            frames,
        },
        // An isolated case's top window is a top-level page of its own
        // (the runner opens it), since an iframe of the runner page cannot
        // be cross-origin isolated.
        Relation::Top if case.is_isolated() => WindowLocation::Popup {
            popup: top_level,
            frames,
        },
        _ => WindowLocation::Runner { frames },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::LoadedCase;
    use pmconf_model::parse_case;
    use serde_json::json;

    const TEST_RUN: PageRun<'static> = PageRun {
        marker_prefix: "m",
        token: "t",
    };

    fn config(
        p: &CasePlan,
        w: WindowIndex,
        key_prefix: &str,
        marker_prefix: &str,
    ) -> serde_json::Value {
        let run = PageRun {
            marker_prefix,
            token: "t",
        };
        serde_json::to_value(p.document_config(p.first_document(w), key_prefix, &run)).unwrap()
    }

    fn plan(yaml: &str) -> CasePlan {
        let case = parse_case("t.yaml", yaml).unwrap();
        CasePlan::new(
            3,
            0,
            &LoadedCase {
                path: "t.yaml".into(),
                name: "cases/t.yaml".into(),
                case,
            },
        )
    }

    const CASE: &str = r#"
description: t
windows:
  top: { url: "http://A.test:8000/x" }
  left: { parent: top, url: "http://b.test:8001/" }
  right: { parent: top, url: "https://bücher.test/" }
  deep: { parent: right, srcdoc: "<p>" }
  inline: { parent: left, url: "data:text/html,x" }
  boxed: { parent: top, url: "http://c.test/", sandbox: "" }
  pop: { opener: top, url: "about:blank" }
steps:
  - post: { from: left, to: right, message: { $buffer: { id: b, bytes: [1] } }, target_origin: "*", transfer: [b] }
  - post: { from: top, to: pop, message: "</script>" }
  - post: { from: deep, to: top, message: 1, target_origin: "*" }
"#;

    #[test]
    fn a_reply_names_the_message_event_it_answers_counting_delivered_ones_only() {
        let p = plan(
            r#"
description: t
windows:
  top: { url: "http://a.test/" }
  one: { parent: top, url: "http://b.test/" }
  two: { parent: top, url: "http://c.test/" }
steps:
  - post: { from: one, to: top, message: 1, target_origin: "*" }
  - post: { from: two, to: top, message: 2, target_origin: "http://elsewhere.test" }
  - post: { from: two, to: top, message: 3, target_origin: "*" }
  - post: { from: top, reply: true, message: 4, target_origin: "*" }
  - post: { from: top, to: one, message: 5, target_origin: "*" }
"#,
        );
        let top = config(&p, 0, "k", "m");
        // Step 3 answers step 2, whose message is top's second message
        // event: step 1's is dropped (targetOrigin mismatch).
        assert_eq!(top["steps"]["3"]["replyTo"], json!(1));
        assert_eq!(top["steps"]["3"]["target"], json!([["frame", 1]]));
        assert_eq!(top["steps"]["4"]["replyTo"], json!(null));
    }

    #[test]
    fn windows_are_located_by_frame_index_or_popup() {
        let p = plan(CASE);
        let idx = |n: &str| p.case.window_index(n).unwrap();
        assert_eq!(
            p.locations[idx("top")],
            WindowLocation::Runner { frames: vec![] }
        );
        assert_eq!(
            p.locations[idx("right")],
            WindowLocation::Runner { frames: vec![1] }
        );
        assert_eq!(
            p.locations[idx("deep")],
            WindowLocation::Runner { frames: vec![1, 0] }
        );
        assert_eq!(
            p.locations[idx("inline")],
            WindowLocation::Runner { frames: vec![0, 0] }
        );
        assert_eq!(
            p.locations[idx("pop")],
            WindowLocation::Popup {
                popup: idx("pop"),
                frames: vec![]
            }
        );
    }

    #[test]
    fn script_less_windows_are_not_waited_for() {
        let p = plan(CASE);
        let boxed = p.case.window_index("boxed").unwrap();
        assert!(!p.scripted[boxed]);
        assert!(!p.observer_windows().any(|w| w == boxed));
        assert_eq!(p.cannot_run, None);
    }

    #[test]
    fn sender_config_has_steps_targets_and_markers() {
        let p = plan(CASE);
        let left = p.case.window_index("left").unwrap();
        let c = config(&p, left, "chromium/3", "\u{0}m:");
        assert_eq!(c["key"], "chromium/3/1");
        assert_eq!(c["reportBase"], "http://b.test:8001/");
        assert_eq!(c["steps"]["0"]["target"], json!([["parent"], ["frame", 1]]));
        assert_eq!(c["steps"]["0"]["transfer"], json!([{"buffer": "b"}]));
        assert_eq!(
            c["steps"]["0"]["message"],
            json!({"$buffer": {"id": "b", "bytes": [1]}})
        );
        assert_eq!(c["steps"]["0"]["targetOrigin"], "*");
        // Markers go to every scripted window left can reach; pop (a popup
        // only top holds a handle to) and boxed (no script) are left out.
        let markers = p.markers();
        let targets =
            serde_json::to_value(&markers.send.iter().find(|(w, _)| *w == left).unwrap().1)
                .unwrap();
        let targets = targets.as_array().unwrap();
        assert_eq!(targets.len(), 5, "{targets:?}");
        assert!(
            !targets.contains(&json!([["parent"], ["frame", 2]])),
            "boxed is not a marker target"
        );
    }

    #[test]
    fn one_argument_form_and_popup_handles() {
        let p = plan(CASE);
        let c = config(&p, 0, "firefox/3", "m");
        assert_eq!(c["steps"]["1"]["targetOrigin"], json!(null));
        assert_eq!(c["steps"]["1"]["target"], json!([["handle", "pop"]]));
        assert_eq!(
            c["reportBase"], "http://A.test:8000/x",
            "the URL as written, for the browser to parse"
        );
    }

    #[test]
    fn receivers_expect_markers_from_senders_that_reach_them() {
        let p = plan(CASE);
        let pop = p.case.window_index("pop").unwrap();
        let c = config(&p, pop, "webkitgtk/3", "m");
        let markers = p.markers();
        let expect = |w: WindowIndex| {
            markers
                .expect
                .iter()
                .find(|(x, _)| *x == w)
                .unwrap()
                .1
                .clone()
        };
        // Only top can reach the popup.
        assert_eq!(expect(pop), ["top"]);
        // The popup reaches top through opener, so it can name it; left and
        // deep are reachable too through top's frames.
        assert_eq!(c["sourceRefs"]["top"], json!([["opener"]]));
        assert_eq!(c["unreachableSenders"], json!([]));
        assert_eq!(expect(0), ["top", "left", "deep"]);
    }

    #[test]
    fn a_sender_out_of_reach_gets_its_way_back() {
        // top navigates, so its new document holds no handle to the popup
        // nor a path to its frame; both post to it.
        let p = plan(
            r#"
description: senders out of reach of a navigated top
windows:
  top: { url: "http://a.test/" }
  pop: { opener: top, url: "http://b.test/" }
  popframe: { parent: pop, url: "http://c.test/" }
steps:
  - navigate: { window: top, url: "http://d.test/" }
  - wait: { loaded: top }
  - post: { from: pop, to: top, message: 1, target_origin: "*" }
  - post: { from: popframe, to: top, message: 2, target_origin: "*" }
"#,
        );
        let later = p
            .documents
            .documents
            .iter()
            .position(|d| d.label == "top@0")
            .expect("the document step 0 loads");
        let c = serde_json::to_value(p.document_config(later, "chromium/3", &TEST_RUN)).unwrap();
        assert_eq!(c["unreachableSenders"], json!(["pop", "popframe"]));
        assert_eq!(c["backRefs"]["pop"], json!([["opener"]]));
        assert_eq!(c["backRefs"]["popframe"], json!([["parent"], ["opener"]]));
        // What an event.source it cannot name may be.
        assert_eq!(c["sendersHere"], json!(["pop", "popframe"]));
        // The first document reaches both: no way back needed.
        let first = config(&p, 0, "chromium/3", "m");
        assert_eq!(first["backRefs"], json!({}));
    }

    #[test]
    fn a_created_window_names_the_windows_it_reaches_once_created() {
        // middle creates inner in step 0, top posts to it in step 1, and
        // inner is removed at the end. inner's documents start in the tree
        // after step 0, where top is its parent's parent: it reaches both
        // senders. (Before, its references were taken from the tree before
        // step 0, where inner is not; the removal left no way back either,
        // and two senders no elimination: event.source was unnamed.)
        let p = plan(
            r#"
description: a created iframe, removed at the end
windows:
  top: { url: "http://a.test/" }
  middle: { parent: top, url: "http://a.test/" }
  inner: { parent: middle, url: "http://a.test/" }
steps:
  - create: { window: inner }
  - post: { from: top, to: inner, message: m1, target_origin: "*" }
  - post: { from: middle, to: middle, message: m3, target_origin: "*" }
  - remove: { window: inner }
"#,
        );
        let inner_docs: Vec<usize> = (0..p.documents.documents.len())
            .filter(|&d| p.documents.documents[d].window == 2)
            .collect();
        // Its initial about:blank and the document it then loads.
        assert_eq!(inner_docs.len(), 2);
        for d in inner_docs {
            let c = serde_json::to_value(p.document_config(d, "chromium/3", &TEST_RUN)).unwrap();
            assert_eq!(
                c["sourceRefs"]["top"],
                json!([["parent"], ["parent"]]),
                "{c:#}"
            );
            assert_eq!(c["sourceRefs"]["middle"], json!([["parent"]]), "{c:#}");
            assert_eq!(c["unreachableSenders"], json!([]), "{c:#}");
        }
    }

    #[test]
    fn children_carry_their_own_pages() {
        let p = plan(CASE);
        let top = config(&p, 0, "chromium/3", "m");
        let kids = top["children"].as_array().unwrap();
        let names: Vec<&str> = kids.iter().map(|k| k["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["left", "right", "boxed", "pop"]);
        assert_eq!(kids[1]["src"], "https://bücher.test/");
        assert_eq!(kids[1]["pagePath"], "/__pmconf/w/chromium/3/2");
        assert_eq!(kids[2]["sandbox"], "");
        assert_eq!(kids[3]["kind"], "popup");
        assert!(kids[3]["inject"]
            .as_str()
            .unwrap()
            .starts_with("window.__pmconfConfig = {"));
        let right = config(&p, 2, "chromium/3", "m");
        let deep = &right["children"][0];
        assert!(deep["srcdoc"]
            .as_str()
            .unwrap()
            .contains("\"name\":\"deep\""));
        assert_eq!(deep["src"], json!(null));
    }

    #[test]
    fn sandboxed_about_blank_cannot_run() {
        let p = plan(
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  b: { parent: top, url: \"about:blank\", sandbox: \"allow-scripts\" }\nsteps:\n  - post: { from: b, to: top, message: 1, target_origin: \"*\" }\n",
        );
        assert!(p.cannot_run.unwrap().contains("sandboxed about:blank"));
    }

    #[test]
    fn race_cases_end_with_markers_from_every_surviving_window() {
        // child posts, then top removes it: child's message to top may
        // still be queued, and child cannot send a marker, so top marks
        // itself; the removed child expects and sends nothing.
        let p = plan(
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  child: { parent: top, url: \"http://b.test/\" }\nsteps:\n  - post: { from: child, to: top, message: 1, target_origin: \"*\" }\n  - remove: { window: child }\n",
        );
        let m = p.markers();
        assert_eq!(m.expect, vec![(0, vec!["top".to_owned()])]);
        assert_eq!(m.send, vec![(0, vec![Vec::new()])]);
        assert_eq!(p.final_document(0), "top");
    }

    /// In an isolated case a popup severed by a browsing context group
    /// switch has no opener and its opener's handle does not reach it:
    /// end-of-case markers stay in each group (a marker posted through the
    /// dead handle would never arrive, and the popup would wait for it).
    #[test]
    fn markers_never_cross_a_browsing_context_group_switch() {
        let p = plan(
            "description: t\nwindows:\n  top: { url: \"https://a.test:8443/\", isolated: true }\n  same: { opener: top, url: \"https://a.test:8443/p\" }\n  far: { opener: top, url: \"https://b.test:8443/p\" }\nsteps:\n  - post: { from: top, to: same, message: 1, target_origin: \"*\" }\n  - post: { from: far, to: far, message: 2, target_origin: \"*\" }\n",
        );
        let m = p.markers();
        let sent = |w: usize| m.send.iter().find(|(x, _)| *x == w).map(|(_, t)| t.clone());
        // top reaches itself and the popup that kept it as opener.
        assert_eq!(
            sent(0),
            Some(vec![Vec::new(), vec![HopStep::Handle("same".into())]])
        );
        // far reaches only itself.
        assert_eq!(sent(2), Some(vec![Vec::new()]));
        let expects = |w: usize| m.expect.iter().find(|(x, _)| *x == w).unwrap().1.clone();
        assert_eq!(expects(2), ["far"]);
        assert_eq!(expects(1), ["top"]);
    }

    #[test]
    fn documents_a_navigation_or_reload_loads_are_the_latest() {
        let p = plan(
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  child: { parent: top, url: \"http://b.test/\" }\nsteps:\n  - navigate: { window: child, by: top, url: \"http://c.test/\" }\n  - wait: { loaded: child }\n  - reload: { window: child }\n  - wait: { loaded: child }\n",
        );
        assert_eq!(p.latest_document_before(1, 0), "child");
        assert_eq!(p.latest_document_before(1, 1), "child@0");
        assert_eq!(p.final_document(1), "child@2");
        // Only the window's own loads count.
        assert_eq!(p.final_document(0), "top");
        // A reload fetches the page of the document it reloads.
        let reloaded = p.documents.loads[2].unwrap();
        let navigated = p.documents.loads[0].unwrap();
        assert_eq!(
            p.page_path_of_document(reloaded, "e/1.1"),
            p.page_path_of_document(navigated, "e/1.1")
        );
        assert_eq!(
            p.page_path_of_document(navigated, "e/1.1"),
            "/__pmconf/w/e/1.1/1/0"
        );
    }
}
