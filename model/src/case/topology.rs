//! The window tree as it stands between two tasks of a case: which windows
//! exist, the order of each document's iframes (`frames[i]`), which popup
//! handles their opener still holds, which windows are still loading a
//! navigation, and each window's current document: its URL and the domain
//! `document.domain` gave its origin. It is the one replay of a case's
//! steps: validation walks it step by step to refuse steps that name a
//! window that is gone, load a frame mixed content blocks or set a
//! `document.domain` that throws; the race generator draws each next step
//! from it, so what it draws is valid by construction; the harness uses it
//! to find each window.
//!
//! It is the tree as the case's scripts see it once every navigation has
//! been *started*, not a model of when navigations commit (that is
//! [`crate::event_loop`]'s job): a window whose parent has started
//! navigating away is treated as gone, because it is gone in some of the
//! orders the event loop allows.

use super::{Case, Hop, Relation, Step, WindowContent, WindowIndex};
use crate::document::{document_domain_setter, DocumentUrl, DomainSetterEffect};
use crate::isolation::{first_origin, popup_keeps_its_opener};
use std::collections::VecDeque;
use url::Host;

/// The window tree between two tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Whether each window exists (created, not removed, closed or
    /// destroyed with its parent's document).
    pub exists: Vec<bool>,
    /// Each window's iframes in document order: `frames[i]`.
    pub children: Vec<Vec<WindowIndex>>,
    /// For each popup: whether its opener's current document holds the
    /// handle `window.open` returned.
    pub handle_held: Vec<bool>,
    /// Whether the window has started a navigation (or was created with a
    /// URL to load) and no `wait: loaded` followed: its script cannot be
    /// relied on to run a step, so no step may have it as its actor.
    pub loading: Vec<bool>,
    /// Whether the window's current document is a later one than its
    /// first (its agent then creates no frames and holds no handles).
    pub navigated: Vec<bool>,
    /// The URL of each window's current document (the one its latest
    /// navigation started to load, as `push_state` and `fragment` left
    /// it); for a window not created yet, the one it will be created with.
    pub current_url: Vec<DocumentUrl>,
    /// The domain `document.domain` gave each window's current document's
    /// origin, if it set one: then its effective domain.
    pub domain: Vec<Option<Host>>,
    /// For each popup of a cross-origin isolated case: a browsing context
    /// group switch severed it from its opener
    /// ([`crate::isolation::popup_keeps_its_opener`]), so it has no
    /// `opener` and its opener's handle does not reach it.
    pub severed: Vec<bool>,
}

impl Topology {
    /// The tree before the first step: every window not created by a step
    /// exists and has loaded.
    pub fn initial(case: &Case) -> Self {
        let n = case.windows.len();
        let up_front = |i: usize| case.windows[i].created_by_step.is_none();
        Topology {
            exists: (0..n).map(up_front).collect(),
            children: (0..n).map(|w| case.child_frames(w)).collect(),
            handle_held: (0..n)
                .map(|i| up_front(i) && matches!(case.windows[i].relation, Relation::Popup { .. }))
                .collect(),
            loading: vec![false; n],
            navigated: vec![false; n],
            current_url: case
                .windows
                .iter()
                .map(|w| match &w.content {
                    WindowContent::Url(u) => DocumentUrl::Url(u.clone()),
                    WindowContent::Srcdoc(_) => DocumentUrl::Srcdoc,
                })
                .collect(),
            domain: vec![None; n],
            severed: (0..n)
                .map(|w| {
                    case.is_isolated()
                        && matches!(case.windows[w].relation, Relation::Popup { .. })
                        && !popup_keeps_its_opener(case, w, &|x| first_origin(case, x))
                })
                .collect(),
        }
    }

    /// The tree just before step `step` (after every earlier step).
    pub fn before_step(case: &Case, step: usize) -> Self {
        let mut t = Topology::initial(case);
        for s in &case.steps[..step] {
            t.apply(case, s);
        }
        t
    }

    /// The tree after every step.
    pub fn at_end(case: &Case) -> Self {
        Topology::before_step(case, case.steps.len())
    }

    /// Applies one step's effect on the tree.
    pub fn apply(&mut self, case: &Case, step: &Step) {
        match step {
            Step::Post(_)
            | Step::Channel { .. }
            | Step::PortPost(_)
            | Step::PortCall { .. }
            | Step::SabWrite(_) => {}
            // history.pushState(null, "", "?pushed"): the query changes, the
            // fragment goes.
            Step::PushState { window } => {
                if let DocumentUrl::Url(u) = &mut self.current_url[*window] {
                    u.set_query(Some("pushed"));
                    u.set_fragment(None);
                }
            }
            Step::Fragment { window, fragment } => {
                if let DocumentUrl::Url(u) = &mut self.current_url[*window] {
                    u.set_fragment(Some(fragment));
                }
            }
            // The setter's step 7 (the case validator refuses a value it
            // throws for, so a valid case always gets here with one it
            // accepts). In a cross-origin isolated case every agent
            // cluster is origin-keyed ("If group's cross-origin isolation
            // mode is not "none", then set key to origin"), so step 6
            // returns first and the domain stays unset.
            Step::SetDomain { window, domain } => {
                if let Ok(DomainSetterEffect::SetDomain(d)) = document_domain_setter(
                    self.effective_domain(*window).as_ref(),
                    domain,
                    case.is_isolated(),
                ) {
                    self.domain[*window] = Some(d);
                }
            }
            Step::Navigate(n) => {
                self.replace_document(case, n.window);
                self.current_url[n.window] = DocumentUrl::Url(n.url.clone());
            }
            Step::Reload { window } => self.replace_document(case, *window),
            Step::Remove { window } | Step::Close { window } => {
                self.destroy(*window);
                if let Relation::Iframe { parent } = case.windows[*window].relation {
                    self.children[parent].retain(|&c| c != *window);
                }
            }
            Step::Create { window } => {
                let w = *window;
                self.exists[w] = true;
                match case.windows[w].relation {
                    Relation::Iframe { parent } => self.children[parent].push(w),
                    Relation::Popup { .. } => self.handle_held[w] = true,
                    Relation::Top => {}
                }
                let blank = matches!(&case.windows[w].content, WindowContent::Url(u) if u.scheme() == "about");
                self.loading[w] = !blank;
            }
            Step::WaitLoaded { window } => self.loading[*window] = false,
        }
    }

    /// A navigation or reload of `w` started: its document's iframes go
    /// with the document, and so do the popup handles its script held.
    fn replace_document(&mut self, case: &Case, w: WindowIndex) {
        for c in std::mem::take(&mut self.children[w]) {
            self.destroy(c);
        }
        for (p, win) in case.windows.iter().enumerate() {
            if win.relation == (Relation::Popup { opener: w }) {
                self.handle_held[p] = false;
            }
        }
        self.loading[w] = true;
        self.navigated[w] = true;
        // A new document, with a new origin: no domain set.
        self.domain[w] = None;
    }

    /// The effective domain of `w`'s current document's origin: the domain
    /// `document.domain` set, else its URL's host.
    /// <https://html.spec.whatwg.org/multipage/browsers.html#concept-origin-effective-domain>
    ///
    /// NOTE: `None` for a document without an http(s) URL of its own. A
    /// `data:` document's origin is opaque (no effective domain, as the
    /// standard has it); a `srcdoc` or `about:blank` document shares its
    /// creator's origin, and so would share a domain set through it, which
    /// pmconf does not follow: it refuses `set_domain` there.
    pub fn effective_domain(&self, w: WindowIndex) -> Option<Host> {
        if let Some(d) = &self.domain[w] {
            return Some(d.clone());
        }
        match &self.current_url[w] {
            DocumentUrl::Url(u) if matches!(u.scheme(), "http" | "https") => {
                u.host().map(|h| h.to_owned())
            }
            _ => None,
        }
    }

    fn destroy(&mut self, w: WindowIndex) {
        self.exists[w] = false;
        for c in std::mem::take(&mut self.children[w]) {
            self.destroy(c);
        }
    }

    /// The shortest path of hops by which script in `from` reaches `to` in
    /// this tree, if it can. An empty path means `to` is `from` itself.
    ///
    /// A window reaches its `parent`, its `opener`, `frames[i]` of any
    /// window it reaches, and (only as the first hop, from the opener's
    /// own script) the popups whose handle it holds.
    ///
    /// <https://html.spec.whatwg.org/multipage/nav-history-apis.html#crossoriginproperties-(-o-)>
    pub fn path(&self, case: &Case, from: WindowIndex, to: WindowIndex) -> Option<Vec<Hop>> {
        if !self.exists[from] || !self.exists[to] {
            return None;
        }
        let n = case.windows.len();
        let mut prev: Vec<Option<(WindowIndex, Hop)>> = vec![None; n];
        let mut seen = vec![false; n];
        let mut queue = VecDeque::from([from]);
        seen[from] = true;
        while let Some(w) = queue.pop_front() {
            if w == to {
                let mut path = Vec::new();
                let mut at = to;
                while let Some((p, hop)) = prev[at] {
                    path.push(hop);
                    at = p;
                }
                path.reverse();
                return Some(path);
            }
            let mut next: Vec<(WindowIndex, Hop)> = Vec::new();
            match case.windows[w].relation {
                Relation::Iframe { parent } => next.push((parent, Hop::Parent)),
                Relation::Popup { opener } if !self.severed[w] => next.push((opener, Hop::Opener)),
                Relation::Popup { .. } => {}
                Relation::Top => {}
            }
            for (i, &child) in self.children[w].iter().enumerate() {
                next.push((child, Hop::Frame(i)));
            }
            if w == from {
                for (p, win) in case.windows.iter().enumerate() {
                    if win.relation == (Relation::Popup { opener: from })
                        && self.handle_held[p]
                        && !self.severed[p]
                    {
                        next.push((p, Hop::PopupHandle(p)));
                    }
                }
            }
            for (m, hop) in next {
                if self.exists[m] && !seen[m] {
                    seen[m] = true;
                    prev[m] = Some((w, hop));
                    queue.push_back(m);
                }
            }
        }
        None
    }

    /// Where `w` is: the top-level window it is in (the case's top window
    /// or a popup) and the `frames[i]` indices from there down.
    pub fn frame_indices(&self, case: &Case, w: WindowIndex) -> (WindowIndex, Vec<usize>) {
        let mut frames = Vec::new();
        let mut at = w;
        while let Relation::Iframe { parent } = case.windows[at].relation {
            let index = self.children[parent]
                .iter()
                .position(|&c| c == at)
                .unwrap_or(usize::MAX);
            frames.push(index);
            at = parent;
        }
        frames.reverse();
        (at, frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    fn case(text: &str) -> Case {
        parse_case("topology.yaml", text).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    }

    fn index(case: &Case, name: &str) -> WindowIndex {
        case.window_index(name).unwrap()
    }

    fn names(case: &Case, windows: &[WindowIndex]) -> Vec<String> {
        windows
            .iter()
            .map(|&w| case.windows[w].name.clone())
            .collect()
    }

    #[test]
    fn frame_indices_shift_after_a_remove() {
        let case = case(
            r#"
description: remove the first of three frames
windows:
  top: { url: "http://a.test/" }
  one: { parent: top, url: "http://b.test/" }
  two: { parent: top, url: "http://c.test/" }
  three: { parent: top, url: "http://d.test/" }
steps:
  - remove: { window: one }
  - post: { from: top, to: three, message: 1, target_origin: "*" }
"#,
        );
        let (top, two, three) = (
            index(&case, "top"),
            index(&case, "two"),
            index(&case, "three"),
        );
        let before = Topology::before_step(&case, 0);
        assert_eq!(names(&case, &before.children[top]), ["one", "two", "three"]);
        assert_eq!(before.frame_indices(&case, three), (top, vec![2]));
        assert_eq!(before.path(&case, top, three), Some(vec![Hop::Frame(2)]));

        let after = Topology::before_step(&case, 1);
        assert_eq!(names(&case, &after.children[top]), ["two", "three"]);
        assert_eq!(after.frame_indices(&case, two), (top, vec![0]));
        assert_eq!(after.frame_indices(&case, three), (top, vec![1]));
        assert_eq!(after.path(&case, top, three), Some(vec![Hop::Frame(1)]));
        assert_eq!(
            after.path(&case, three, two),
            Some(vec![Hop::Parent, Hop::Frame(0)])
        );
    }

    #[test]
    fn a_created_iframe_is_appended_to_its_parents_frames() {
        let case = case(
            r#"
description: create frames after one made up front
windows:
  top: { url: "http://a.test/" }
  late: { parent: top, url: "http://b.test/" }
  early: { parent: top, url: "http://c.test/" }
  blank: { parent: top, url: "about:blank" }
steps:
  - create: { window: late }
  - create: { window: blank }
  - wait: { loaded: late }
"#,
        );
        let (top, late, early, blank) = (
            index(&case, "top"),
            index(&case, "late"),
            index(&case, "early"),
            index(&case, "blank"),
        );
        // Declared first, but created by a step: not there before it.
        let initial = Topology::initial(&case);
        assert_eq!(names(&case, &initial.children[top]), ["early"]);
        assert!(!initial.exists[late] && !initial.exists[blank]);
        assert_eq!(initial.path(&case, top, late), None);

        let created = Topology::before_step(&case, 1);
        assert!(created.exists[late]);
        assert_eq!(names(&case, &created.children[top]), ["early", "late"]);
        assert_eq!(created.frame_indices(&case, late), (top, vec![1]));
        assert!(created.loading[late], "its URL is still loading");
        assert!(!created.navigated[late], "still its first document");

        let both = Topology::before_step(&case, 2);
        assert_eq!(
            names(&case, &both.children[top]),
            ["early", "late", "blank"]
        );
        assert!(!both.loading[blank], "about:blank loads nothing");
        assert_eq!(
            both.path(&case, early, blank),
            Some(vec![Hop::Parent, Hop::Frame(2)])
        );

        let end = Topology::at_end(&case);
        assert!(!end.loading[late]);
        assert_eq!(end.frame_indices(&case, early), (top, vec![0]));
    }

    #[test]
    fn a_navigation_destroys_the_windows_iframes_and_drops_the_popup_handles_it_held() {
        let case = case(
            r#"
description: the parent navigates the frame that holds a grandchild and opened a popup
windows:
  top: { url: "http://a.test/" }
  child: { parent: top, url: "http://b.test/" }
  grand: { parent: child, url: "http://c.test/" }
  deeper: { parent: grand, url: "http://d.test/" }
  pop: { opener: child, url: "http://e.test/" }
  toppop: { opener: top, url: "http://f.test/" }
steps:
  - navigate: { window: child, url: "http://g.test/", by: top }
  - wait: { loaded: child }
"#,
        );
        let w = |n| index(&case, n);
        let before = Topology::initial(&case);
        assert!(before.handle_held[w("pop")] && before.handle_held[w("toppop")]);
        assert_eq!(
            before.path(&case, w("child"), w("pop")),
            Some(vec![Hop::PopupHandle(w("pop"))])
        );

        let after = Topology::before_step(&case, 1);
        assert!(
            after.exists[w("child")],
            "the window stays; its document goes"
        );
        assert!(after.loading[w("child")] && after.navigated[w("child")]);
        assert!(after.children[w("child")].is_empty());
        assert!(!after.exists[w("grand")] && !after.exists[w("deeper")]);
        // The popup lives on, but the new document has no handle to it;
        // the popup still reaches the window through `opener`.
        assert!(after.exists[w("pop")]);
        assert!(!after.handle_held[w("pop")]);
        assert_eq!(after.path(&case, w("child"), w("pop")), None);
        assert_eq!(
            after.path(&case, w("pop"), w("child")),
            Some(vec![Hop::Opener])
        );
        // Other windows' documents keep theirs.
        assert!(after.handle_held[w("toppop")]);
        assert!(!after.navigated[w("top")] && !after.loading[w("top")]);

        let end = Topology::at_end(&case);
        assert!(!end.loading[w("child")] && end.navigated[w("child")]);
    }

    #[test]
    fn no_path_to_or_from_a_removed_window() {
        let case = case(
            r#"
description: remove a frame with a frame of its own
windows:
  top: { url: "http://a.test/" }
  one: { parent: top, url: "http://b.test/" }
  inner: { parent: one, url: "http://c.test/" }
  two: { parent: top, url: "http://d.test/" }
steps:
  - remove: { window: one }
"#,
        );
        let w = |n| index(&case, n);
        let before = Topology::initial(&case);
        assert_eq!(
            before.path(&case, w("two"), w("inner")),
            Some(vec![Hop::Parent, Hop::Frame(0), Hop::Frame(0)])
        );
        let end = Topology::at_end(&case);
        assert!(!end.exists[w("one")] && !end.exists[w("inner")]);
        assert_eq!(end.path(&case, w("top"), w("one")), None);
        assert_eq!(end.path(&case, w("two"), w("inner")), None);
        assert_eq!(end.path(&case, w("one"), w("top")), None);
        assert_eq!(end.path(&case, w("one"), w("one")), None);
        assert_eq!(end.path(&case, w("two"), w("top")), Some(vec![Hop::Parent]));
    }

    #[test]
    fn frame_indices_of_a_popups_frames() {
        let case = case(
            r#"
description: frames inside a popup
windows:
  top: { url: "http://a.test/" }
  topframe: { parent: top, url: "http://b.test/" }
  pop: { opener: top, url: "http://c.test/" }
  first: { parent: pop, url: "http://d.test/" }
  second: { parent: pop, url: "http://e.test/" }
  nested: { parent: second, url: "http://f.test/" }
steps:
  - post: { from: top, to: nested, message: 1, target_origin: "*" }
"#,
        );
        let w = |n| index(&case, n);
        let t = Topology::initial(&case);
        assert_eq!(t.frame_indices(&case, w("pop")), (w("pop"), vec![]));
        assert_eq!(t.frame_indices(&case, w("first")), (w("pop"), vec![0]));
        assert_eq!(t.frame_indices(&case, w("second")), (w("pop"), vec![1]));
        assert_eq!(t.frame_indices(&case, w("nested")), (w("pop"), vec![1, 0]));
        assert_eq!(t.frame_indices(&case, w("topframe")), (w("top"), vec![0]));
        assert_eq!(
            t.path(&case, w("top"), w("nested")),
            Some(vec![
                Hop::PopupHandle(w("pop")),
                Hop::Frame(1),
                Hop::Frame(0)
            ])
        );
    }

    /// The replay of each window's current document: its URL (navigate,
    /// `history.pushState(null, "", "?pushed")`, a fragment) and the
    /// domain `document.domain` gave its origin, which a new document
    /// (navigation or reload) does not keep.
    #[test]
    fn the_current_documents_url_and_domain_follow_the_steps() {
        let case = case(
            r#"
description: one window's documents
windows:
  top: { url: "http://sub.a.test/start#x" }
  kid: { parent: top, srcdoc: "<p>" }
steps:
  - set_domain: { window: top, domain: "a.test" }
  - push_state: { window: top }
  - fragment: { window: top, fragment: "f" }
  - reload: { window: top }
  - wait: { loaded: top }
  - set_domain: { window: top, domain: "sub.a.test" }
  - navigate: { window: top, url: "http://www.sub.a.test/next" }
"#,
        );
        let top = index(&case, "top");
        let url = |t: &Topology| match &t.current_url[top] {
            DocumentUrl::Url(u) => u.to_string(),
            DocumentUrl::Srcdoc => "about:srcdoc".into(),
        };
        let domain = |t: &Topology| t.effective_domain(top).map(|h| h.to_string());
        let at = |step| Topology::before_step(&case, step);
        assert_eq!(url(&at(0)), "http://sub.a.test/start#x");
        assert_eq!(domain(&at(0)).as_deref(), Some("sub.a.test"));
        // The setter's step 7: the origin's domain, now its effective domain.
        assert_eq!(domain(&at(1)).as_deref(), Some("a.test"));
        assert_eq!(url(&at(2)), "http://sub.a.test/start?pushed");
        assert_eq!(url(&at(3)), "http://sub.a.test/start?pushed#f");
        assert_eq!(domain(&at(3)).as_deref(), Some("a.test"));
        // A reload is a new document: its origin has no domain set.
        assert_eq!(url(&at(4)), "http://sub.a.test/start?pushed#f");
        assert_eq!(domain(&at(4)).as_deref(), Some("sub.a.test"));
        assert_eq!(domain(&at(6)).as_deref(), Some("sub.a.test"));
        let end = Topology::at_end(&case);
        assert_eq!(url(&end), "http://www.sub.a.test/next");
        assert_eq!(domain(&end).as_deref(), Some("www.sub.a.test"));
        // A srcdoc document has no URL of its own: no effective domain here.
        let kid = index(&case, "kid");
        assert_eq!(end.current_url[kid], DocumentUrl::Srcdoc);
        assert_eq!(end.effective_domain(kid), None);
    }

    /// In a cross-origin isolated case the setter's step 6 returns before
    /// step 7 ("If the surrounding agent's agent cluster's is origin-keyed
    /// is true, then return"): the effective domain stays the host, so a
    /// later `document.domain = "sub.a.test"` is still equal to it (step
    /// 5) and does not throw, where it would after a real step 7.
    #[test]
    fn an_isolated_documents_domain_is_never_set() {
        let yaml = |isolated: &str| {
            format!(
                r#"
description: set a parent domain, then the host again
windows:
  top: {{ url: "https://a.test/"{isolated} }}
  kid: {{ parent: top, url: "https://sub.a.test/" }}
steps:
  - set_domain: {{ window: kid, domain: "a.test" }}
  - set_domain: {{ window: kid, domain: "sub.a.test" }}
"#
            )
        };
        let isolated = case(&yaml(", isolated: true"));
        let kid = index(&isolated, "kid");
        for step in 0..=2 {
            let t = Topology::before_step(&isolated, step);
            assert_eq!(t.domain[kid], None, "before step {step}");
            assert_eq!(
                t.effective_domain(kid).map(|h| h.to_string()).as_deref(),
                Some("sub.a.test")
            );
        }
        // Not isolated: step 7 sets a.test, and the second value throws.
        let errors = crate::case::parse_case("t.yaml", &yaml("")).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("`sub.a.test` is not `a.test`")),
            "{errors:?}"
        );
    }
}
