//! The window tree as it stands between two tasks of a case: which windows
//! exist, the order of each document's iframes (`frames[i]`), which popup
//! handles their opener still holds, and which windows are still loading a
//! navigation. Validation walks it step by step to refuse steps that name
//! a window that is gone; the harness uses it to find each window.
//!
//! It is the tree as the case's scripts see it once every navigation has
//! been *started*, not a model of when navigations commit (that is
//! [`crate::event_loop`]'s job): a window whose parent has started
//! navigating away is treated as gone, because it is gone in some of the
//! orders the event loop allows.

use super::{Case, Hop, Relation, Step, WindowContent, WindowIndex};
use std::collections::VecDeque;

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
            | Step::PushState { .. }
            | Step::Fragment { .. }
            | Step::SetDomain { .. } => {}
            Step::Navigate(n) => self.replace_document(case, n.window),
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
                Relation::Popup { opener } => next.push((opener, Hop::Opener)),
                Relation::Top => {}
            }
            for (i, &child) in self.children[w].iter().enumerate() {
                next.push((child, Hop::Frame(i)));
            }
            if w == from {
                for (p, win) in case.windows.iter().enumerate() {
                    if win.relation == (Relation::Popup { opener: from }) && self.handle_held[p] {
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

    /// Whether `w` is `ancestor` or an iframe below it.
    pub fn is_within(case: &Case, w: WindowIndex, ancestor: WindowIndex) -> bool {
        let mut at = w;
        loop {
            if at == ancestor {
                return true;
            }
            match case.windows[at].relation {
                Relation::Iframe { parent } => at = parent,
                _ => return false,
            }
        }
    }
}
