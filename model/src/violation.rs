//! Which rule of the standards an observed outcome breaks.
//!
//! A divergence is an observed outcome outside the allowed (and contested)
//! set; this module names *why*, from the model's own plan and exploration
//! rather than from the text of outcomes, so that two findings with the
//! same root cause get the same [`Rule`] whatever their hosts, values or
//! window names.
//!
//! Each delivery the engine reported is matched to the post step that sent
//! it (by its `event.data`, among the posts whose task the model queued,
//! preferring posts to the receiving window, earliest first), then checked
//! against the window post message steps in order:
//! <https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps>
//!
//! - step 8 *queues a global task given targetWindow*, which binds the task
//!   to the window's associated Document at queue time
//!   (<https://html.spec.whatwg.org/multipage/webappapis.html#queue-a-global-task>):
//!   a delivery to any other document breaks [`Rule::WrongDocument`];
//! - a task is runnable only while its document is fully active
//!   (<https://html.spec.whatwg.org/multipage/webappapis.html#concept-task-runnable>):
//!   a delivery to the bound document that no allowed schedule makes
//!   breaks [`Rule::AfterInactive`];
//! - step 8.1 returns when targetOrigin is not `*` and not same origin
//!   with the document: a delivery there breaks
//!   [`Rule::DespiteTargetOrigin`];
//! - step 8.2 sets `event.origin` to the incumbent origin's serialization
//!   ([`Rule::WrongOrigin`]); step 8.3 sets `event.source` to the sender's
//!   WindowProxy ([`Rule::WrongSource`]);
//! - the posted message task source is one task queue per event loop, run
//!   in order (<https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model>):
//!   two messages one document received in the opposite order of their
//!   posts break [`Rule::Order`] when one window posted both (its
//!   per-source order), and [`Rule::QueueOrder`] when two windows did
//!   (the model then has both tasks on one queue);
//! - a post every allowed schedule delivers, not delivered at all, breaks
//!   [`Rule::Dropped`];
//! - steps 1 to 7 throw synchronously, in step order (the targetOrigin
//!   parse of step 5 before the serialization of step 7): a call that
//!   threw something else breaks [`Rule::Exception`].
//!
//! When every part of an outcome is allowed by itself but not the whole,
//! the rule is [`Rule::Combination`].

use crate::answer::answer_case;
use crate::case::{Case, Step};
use crate::event_loop::explore;
use crate::message::MessageValue;
use crate::navigation::{plan_case, DocumentIndex, Plan};
use crate::outcome::{observed_data, source_matches, Outcome};
use crate::post_message::run_posted_message_task;
use crate::structured_clone::children;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// A rule an observed outcome can break.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "rule")]
pub enum Rule {
    /// Delivered to a document other than the one step 8 bound the task
    /// to (the target window's document when `postMessage` was called).
    WrongDocument,
    /// Delivered to the document the task was bound to, but only a
    /// schedule in which it was no longer fully active could do that.
    AfterInactive,
    /// Delivered although step 8.1's targetOrigin check fails for the
    /// document.
    DespiteTargetOrigin,
    /// Not delivered, although every allowed schedule delivers it (the
    /// targetOrigin check passes and the document stays fully active).
    Dropped,
    /// One document received two messages one window posted in the
    /// opposite order of their posts (per-source order).
    Order,
    /// One document received two messages two windows posted in the
    /// opposite order of their posts, where the model has both tasks on
    /// one event loop's posted message task source (every allowed
    /// schedule keeps their order).
    QueueOrder,
    /// `event.origin` is not the sender's origin, serialized (step 8.2).
    WrongOrigin,
    /// `event.source` is not the sender's WindowProxy (nor `null` where the
    /// sender's document may be gone), step 8.3.
    WrongSource,
    /// A message the case never posted, or whose `event.data` no post
    /// sent.
    WrongData,
    /// The call threw (or returned) where the model says otherwise.
    Exception {
        /// What the model says the call does: an exception's name, or
        /// `None` when it returns.
        model: Option<String>,
        /// What the engine's call did.
        engine: Option<String>,
        /// For the model's and the engine's exception: whether it is one
        /// that reading the message throws (step 7's serialization): a
        /// DataCloneError, or the exception a getter in the posted message
        /// throws. The key names both `serialize`, so that one root cause
        /// (an engine that reads the message before the targetOrigin check,
        /// or not at all when the check fails) is one finding whatever the
        /// message's getters throw.
        reads_message: [bool; 2],
    },
    /// Every part is allowed by itself, but no allowed schedule gives them
    /// together.
    Combination,
}

impl Rule {
    /// A short stable key: `wrong-document`, `exception:SyntaxError>DataCloneError`...
    pub fn key(&self) -> String {
        match self {
            Rule::WrongDocument => "wrong-document".into(),
            Rule::AfterInactive => "after-inactive".into(),
            Rule::DespiteTargetOrigin => "despite-target-origin".into(),
            Rule::Dropped => "dropped".into(),
            Rule::Order => "order".into(),
            Rule::QueueOrder => "queue-order".into(),
            Rule::WrongOrigin => "wrong-origin".into(),
            Rule::WrongSource => "wrong-source".into(),
            Rule::WrongData => "wrong-data".into(),
            Rule::Exception {
                model,
                engine,
                reads_message,
            } => {
                let token = |name: &Option<String>, reads: bool| match name {
                    Some(_) if reads => "serialize".to_owned(),
                    Some(name) => name.clone(),
                    None => "returns".to_owned(),
                };
                format!(
                    "exception:{}>{}",
                    token(model, reads_message[0]),
                    token(engine, reads_message[1])
                )
            }
            Rule::Combination => "combination".into(),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::WrongDocument => {
                f.write_str("delivered to a document other than the one the task was bound to")
            }
            Rule::AfterInactive => {
                f.write_str("delivered after the target document stopped being fully active")
            }
            Rule::DespiteTargetOrigin => {
                f.write_str("delivered although the targetOrigin check fails")
            }
            Rule::Dropped => f.write_str("dropped although the model delivers it"),
            Rule::Order => f.write_str("per-source order broken"),
            Rule::QueueOrder => f.write_str("two senders' messages out of task queue order"),
            Rule::WrongOrigin => f.write_str("wrong event.origin"),
            Rule::WrongSource => f.write_str("wrong event.source"),
            Rule::WrongData => f.write_str("wrong event.data"),
            Rule::Exception { model, engine, .. } => write!(
                f,
                "exception: model {}, engine {}",
                model.as_deref().unwrap_or("returns"),
                engine.as_deref().unwrap_or("returns")
            ),
            Rule::Combination => f.write_str("allowed parts in a combination no schedule gives"),
        }
    }
}

/// One broken rule, where it broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The rule.
    #[serde(flatten)]
    pub rule: Rule,
    /// The post step involved, when one is.
    pub step: Option<usize>,
    /// The document label of the delivery involved, when one is.
    pub document: Option<String>,
    /// The kinds of the case's steps involved: the post's, and those of
    /// every step acting on its sender's or target's window or on one of
    /// their ancestors (sorted, each once).
    pub step_kinds: Vec<&'static str>,
}

/// The rules `observed` breaks in `case`: empty when the model allows it
/// (or an open issue of the standard leaves it open).
pub fn classify(case: &Case, observed: &Outcome) -> Vec<Violation> {
    let answer = answer_case(case);
    let contested: Vec<Outcome> = answer.contested.iter().map(|c| c.outcome.clone()).collect();
    if observed.is_in(&answer.allowed) || observed.is_in(&contested) {
        return Vec::new();
    }
    let plan = plan_case(case);
    let bindings: BTreeSet<(usize, DocumentIndex)> = if case.is_race() {
        explore(case, &plan).bindings
    } else {
        case.posts()
            .filter_map(|(i, p)| Some((i, plan.initial_document[p.to]?)))
            .collect()
    };
    let permitted: Vec<&Outcome> = answer.allowed.iter().chain(&contested).collect();
    let c = Classifier {
        case,
        plan: &plan,
        bindings,
        permitted: &permitted,
        allowed: &answer.allowed,
    };
    let mut out = c.classify(observed);
    if out.is_empty() {
        out.push(Violation {
            rule: Rule::Combination,
            step: None,
            document: None,
            step_kinds: all_kinds(case),
        });
    }
    out.sort_by(|a, b| (&a.rule, a.step).cmp(&(&b.rule, b.step)));
    out.dedup();
    out
}

/// The distinct rules of `violations`, each with its step kinds, as
/// stable keys `rule[kind,kind]`: the unit findings are de-duplicated by.
pub fn rule_keys(violations: &[Violation]) -> BTreeSet<String> {
    violations
        .iter()
        .map(|v| format!("{}[{}]", v.rule.key(), v.step_kinds.join(",")))
        .collect()
}

/// `(step, name)` for every `$throwing_getter` in the message a post step
/// sends: the exceptions its serialization may throw besides
/// DataCloneError.
fn message_getter_errors(case: &Case) -> BTreeSet<(usize, &str)> {
    fn walk<'c>(value: &'c MessageValue, step: usize, out: &mut BTreeSet<(usize, &'c str)>) {
        if let MessageValue::ThrowingGetter(name) = value {
            out.insert((step, name.as_str()));
        }
        for child in children(value) {
            walk(child, step, out);
        }
    }
    let mut out = BTreeSet::new();
    for (step, post) in case.posts() {
        walk(&post.message, step, &mut out);
    }
    out
}

fn all_kinds(case: &Case) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = case.steps.iter().map(Step::kind).collect();
    set.into_iter().collect()
}

struct Classifier<'a> {
    case: &'a Case,
    plan: &'a Plan,
    bindings: BTreeSet<(usize, DocumentIndex)>,
    permitted: &'a [&'a Outcome],
    allowed: &'a [Outcome],
}

impl Classifier<'_> {
    /// The kinds of the steps involved with post `step`.
    fn kinds_for(&self, step: usize) -> Vec<&'static str> {
        let Some(post) = self.case.steps[step].as_post() else {
            return all_kinds(self.case);
        };
        let mut windows = BTreeSet::new();
        for w in [post.from, post.to] {
            let mut at = Some(w);
            while let Some(x) = at {
                windows.insert(x);
                at = self.case.windows[x].relation.creator();
            }
        }
        let mut kinds = BTreeSet::from(["post"]);
        for (j, s) in self.case.steps.iter().enumerate() {
            if j != step && !matches!(s, Step::Post(_)) && windows.contains(&s.subject()) {
                kinds.insert(s.kind());
            }
        }
        kinds.into_iter().collect()
    }

    fn violation(&self, rule: Rule, step: usize, document: Option<&str>) -> Violation {
        Violation {
            rule,
            step: Some(step),
            document: document.map(str::to_owned),
            step_kinds: self.kinds_for(step),
        }
    }

    /// Post steps whose task the model queued.
    fn queued(&self) -> Vec<usize> {
        self.case
            .posts()
            .filter(|(i, _)| matches!(self.plan.posts[*i], Some(Ok(_))))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether some permitted outcome has post `step` delivered at
    /// `label` (with `source`, when given).
    fn permitted_delivery(
        &self,
        step: usize,
        label: &str,
        source: Option<&Option<String>>,
    ) -> bool {
        let want = self.plan.delivery(self.case, step, false);
        self.permitted.iter().any(|o| {
            o.received.iter().any(|(l, list)| {
                l == label
                    && list.iter().any(|d| {
                        d.message == want.message
                            && d.origin == want.origin
                            && source.is_none_or(|s| source_matches(s, &d.source))
                    })
            })
        })
    }

    fn classify(&self, observed: &Outcome) -> Vec<Violation> {
        let mut out = Vec::new();
        // Steps 1-7: what the call threw. It does not depend on the order
        // of the event loops.
        let model_posts = self.plan.post_outcomes(self.case);
        let getters = message_getter_errors(self.case);
        let reads_message = |name: &Option<String>, step: usize| {
            name.as_deref().is_some_and(|n| {
                n == "DataCloneError" || getters.contains(&(step, n)) && n != "SyntaxError"
            })
        };
        let mut engine_threw = BTreeSet::new();
        for m in &model_posts {
            let e = observed.posts.iter().find(|o| o.step == m.step);
            let engine = e.and_then(|e| e.threw.clone());
            if engine.is_some() {
                engine_threw.insert(m.step);
            }
            if e.is_some() && engine != m.threw {
                out.push(self.violation(
                    Rule::Exception {
                        reads_message: [
                            reads_message(&m.threw, m.step),
                            reads_message(&engine, m.step),
                        ],
                        model: m.threw.clone(),
                        engine,
                    },
                    m.step,
                    None,
                ));
            }
        }
        let queued = self.queued();
        let mut delivered: BTreeSet<usize> = BTreeSet::new();
        for (label, list) in &observed.received {
            let window_name = label.split('@').next().unwrap_or(label);
            let window = self.case.window_index(window_name);
            let document = self.plan.documents.iter().position(|d| d.label == *label);
            let mut used: Vec<usize> = Vec::new();
            for d in list {
                // The post this message came from: the same event.data,
                // to this window first, earliest first, each used once
                // per document.
                let candidates = queued.iter().copied().filter(|s| {
                    !used.contains(s)
                        && observed_data(&self.plan.queued_task(*s).message) == d.message
                });
                let mut candidates: Vec<usize> = candidates.collect();
                candidates.sort_by_key(|s| {
                    (
                        self.case.steps[*s].subject() != window.unwrap_or(usize::MAX),
                        *s,
                    )
                });
                let Some(&step) = candidates.first() else {
                    // A post that returned in the model and threw in the
                    // engine is already an exception; anything else is data
                    // no post sent.
                    let threw_here = self.case.posts().any(|(i, p)| {
                        Some(p.to) == window
                            && self.plan.posts[i].as_ref().is_some_and(|r| r.is_err())
                    });
                    if !threw_here {
                        out.push(Violation {
                            rule: Rule::WrongData,
                            step: None,
                            document: Some(label.clone()),
                            step_kinds: all_kinds(self.case),
                        });
                    }
                    continue;
                };
                used.push(step);
                delivered.insert(step);
                let post = self.case.steps[step].as_post().expect("a post");
                let rule = match document {
                    _ if Some(post.to) != window => Some(Rule::WrongDocument),
                    None => Some(Rule::WrongDocument),
                    Some(doc) if !self.bindings.contains(&(step, doc)) => Some(Rule::WrongDocument),
                    Some(doc)
                        if run_posted_message_task(
                            self.plan.queued_task(step),
                            &self.plan.documents[doc].origin,
                        )
                        .is_err() =>
                    {
                        Some(Rule::DespiteTargetOrigin)
                    }
                    Some(_) if !self.permitted_delivery(step, label, None) => {
                        // The origin may be wrong too; the document is the
                        // first thing that went wrong.
                        let want = self.plan.delivery(self.case, step, false);
                        if d.origin != want.origin {
                            Some(Rule::WrongOrigin)
                        } else {
                            Some(Rule::AfterInactive)
                        }
                    }
                    Some(_) => {
                        let want = self.plan.delivery(self.case, step, false);
                        if d.origin != want.origin {
                            Some(Rule::WrongOrigin)
                        } else if !self.permitted_delivery(step, label, Some(&d.source)) {
                            Some(Rule::WrongSource)
                        } else {
                            None
                        }
                    }
                };
                if let Some(rule) = rule {
                    out.push(self.violation(rule, step, Some(label)));
                }
            }
            // Within one document, messages arrive in the order they were
            // posted: a sender's own posts always, two senders' where the
            // allowed schedules keep them (else this outcome would be
            // allowed, or another rule would name what is wrong).
            let sender = |step: usize| self.case.steps[step].as_post().map(|p| p.from);
            for (k, &later) in used.iter().enumerate() {
                let overtaken: Vec<usize> = used[k + 1..]
                    .iter()
                    .copied()
                    .filter(|&e| e < later)
                    .collect();
                if overtaken.is_empty() {
                    continue;
                }
                let rule = if overtaken.iter().any(|&e| sender(e) == sender(later)) {
                    Rule::Order
                } else {
                    Rule::QueueOrder
                };
                out.push(self.violation(rule, later, Some(label)));
            }
        }
        // Posts every allowed schedule delivers.
        for step in queued {
            if delivered.contains(&step) || engine_threw.contains(&step) {
                continue;
            }
            let always = self.allowed.iter().all(|o| {
                let want = self.plan.delivery(self.case, step, false);
                o.received.iter().any(|(_, list)| {
                    list.iter()
                        .any(|d| d.message == want.message && d.origin == want.origin)
                })
            });
            if always {
                out.push(self.violation(Rule::Dropped, step, None));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! Each expectation is derived by hand from the window post message
    //! steps (see the module documentation), not read off the model.
    use super::*;
    use crate::case::parse_case;
    use crate::outcome::{Delivery, PostOutcome};
    use serde_json::json;

    /// top at http://a.test/ with an iframe `child` at http://b.test/.
    fn case(steps: &str) -> Case {
        case_with_child("http://b.test/", steps)
    }

    fn case_with_child(child: &str, steps: &str) -> Case {
        let text = format!(
            "description: t\nwindows:\n  top: {{ url: \"http://a.test/\" }}\n  child: {{ parent: top, url: \"{child}\" }}\nsteps:\n{steps}"
        );
        parse_case("t.yaml", &text).unwrap()
    }

    fn from_top(m: &str) -> Delivery {
        Delivery {
            message: json!(m),
            origin: "http://a.test".into(),
            source: Some("top".into()),
            ports: Vec::new(),
        }
    }

    fn outcome(posts: usize, received: Vec<(&str, Vec<Delivery>)>) -> Outcome {
        Outcome {
            posts: (0..posts).map(PostOutcome::returned).collect(),
            received: received
                .into_iter()
                .map(|(l, d)| (l.to_owned(), d))
                .collect(),
        }
    }

    fn rules(case: &Case, o: &Outcome) -> Vec<String> {
        classify(case, o).iter().map(|v| v.rule.key()).collect()
    }

    const POST_THEN_NAVIGATE: &str = "  - same_task:\n      - post: { from: top, to: child, message: m, target_origin: \"*\" }\n      - navigate: { window: child, by: top, url: \"http://c.test/\" }\n";

    #[test]
    fn an_allowed_outcome_breaks_nothing() {
        // Bound to child's first document, which the navigation replaces in
        // a later task: delivered there, or never.
        let c = case(POST_THEN_NAVIGATE);
        let o = outcome(1, vec![("top", vec![]), ("child", vec![from_top("m")])]);
        assert_eq!(classify(&c, &o), []);
        let none = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        assert_eq!(classify(&c, &none), []);
    }

    #[test]
    fn delivered_to_the_document_the_navigation_made() {
        // Step 8 bound the task to `child` (its document at call time);
        // `child@0`... the navigate is step 1, so its document is child@1.
        // child is same-origin with top: one agent, so the Window was
        // fixed at call time without any cross-agent access, and
        // whatwg/html#3691 leaves nothing open (a cross-site child would
        // make this contested: model_races.rs).
        let c = case_with_child("http://a.test/child", POST_THEN_NAVIGATE);
        let o = outcome(
            1,
            vec![
                ("top", vec![]),
                ("child", vec![]),
                ("child@1", vec![from_top("m")]),
            ],
        );
        let v = classify(&c, &o);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].rule, Rule::WrongDocument);
        assert_eq!(v[0].step, Some(0));
        assert_eq!(v[0].document.as_deref(), Some("child@1"));
        assert_eq!(v[0].step_kinds, ["navigate", "post"]);
        assert_eq!(
            rule_keys(&v).into_iter().collect::<Vec<_>>(),
            ["wrong-document[navigate,post]"]
        );
    }

    #[test]
    fn delivered_after_the_iframe_was_removed_in_the_same_task() {
        // The removal destroys child's navigable in the posting task; child
        // is same-site with top, so one event loop runs both and no message
        // task can run in between: its document is never fully active
        // again, so the task never runs. (Cross-site, child's own event
        // loop could run it before the removal.)
        let c = case_with_child("http://a.test/child", "  - same_task:\n      - post: { from: top, to: child, message: m, target_origin: \"*\" }\n      - remove: { window: child }\n");
        let o = outcome(1, vec![("top", vec![]), ("child", vec![from_top("m")])]);
        assert_eq!(rules(&c, &o), ["after-inactive"]);
        assert_eq!(classify(&c, &o)[0].step_kinds, ["post", "remove"]);
    }

    #[test]
    fn delivered_although_the_target_origin_check_fails() {
        // targetOrigin http://c.test; the bound document is b.test's: step
        // 8.1 returns.
        let c = case("  - same_task:\n      - post: { from: top, to: child, message: m, target_origin: \"http://c.test\" }\n      - navigate: { window: child, by: top, url: \"http://c.test/\" }\n");
        let o = outcome(1, vec![("top", vec![]), ("child", vec![from_top("m")])]);
        assert_eq!(rules(&c, &o), ["despite-target-origin"]);
    }

    #[test]
    fn two_senders_out_of_queue_order_are_not_per_source_order() {
        // A same-origin child shares top's agent and so its event loop
        // (HTML 8.1.2, similar-origin window agent): child's post is queued
        // on the posted message task source before top's, and top must get
        // "c" before "t".
        let c = case_with_child(
            "http://a.test/",
            "  - post: { from: child, to: top, message: c, target_origin: \"*\" }\n  - post: { from: top, to: top, message: t, target_origin: \"*\" }\n",
        );
        let mut from_child = from_top("c");
        from_child.source = Some("child".into());
        let swapped = outcome(
            2,
            vec![("top", vec![from_top("t"), from_child]), ("child", vec![])],
        );
        assert_eq!(rules(&c, &swapped), ["queue-order"]);
    }

    #[test]
    fn order_origin_and_source() {
        let c = case("  - post: { from: top, to: child, message: a, target_origin: \"*\" }\n  - post: { from: top, to: child, message: b, target_origin: \"*\" }\n");
        let swapped = outcome(
            2,
            vec![
                ("top", vec![]),
                ("child", vec![from_top("b"), from_top("a")]),
            ],
        );
        assert_eq!(rules(&c, &swapped), ["order"]);
        let mut origin = from_top("a");
        origin.origin = "http://b.test".into();
        let o = outcome(
            2,
            vec![("top", vec![]), ("child", vec![origin, from_top("b")])],
        );
        assert_eq!(rules(&c, &o), ["wrong-origin"]);
        let mut source = from_top("b");
        source.source = Some("child".into());
        let o = outcome(
            2,
            vec![("top", vec![]), ("child", vec![from_top("a"), source])],
        );
        let v = classify(&c, &o);
        assert_eq!(v.len(), 1);
        assert_eq!((&v[0].rule, v[0].step), (&Rule::WrongSource, Some(1)));
        // top's document stays fully active, so a null source is wrong too.
        let mut null = from_top("b");
        null.source = None;
        let o = outcome(
            2,
            vec![("top", vec![]), ("child", vec![from_top("a"), null])],
        );
        assert_eq!(rules(&c, &o), ["wrong-source"]);
    }

    #[test]
    fn an_unidentified_source_is_wrong_even_where_null_is_allowed() {
        // child posts to top, then navigates itself in the same task. Step
        // 8.3 makes event.source child's WindowProxy; once child's first
        // document is no longer fully active, the model also allows null.
        // A WindowProxy top cannot name as child is neither.
        let c = case("  - same_task:\n      - post: { from: child, to: top, message: m, target_origin: \"*\" }\n      - navigate: { window: child, url: \"http://c.test/\" }\n");
        let from_child = |source: Option<&str>| Delivery {
            message: json!("m"),
            origin: "http://b.test".into(),
            source: source.map(str::to_owned),
            ports: Vec::new(),
        };
        for allowed in [Some("child"), None] {
            let o = outcome(
                1,
                vec![("top", vec![from_child(allowed)]), ("child", vec![])],
            );
            assert_eq!(rules(&c, &o), Vec::<String>::new(), "source {allowed:?}");
        }
        let o = outcome(
            1,
            vec![
                (
                    "top",
                    vec![from_child(Some(crate::outcome::UNIDENTIFIED_SOURCE))],
                ),
                ("child", vec![]),
            ],
        );
        assert_eq!(rules(&c, &o), ["wrong-source"]);
    }

    #[test]
    fn a_candidate_set_is_judged_against_the_allowed_sources() {
        // As above: event.source is child, or null once child's first
        // document is gone. A receiver that could only narrow the
        // WindowProxy to {child, top} reported a candidate set: it holds
        // child, so nothing is broken; {top} alone does not.
        let c = case("  - same_task:\n      - post: { from: child, to: top, message: m, target_origin: \"*\" }\n      - navigate: { window: child, url: \"http://c.test/\" }\n");
        let from_child = |source: &str| Delivery {
            message: json!("m"),
            origin: "http://b.test".into(),
            source: Some(source.to_owned()),
            ports: Vec::new(),
        };
        let observed = |source: &str| {
            outcome(
                1,
                vec![("top", vec![from_child(source)]), ("child", vec![])],
            )
        };
        assert_eq!(rules(&c, &observed("?child|top")), Vec::<String>::new());
        assert_eq!(rules(&c, &observed("?top")), ["wrong-source"]);
        // Beside a message no post sent, the candidate set is still no
        // wrong source: only the stray message is.
        let mut stray = observed("?child|top");
        stray.received[0].1.push(from_child("z"));
        stray.received[0].1[1].message = json!("z");
        assert_eq!(rules(&c, &stray), ["wrong-data"]);
    }

    #[test]
    fn exceptions_in_the_wrong_order_and_drops() {
        // Steps 4-5 parse targetOrigin before step 7 serializes: "//a.test"
        // is no absolute URL, so SyntaxError, though a function cannot be
        // cloned.
        let c = case("  - post: { from: top, to: top, message: { $function: f }, target_origin: \"//a.test\" }\n");
        let mut o = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        o.posts[0].threw = Some("DataCloneError".into());
        let v = classify(&c, &o);
        assert_eq!(
            v.iter().map(|v| v.rule.clone()).collect::<Vec<_>>(),
            [Rule::Exception {
                model: Some("SyntaxError".into()),
                engine: Some("DataCloneError".into()),
                reads_message: [false, true],
            }]
        );
        assert_eq!(v[0].rule.key(), "exception:SyntaxError>serialize");
        assert_eq!(v[0].step_kinds, ["post"]);
        // blob:http://a.test has the origin of its inner URL, so the
        // targetOrigin check passes for top's own document: it must be
        // delivered.
        let c = case(
            "  - post: { from: top, to: top, message: m, target_origin: \"blob:http://a.test\" }\n",
        );
        let o = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        assert_eq!(rules(&c, &o), ["dropped"]);
    }

    #[test]
    fn what_reading_the_message_throws_is_one_rule() {
        // An engine that serializes before parsing targetOrigin throws the
        // getter's RangeError where step 5 throws SyntaxError: the same
        // rule as throwing DataCloneError there.
        let c = case("  - post: { from: top, to: top, message: { k: { $throwing_getter: RangeError } }, target_origin: \"//a.test\" }\n");
        let mut o = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        o.posts[0].threw = Some("RangeError".into());
        assert_eq!(rules(&c, &o), ["exception:SyntaxError>serialize"]);
        // Where step 7 throws the getter's RangeError, an engine that
        // returns (it skips serialization) breaks `serialize>returns`.
        let c = case("  - post: { from: top, to: top, message: { k: { $throwing_getter: RangeError } }, target_origin: \"*\" }\n");
        let o = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        assert_eq!(rules(&c, &o), ["exception:serialize>returns"]);
        // A RangeError the message cannot throw keeps its name.
        let c = case("  - post: { from: top, to: top, message: m, target_origin: \"//a.test\" }\n");
        let mut o = outcome(1, vec![("top", vec![]), ("child", vec![])]);
        o.posts[0].threw = Some("RangeError".into());
        assert_eq!(rules(&c, &o), ["exception:SyntaxError>RangeError"]);
    }

    #[test]
    fn a_message_no_post_sent() {
        let c = case("  - post: { from: top, to: child, message: a, target_origin: \"*\" }\n");
        let o = outcome(1, vec![("top", vec![]), ("child", vec![from_top("z")])]);
        // "z" is no post's data; "a" is then missing as well.
        assert_eq!(rules(&c, &o), ["dropped", "wrong-data"]);
    }
}
