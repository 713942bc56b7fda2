//! Schedules of race steps, drawn valid by construction.
//!
//! The validator's rules (`model/src/case/validate/`) are the grammar: the
//! builder keeps the model's own replay of the case, [`Topology`], as it
//! stands after the steps drawn so far, lists every step that is valid
//! next (whose acting script can run, whose windows exist and are
//! reachable, whose frame mixed content does not block, whose
//! `document.domain` value the setter accepts: the model's
//! `mixed_content` and `document` rules, asked of that replay), and draws
//! one of them. A prefix of a valid schedule is valid, so a schedule can
//! be cut short (to bound the states the model explores) without breaking
//! it.

use super::topology::{avoided, same_site_variant, PlacedTopology};
use crate::gen::origins::GenOrigin;
use pmconf_model::case::{Navigate, NavigateVia, Post, Relation, Step, Topology};
use pmconf_model::document::{settable_domains, DocumentUrl};
use pmconf_model::message::MessageValue;
use pmconf_model::mixed_content::frame_load_blocker;
use pmconf_model::Case;
use serde_yaml::{Mapping, Value};

/// Steps (counting each member of a `same_task` group) a schedule has at most.
pub const MAX_STEPS: usize = 6;

/// A stream of choices drawn by proptest: each choice takes the next
/// number modulo the number of alternatives (0, the first alternative,
/// is what shrinking tends to).
pub struct Tape<'a> {
    numbers: &'a [u32],
    at: usize,
}

impl<'a> Tape<'a> {
    /// Choices from `numbers` (used round and round, mixed, once exhausted).
    pub fn new(numbers: &'a [u32]) -> Self {
        Tape { numbers, at: 0 }
    }

    /// A choice in `0..n` (`n` > 0).
    pub fn pick(&mut self, n: usize) -> usize {
        let len = self.numbers.len().max(1);
        let raw = self.numbers.get(self.at % len).copied().unwrap_or(0) as usize;
        let round = self.at / len;
        self.at += 1;
        (raw.wrapping_add(round.wrapping_mul(0x9E37_79B9))) % n.max(1)
    }

    /// Whether to take a branch with probability `num`/`den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.pick(den) < num
    }
}

/// A step that may come next, before its details (URL, message...) are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Post {
        from: usize,
        to: usize,
    },
    Navigate {
        window: usize,
        by: usize,
        via: NavigateVia,
    },
    Reload(usize),
    Remove(usize),
    Close(usize),
    PushState(usize),
    Fragment(usize),
    SetDomain(usize),
    Create(usize),
    Wait(usize),
}

impl Candidate {
    fn kind(self) -> &'static str {
        match self {
            Candidate::Post { .. } => "post",
            Candidate::Navigate { .. } => "navigate",
            Candidate::Reload(_) => "reload",
            Candidate::Remove(_) => "remove",
            Candidate::Close(_) => "close",
            Candidate::PushState(_) => "push_state",
            Candidate::Fragment(_) => "fragment",
            Candidate::SetDomain(_) => "set_domain",
            Candidate::Create(_) => "create",
            Candidate::Wait(_) => "wait",
        }
    }

    /// Whether this step navigates, reloads, removes, closes or changes
    /// the document of window `w`.
    fn changes_document_of(self, w: usize) -> bool {
        match self {
            Candidate::Navigate { window, .. } => window == w,
            Candidate::Reload(x)
            | Candidate::Remove(x)
            | Candidate::Close(x)
            | Candidate::PushState(x)
            | Candidate::Fragment(x)
            | Candidate::SetDomain(x) => x == w,
            Candidate::Post { .. } | Candidate::Create(_) | Candidate::Wait(_) => false,
        }
    }

    /// The kinds and how often each is drawn when it can be.
    const WEIGHTS: &'static [(&'static str, usize)] = &[
        ("post", 6),
        ("navigate", 4),
        ("reload", 1),
        ("remove", 1),
        ("close", 1),
        ("push_state", 1),
        ("fragment", 1),
        ("set_domain", 1),
        ("create", 3),
        ("wait", 3),
    ];
}

/// One drawn step: its YAML, the model's step (to move the topology
/// on), and the families it exercises.
struct Drawn {
    yaml: Value,
    step: Step,
    families: Vec<&'static str>,
}

/// A top-level entry of the schedule: a step or a `same_task` group.
pub struct Item {
    steps: Vec<Drawn>,
}

impl Item {
    /// The item as YAML (a step, or `same_task: [...]`).
    pub fn yaml(&self) -> Value {
        if self.steps.len() == 1 {
            return self.steps[0].yaml.clone();
        }
        let mut m = Mapping::new();
        m.insert(
            "same_task".into(),
            Value::Sequence(self.steps.iter().map(|d| d.yaml.clone()).collect()),
        );
        Value::Mapping(m)
    }

    /// The families of its steps (and `same_task` for a group).
    pub fn families(&self) -> Vec<&'static str> {
        let mut f: Vec<&'static str> = self.steps.iter().flat_map(|d| d.families.clone()).collect();
        if self.steps.len() > 1 {
            f.push("same_task");
        }
        f
    }

    /// Its step kinds: `navigate`, or `same_task(post, navigate)`.
    pub fn summary(&self) -> String {
        let kinds: Vec<&str> = self.steps.iter().map(|d| d.step.kind()).collect();
        if kinds.len() == 1 {
            kinds[0].to_owned()
        } else {
            format!("same_task({})", kinds.join(", "))
        }
    }

    /// Steps it holds.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether it holds no step (never, once drawn).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Draws schedules over one placed topology.
pub struct Builder<'p> {
    placed: &'p PlacedTopology,
    /// The windows (steps empty): what [`Topology`] reads.
    case: Case,
    topology: Topology,
    /// Each window's current document's origin.
    current: Vec<GenOrigin>,
    /// Windows made by a `create` step and not yet created.
    to_create: Vec<bool>,
    steps_so_far: usize,
}

impl<'p> Builder<'p> {
    /// A builder for `case` (its windows, each created up front unless
    /// `deferred` says a `create` step makes it).
    pub fn new(placed: &'p PlacedTopology, mut case: Case, deferred: &[bool]) -> Self {
        for (w, d) in case.windows.iter_mut().zip(deferred) {
            // Any step index: the topology only asks whether it is set.
            w.created_by_step = d.then_some(0);
        }
        case.steps.clear();
        case.task_of_step.clear();
        let topology = Topology::initial(&case);
        Builder {
            placed,
            current: placed.origins.clone(),
            to_create: deferred.to_vec(),
            case,
            topology,
            steps_so_far: 0,
        }
    }

    fn can_act(&self, w: usize) -> bool {
        self.topology.exists[w]
            && !self.topology.loading[w]
            && !self.case.windows[w].sandbox_flags.blocks_scripts()
    }

    fn reaches(&self, from: usize, to: usize) -> bool {
        self.topology.path(&self.case, from, to).is_some()
    }

    /// Every step valid next (taken by `actor` only, when given).
    fn candidates(&self, actor: Option<usize>) -> Vec<Candidate> {
        let n = self.case.windows.len();
        let mut out = Vec::new();
        let by = |w: usize| actor.is_none_or(|a| a == w);
        for w in 0..n {
            let exists = self.topology.exists[w];
            let creator = self.case.windows[w].relation.creator();
            if self.can_act(w) && by(w) {
                for to in 0..n {
                    if self.topology.exists[to]
                        && !self.case.windows[to].sandbox_flags.blocks_scripts()
                        && self.reaches(w, to)
                    {
                        out.push(Candidate::Post { from: w, to });
                    }
                }
                out.push(Candidate::Navigate {
                    window: w,
                    by: w,
                    via: NavigateVia::Location,
                });
                out.push(Candidate::Reload(w));
                out.push(Candidate::PushState(w));
                out.push(Candidate::Fragment(w));
                if !self.case.windows[w].sandbox_flags.is_sandboxed()
                    && !self.domain_values(w).is_empty()
                {
                    out.push(Candidate::SetDomain(w));
                }
            }
            if let Some(c) = creator {
                let creator_acts = self.can_act(c) && by(c);
                if exists && creator_acts && self.reaches(c, w) {
                    out.push(Candidate::Navigate {
                        window: w,
                        by: c,
                        via: NavigateVia::Location,
                    });
                    if matches!(self.case.windows[w].relation, Relation::Iframe { .. }) {
                        out.push(Candidate::Navigate {
                            window: w,
                            by: c,
                            via: NavigateVia::Src,
                        });
                    }
                }
                match self.case.windows[w].relation {
                    Relation::Iframe { .. } if exists && creator_acts => {
                        out.push(Candidate::Remove(w))
                    }
                    Relation::Popup { .. }
                        if exists && creator_acts && self.topology.handle_held[w] =>
                    {
                        out.push(Candidate::Close(w))
                    }
                    _ => {}
                }
                if self.to_create[w] && creator_acts && !self.blocked(w, &self.current[w]) {
                    out.push(Candidate::Create(w));
                }
            }
            if actor.is_none() && exists && self.topology.loading[w] {
                out.push(Candidate::Wait(w));
            }
        }
        out
    }

    /// Draws one candidate: a kind by weight among those possible, then
    /// one of that kind. `race_only` leaves posts out.
    fn choose(
        &self,
        tape: &mut Tape,
        candidates: &[Candidate],
        race_only: bool,
    ) -> Option<Candidate> {
        let kinds: Vec<(&str, usize)> = Candidate::WEIGHTS
            .iter()
            .copied()
            .filter(|(k, _)| !(race_only && *k == "post"))
            .filter(|(k, _)| candidates.iter().any(|c| c.kind() == *k))
            .collect();
        let total: usize = kinds.iter().map(|k| k.1).sum();
        if total == 0 {
            return None;
        }
        let mut at = tape.pick(total);
        let kind = kinds
            .iter()
            .find(|(_, w)| {
                if at < *w {
                    true
                } else {
                    at -= w;
                    false
                }
            })
            .map(|k| k.0)?;
        let of_kind: Vec<Candidate> = candidates
            .iter()
            .copied()
            .filter(|c| c.kind() == kind)
            .collect();
        Some(of_kind[tape.pick(of_kind.len())])
    }

    /// Draws the whole schedule: up to `target` steps.
    pub fn schedule(mut self, tape: &mut Tape, target: usize) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        while self.steps_so_far < target {
            let room = target - self.steps_so_far;
            let all = self.candidates(None);
            let race_only = self.steps_so_far + 1 == target && !self.has_race_step(&items);
            let group = room >= 2 && tape.chance(1, 3);
            let Some(first) = self.choose(tape, &all, race_only) else {
                break;
            };
            let mut item = Item {
                steps: vec![self.take(tape, first)],
            };
            if group {
                if let Some(actor) = item.steps[0].step.actor(&self.case) {
                    let members = 1 + tape.pick(room.min(3));
                    while item.steps.len() < members {
                        let mut more = self.candidates(Some(actor));
                        // The classic race, favoured: a post, then in the
                        // same task a step that replaces, removes or changes
                        // the document the message was posted to.
                        let last = &item.steps[item.steps.len() - 1].step;
                        if let Step::Post(p) = last {
                            let at_target: Vec<Candidate> = more
                                .iter()
                                .copied()
                                .filter(|c| c.changes_document_of(p.to))
                                .collect();
                            if !at_target.is_empty() && tape.chance(2, 3) {
                                more = at_target;
                            }
                        }
                        // The schedule's last step, with no race step yet:
                        // not a post, as for a step drawn alone.
                        let race_only = self.steps_so_far + 1 == target
                            && !self.has_race_step(&items)
                            && item.steps.iter().all(|d| matches!(d.step, Step::Post(_)));
                        let Some(next) = self.choose(tape, &more, race_only) else {
                            break;
                        };
                        item.steps.push(self.take(tape, next));
                    }
                }
            }
            items.push(item);
        }
        items
    }

    /// What `w`'s document may set `document.domain` to, as the model's
    /// replay has its effective domain (the host, or what it set already):
    /// the values the setter accepts, less those [`AVOIDED_DOMAINS`] keeps
    /// out.
    fn domain_values(&self, w: usize) -> Vec<String> {
        let Some(effective) = self.topology.effective_domain(w) else {
            return Vec::new();
        };
        if AVOIDED_DOMAINS.iter().any(|a| (a.matches)(&effective)) {
            return Vec::new();
        }
        settable_domains(&effective)
    }

    fn has_race_step(&self, items: &[Item]) -> bool {
        items
            .iter()
            .flat_map(|i| &i.steps)
            .any(|d| !matches!(d.step, Step::Post(_)))
    }

    /// Draws the details of `c`, applies it to the topology, returns it.
    fn take(&mut self, tape: &mut Tape, c: Candidate) -> Drawn {
        let index = self.steps_so_far;
        self.steps_so_far += 1;
        let name = |w: usize| Value::String(self.case.windows[w].name.clone());
        let one = |kind: &str, fields: Vec<(&str, Value)>| {
            let mut body = Mapping::new();
            for (k, v) in fields {
                body.insert(Value::String(k.to_owned()), v);
            }
            let mut m = Mapping::new();
            m.insert(Value::String(kind.to_owned()), Value::Mapping(body));
            Value::Mapping(m)
        };
        let (yaml, step, families): (Value, Step, Vec<&'static str>) = match c {
            Candidate::Post { from, to } => {
                let message = format!("m{index}");
                let (target_origin, family) = self.target_origin(tape, from, to);
                let function_of = self.function_window(tape, from);
                let mut fields = vec![
                    ("from", name(from)),
                    ("to", name(to)),
                    ("message", Value::String(message.clone())),
                    ("target_origin", Value::String(target_origin.clone())),
                ];
                let mut families = vec!["post", family];
                if let Some(f) = function_of {
                    fields.push(("function_of", name(f)));
                    families.push("post-function-of");
                }
                let yaml = one("post", fields);
                let step = Step::Post(Post {
                    from,
                    to,
                    message: MessageValue::String(message.encode_utf16().collect()),
                    target_origin: Some(target_origin),
                    transfer: None,
                    form: pmconf_model::case::CallForm::Positional,
                    reply_to: None,
                    function_of,
                });
                (yaml, step, families)
            }
            Candidate::Navigate { window, by, via } => {
                let (origin, family) = self.navigation_origin(tape, window);
                let url = origin.url();
                let mut fields = vec![
                    ("window", name(window)),
                    ("url", Value::String(url.clone())),
                ];
                let by_family = if by == window {
                    "by-self"
                } else if matches!(self.case.windows[window].relation, Relation::Popup { .. }) {
                    "by-opener"
                } else {
                    "by-parent"
                };
                if by != window {
                    fields.push(("by", name(by)));
                }
                let via_family = if via == NavigateVia::Src {
                    fields.push(("via", Value::String("src".into())));
                    "via-src"
                } else {
                    "via-location"
                };
                let parsed = url::Url::parse(&url).expect("generated origins parse");
                self.current[window] = origin;
                let step = Step::Navigate(Navigate {
                    window,
                    by,
                    via,
                    url: parsed,
                    url_as_written: url,
                });
                (
                    one("navigate", fields),
                    step,
                    vec!["navigate", by_family, via_family, family],
                )
            }
            Candidate::Reload(window) => (
                one("reload", vec![("window", name(window))]),
                Step::Reload { window },
                vec!["reload"],
            ),
            Candidate::Remove(window) => (
                one("remove", vec![("window", name(window))]),
                Step::Remove { window },
                vec!["remove"],
            ),
            Candidate::Close(window) => (
                one("close", vec![("window", name(window))]),
                Step::Close { window },
                vec!["close"],
            ),
            Candidate::PushState(window) => (
                one("push_state", vec![("window", name(window))]),
                Step::PushState { window },
                vec!["push_state"],
            ),
            Candidate::Fragment(window) => {
                let fragment = format!("f{index}");
                (
                    one(
                        "fragment",
                        vec![
                            ("window", name(window)),
                            ("fragment", Value::String(fragment.clone())),
                        ],
                    ),
                    Step::Fragment { window, fragment },
                    vec!["fragment"],
                )
            }
            Candidate::SetDomain(window) => {
                let values = self.domain_values(window);
                let domain = values[tape.pick(values.len())].clone();
                (
                    one(
                        "set_domain",
                        vec![
                            ("window", name(window)),
                            ("domain", Value::String(domain.clone())),
                        ],
                    ),
                    Step::SetDomain { window, domain },
                    vec!["set_domain"],
                )
            }
            Candidate::Create(window) => {
                self.to_create[window] = false;
                let family = match self.case.windows[window].relation {
                    Relation::Popup { .. } => "create-popup",
                    _ => "create-iframe",
                };
                (
                    one("create", vec![("window", name(window))]),
                    Step::Create { window },
                    vec!["create", family],
                )
            }
            Candidate::Wait(window) => {
                let mut m = Mapping::new();
                let mut body = Mapping::new();
                body.insert("loaded".into(), name(window));
                m.insert("wait".into(), Value::Mapping(body));
                (Value::Mapping(m), Step::WaitLoaded { window }, vec!["wait"])
            }
        };
        self.topology.apply(&self.case, &step);
        Drawn {
            yaml,
            step,
            families,
        }
    }

    /// A targetOrigin for a post to `to`: `*`, `/`, the origin of its
    /// current document, of its first document, or of another window.
    fn target_origin(&self, tape: &mut Tape, from: usize, to: usize) -> (String, &'static str) {
        let strip = |o: &GenOrigin| o.url().trim_end_matches('/').to_owned();
        match tape.pick(5) {
            0 => ("*".into(), "target-star"),
            1 => ("/".into(), "target-slash"),
            2 => (strip(&self.current[to]), "target-current-origin"),
            3 => (strip(&self.placed.origins[to]), "target-first-origin"),
            _ => {
                let others: Vec<&GenOrigin> = self
                    .placed
                    .origins
                    .iter()
                    .chain(&self.placed.spare)
                    .enumerate()
                    .filter(|(i, _)| *i != to && *i != from)
                    .map(|(_, o)| o)
                    .collect();
                (
                    strip(others[tape.pick(others.len())]),
                    "target-other-origin",
                )
            }
        }
    }

    /// Sometimes (one post in four that has a choice), another window
    /// whose `postMessage` function `from` calls (`function_of`): one
    /// that exists, has settled, `from` reaches, and whose document is
    /// same origin-domain with `from`'s (origins as the replay has them,
    /// domains as `document.domain` set them): what the validator asks.
    /// Sandboxed windows (opaque origins) are left out.
    fn function_window(&self, tape: &mut Tape, from: usize) -> Option<usize> {
        let mut alloc = pmconf_model::origin::OpaqueOriginAllocator::new();
        let origins: Vec<Option<pmconf_model::origin::Origin>> = self
            .current
            .iter()
            .map(|o| {
                url::Url::parse(&o.url())
                    .ok()
                    .map(|u| pmconf_model::url_origin::origin_of_url(&u, &mut alloc))
            })
            .collect();
        let origin = |w: usize| origins[w].clone();
        let domain = |w: usize| self.topology.domain[w].as_ref().map(|h| h.to_string());
        let plain = |w: usize| !self.case.windows[w].sandbox_flags.is_sandboxed();
        let mine = origin(from)?;
        if !plain(from) {
            return None;
        }
        let choices: Vec<usize> = (0..self.case.windows.len())
            .filter(|&w| {
                w != from
                    && plain(w)
                    && self.topology.exists[w]
                    && !self.topology.loading[w]
                    && self.topology.path(&self.case, from, w).is_some()
                    && origin(w).is_some_and(|o| {
                        pmconf_model::origin::same_origin_domain(
                            &mine,
                            domain(from).as_deref(),
                            &o,
                            domain(w).as_deref(),
                        )
                    })
            })
            .collect();
        if choices.is_empty() || !tape.chance(1, 4) {
            return None;
        }
        Some(choices[tape.pick(choices.len())])
    }

    /// Where a navigation of `window` goes: the same origin as its current
    /// document, the same site, another window's origin or a fresh one;
    /// https where http would be blocked as mixed content.
    fn navigation_origin(&self, tape: &mut Tape, window: usize) -> (GenOrigin, &'static str) {
        let current = &self.current[window];
        let (mut origin, family) = match tape.pick(4) {
            0 => (current.clone(), "navigate-same-origin"),
            1 => match same_site_variant(current, tape.pick(3)) {
                Some(o) => (o, "navigate-same-site"),
                None => (current.clone(), "navigate-same-origin"),
            },
            2 => {
                let o = &self.placed.origins;
                (o[tape.pick(o.len())].clone(), "navigate-other-window")
            }
            _ => {
                let s = &self.placed.spare;
                (s[tape.pick(s.len())].clone(), "navigate-cross-site")
            }
        };
        // https where the model's rule blocks http as mixed content, or
        // an engine does not run the frame (`AVOIDED_FRAMES`).
        if self.blocked(window, &origin) {
            // An https frame always loads: its URL is potentially
            // trustworthy.
            origin.scheme = "https".to_owned();
        }
        (origin, family)
    }

    /// Whether frame `w` loading `origin` now (created, or navigated) is
    /// blocked as mixed content by the documents around it, as the model's
    /// replay has them (the validator's rule: a window that navigated to
    /// https blocks the http frames created or navigated under it after),
    /// or is one of the generator's `AVOIDED_FRAMES`.
    fn blocked(&self, w: usize, origin: &GenOrigin) -> bool {
        let url = url::Url::parse(&origin.url()).expect("generated origins parse");
        frame_load_blocker(
            &self.case,
            &self.topology,
            w,
            &DocumentUrl::Url(url.clone()),
        )
        .is_some()
            || avoided(&url, &self.around(w))
    }

    /// The URLs of the current documents above `w` (its parent's first, up
    /// to its top-level window).
    fn around(&self, w: usize) -> Vec<url::Url> {
        let mut out = Vec::new();
        let mut at = w;
        while let Relation::Iframe { parent } = self.case.windows[at].relation {
            if let DocumentUrl::Url(u) = &self.topology.current_url[parent] {
                out.push(u.clone());
            }
            at = parent;
        }
        out
    }
}

/// A `document.domain` value the generator never sets although the
/// setter accepts it, because an engine throws for it: data, each entry
/// with what `harness/tests/mixed_content_in_browsers.rs` saw.
#[derive(Debug)]
pub struct AvoidedDomain {
    /// The values, in words.
    pub what: &'static str,
    /// Each engine that throws, and what it says.
    pub seen: &'static [(&'static str, &'static str)],
    /// Whether a document whose effective domain is this sets none.
    pub matches: fn(&url::Host) -> bool,
}

/// An IPv6 address setting itself: HTML's "is a registrable domain suffix
/// of or is equal to" returns true for equal hosts, IP addresses included
/// (step 4), and Chromium 156 and WebKitGTK 2.50 agree. (WebKitGTK throws
/// for another spelling of the address, `0x7f.0.0.1` on 127.0.0.1, which
/// the generator never writes: it sets the serialization.)
pub const IPV6_ADDRESS_DOMAIN: AvoidedDomain = AvoidedDomain {
    what: "document.domain set to the document's own IPv6 address",
    seen: &[(
        "firefox",
        "Firefox 153 ESR throws a SecurityError for `[::1]` on http://[::1]:8001/ (not for 127.0.0.1 on an IPv4 loopback page)",
    )],
    matches: |host| matches!(host, url::Host::Ipv6(_)),
};

/// Every `document.domain` value the generator avoids beyond what the
/// setter refuses.
pub const AVOIDED_DOMAINS: &[AvoidedDomain] = &[IPV6_ADDRESS_DOMAIN];
