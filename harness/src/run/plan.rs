//! From a validated case to what each of its windows must do in a page: the
//! agent configuration (`window.__pmconfConfig`) and where WebDriver finds
//! each window.

use crate::case_files::LoadedCase;
use pmconf_model::case::{reference_path, Case, Hop, Relation, WindowContent, WindowIndex};
use pmconf_model::message::Transferable;
use pmconf_model::{answer_case, Outcome};
use serde_json::{json, Value as Json};

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
    /// Position of the case in the run; part of every page URL.
    pub id: usize,
    /// The case file name.
    pub name: String,
    /// The case.
    pub case: Case,
    /// The model's allowed outcomes.
    pub allowed: Vec<Outcome>,
    /// Where each window is, by window index.
    pub locations: Vec<WindowLocation>,
    /// Which windows run script (and so report).
    pub scripted: Vec<bool>,
    /// Why the harness cannot run this case, if it cannot.
    pub cannot_run: Option<String>,
}

impl CasePlan {
    /// Plans a loaded case.
    pub fn new(id: usize, loaded: &LoadedCase) -> Self {
        let case = loaded.case.clone();
        let allowed = answer_case(&case).allowed;
        let n = case.windows.len();
        let scripted: Vec<bool> = case
            .windows
            .iter()
            .map(|w| !w.sandbox_flags.blocks_scripts())
            .collect();
        let mut locations = Vec::with_capacity(n);
        for i in 0..n {
            locations.push(locate(&case, i));
        }
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
            name: loaded.name.clone(),
            case,
            allowed,
            locations,
            scripted,
            cannot_run,
        }
    }

    /// The windows the harness waits for: every window that runs script.
    pub fn observer_windows(&self) -> impl Iterator<Item = WindowIndex> + '_ {
        (0..self.case.windows.len()).filter(|&i| self.scripted[i])
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

    /// The agent configuration of window `w`, with page keys built from
    /// `key_prefix` (`<engine>/<case id>`), and `marker_prefix` the string
    /// that starts every end-of-case marker message.
    pub fn window_config(&self, w: WindowIndex, key_prefix: &str, marker_prefix: &str) -> Json {
        let case = &self.case;
        let senders = self.senders();
        let reaches = |from: WindowIndex, to: WindowIndex| reference_path(case, from, to).is_some();

        // Markers: each sender posts one to every scripted window it can
        // reach, after its last step; each window waits for a marker from
        // every sender that can reach it. Per-sender FIFO then guarantees
        // every earlier message from that sender has been delivered (or
        // dropped) before the marker arrives.
        let marker_targets: Vec<Json> = if senders.contains(&w) {
            self.observer_windows()
                .filter_map(|t| reference_path(case, w, t))
                .map(|p| hops_json(case, &p))
                .collect()
        } else {
            Vec::new()
        };
        let expect_markers: Vec<&str> = senders
            .iter()
            .filter(|&&s| self.scripted[w] && reaches(s, w))
            .map(|&s| case.windows[s].name.as_str())
            .collect();

        // Identifying event.source: a reference to every window this one
        // can reach; senders it cannot reach are named by elimination.
        let mut source_refs = serde_json::Map::new();
        let mut unreachable_senders = Vec::new();
        for (i, other) in case.windows.iter().enumerate() {
            match reference_path(case, w, i) {
                Some(p) => {
                    source_refs.insert(other.name.clone(), hops_json(case, &p));
                }
                None if senders.contains(&i) => unreachable_senders.push(other.name.clone()),
                None => {}
            }
        }

        let mut steps = serde_json::Map::new();
        for (i, p) in case.posts() {
            if p.from != w {
                continue;
            }
            let path = reference_path(case, w, p.to).expect("validation checked reachability");
            let transfer = p.transfer.as_ref().map(|list| {
                list.iter()
                    .map(|t| match t {
                        Transferable::BufferId(id) => json!({ "buffer": id }),
                        Transferable::Value(v) => json!({ "value": v.to_tagged_json() }),
                    })
                    .collect::<Vec<_>>()
            });
            steps.insert(
                i.to_string(),
                json!({
                    "target": hops_json(case, &path),
                    "message": p.message.to_tagged_json(),
                    "targetOrigin": p.target_origin,
                    "transfer": transfer,
                }),
            );
        }

        let children: Vec<Json> = (0..case.windows.len())
            .filter(|&c| case.windows[c].relation.creator() == Some(w))
            .map(|c| self.child_config(c, key_prefix, marker_prefix))
            .collect();

        json!({
            "key": format!("{key_prefix}/{w}"),
            "name": case.windows[w].name,
            "reportBase": self.report_base(w),
            "markerPrefix": marker_prefix,
            "markerTargets": marker_targets,
            "expectMarkers": expect_markers,
            "sourceRefs": source_refs,
            "unreachableSenders": unreachable_senders,
            "steps": steps,
            "children": children,
        })
    }

    fn child_config(&self, c: WindowIndex, key_prefix: &str, marker_prefix: &str) -> Json {
        let window = &self.case.windows[c];
        let kind = match window.relation {
            Relation::Popup { .. } => "popup",
            _ => "iframe",
        };
        let page_path = self.page_path(c, key_prefix);
        let nested =
            || super::pages::window_html(&self.window_config(c, key_prefix, marker_prefix));
        let (src, srcdoc, data_html, inject) = match &window.content {
            WindowContent::Srcdoc(_) => (None, Some(nested()), None, None),
            WindowContent::Url(u) if u.scheme() == "data" => (None, None, Some(nested()), None),
            WindowContent::Url(u) if u.scheme() == "about" => (
                None,
                None,
                None,
                Some(super::pages::inject_script(&self.window_config(
                    c,
                    key_prefix,
                    marker_prefix,
                ))),
            ),
            WindowContent::Url(_) => (Some(self.url_as_written(c)), None, None, None),
        };
        json!({
            "kind": kind,
            "name": window.name,
            "sandbox": window.sandbox_attribute,
            "src": src,
            "pagePath": page_path,
            "srcdoc": srcdoc,
            "dataHtml": data_html,
            "inject": inject,
        })
    }

    /// The server path of window `w`'s page.
    pub fn page_path(&self, w: WindowIndex, key_prefix: &str) -> String {
        format!("{PAGE_PREFIX}{key_prefix}/{w}")
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

    /// Where window `w` sends its reports: its own URL when it has an http
    /// one, otherwise its creator's (data:, srcdoc and about:blank
    /// documents).
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
}

fn hops_json(case: &Case, hops: &[Hop]) -> Json {
    Json::Array(
        hops.iter()
            .map(|h| match *h {
                Hop::Parent => json!(["parent"]),
                Hop::Opener => json!(["opener"]),
                Hop::Frame(i) => json!(["frame", i]),
                Hop::PopupHandle(p) => json!(["handle", case.windows[p].name]),
            })
            .collect(),
    )
}

fn locate(case: &Case, w: WindowIndex) -> WindowLocation {
    let mut frames = Vec::new();
    let mut at = w;
    loop {
        match case.windows[at].relation {
            Relation::Top => {
                frames.reverse();
                return WindowLocation::Runner { frames };
            }
            Relation::Popup { .. } => {
                frames.reverse();
                return WindowLocation::Popup { popup: at, frames };
            }
            Relation::Iframe { parent } => {
                let index = case
                    .child_frames(parent)
                    .iter()
                    .position(|&c| c == at)
                    .expect("a frame is its parent's child");
                frames.push(index as u16);
                at = parent;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::LoadedCase;
    use pmconf_model::parse_case;
    use serde_json::json;

    fn plan(yaml: &str) -> CasePlan {
        let case = parse_case("t.yaml", yaml).unwrap();
        CasePlan::new(
            3,
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
        let c = p.window_config(left, "chromium/3", "\u{0}m:");
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
        let targets = c["markerTargets"].as_array().unwrap();
        assert_eq!(targets.len(), 5, "{targets:?}");
        assert!(
            !targets.contains(&json!([["parent"], ["frame", 2]])),
            "boxed is not a marker target"
        );
    }

    #[test]
    fn one_argument_form_and_popup_handles() {
        let p = plan(CASE);
        let c = p.window_config(0, "firefox/3", "m");
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
        let c = p.window_config(pop, "webkitgtk/3", "m");
        // Only top can reach the popup.
        assert_eq!(c["expectMarkers"], json!(["top"]));
        // The popup reaches top through opener, so it can name it; left and
        // deep are reachable too through top's frames.
        assert_eq!(c["sourceRefs"]["top"], json!([["opener"]]));
        assert_eq!(c["unreachableSenders"], json!([]));
        let top = p.window_config(0, "webkitgtk/3", "m");
        assert_eq!(top["expectMarkers"], json!(["left", "top", "deep"]));
    }

    #[test]
    fn children_carry_their_own_pages() {
        let p = plan(CASE);
        let top = p.window_config(0, "chromium/3", "m");
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
        let right = p.window_config(2, "chromium/3", "m");
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
}
