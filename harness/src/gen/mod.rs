//! Generated cases: proptest strategies over origins, IDN hosts, loopback
//! literals, targetOrigin spellings, topologies and messages.
//!
//! A seed and a count produce cases ([`generate`]); each renders to the
//! ordinary YAML case format, so a generated case is checked, answered,
//! run, snapshotted and replayed like a hand-written one. Every generated
//! value remembers the strategy family it came from ([`GenCase::families`])
//! so tests can count coverage and divergences can be grouped.
//!
//! Strategies list their simplest alternative first: proptest shrinks
//! towards it, so a shrunk divergence tends to an ASCII host, an iframe, an
//! exact targetOrigin and a plain message unless the divergence needs more.
//!
//! Pure generation: this module imports only the model. Running,
//! shrinking, classifying and saving what the engines do with generated
//! cases is [`crate::fuzz`]'s.

pub mod call_forms;
pub mod hosts;
pub mod ip;
pub mod messages;
pub mod origins;
pub mod races;
pub mod shared_memory;
pub mod target_origin;
pub mod topology;
pub mod values;

use origins::{window_origin, GenOrigin};
use pmconf_model::{parse_case, Case};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_yaml::{Mapping, Value};
use target_origin::GenTargetOrigin;
use topology::{template, Shape, Template};

/// A generated case.
#[derive(Debug, Clone)]
pub struct GenCase {
    /// The topology.
    pub template: &'static Template,
    /// Each window's origin (for `data:` windows, unused).
    pub origins: Vec<GenOrigin>,
    /// For a sandboxed frame: whether it also has `allow-same-origin`.
    pub sandbox_same_origin: bool,
    /// The posts.
    pub posts: Vec<GenPost>,
    /// Cross-origin isolated (`isolated: true` on the top window): only
    /// the shared-memory cases ([`shared_memory`]).
    pub isolated: bool,
    /// Writes into posted SharedArrayBuffers ([`shared_memory`]).
    pub writes: Vec<shared_memory::GenWrite>,
}

/// A generated post.
#[derive(Debug, Clone)]
pub struct GenPost {
    /// Sender window index.
    pub from: usize,
    /// Receiver window index.
    pub to: usize,
    /// The targetOrigin.
    pub target_origin: GenTargetOrigin,
    /// The message and its family.
    pub message: (Value, &'static str),
    /// How the call passes message and targetOrigin.
    pub form: call_forms::GenForm,
}

impl GenCase {
    /// Every strategy family this case exercises (host label families,
    /// port spellings, schemes, mutation, topology, message kinds).
    pub fn families(&self) -> Vec<&'static str> {
        let mut f = vec![self.template.family];
        for (i, (_, shape)) in self.template.windows.iter().enumerate() {
            if !matches!(shape, Shape::Data(_)) {
                f.extend(self.origins[i].families());
            }
        }
        for p in &self.posts {
            f.push(p.target_origin.mutation);
            f.push(p.message.1);
            f.extend(p.form.family());
        }
        if self.isolated {
            f.push("isolated");
        }
        f.extend(self.writes.iter().map(|w| w.family()));
        f.sort_unstable();
        f.dedup();
        f
    }

    /// The case as YAML in the ordinary case format.
    pub fn to_yaml(&self, description: &str) -> String {
        let s = |x: &str| Value::String(x.to_owned());
        let mut windows = Mapping::new();
        for (i, (name, shape)) in self.template.windows.iter().enumerate() {
            let mut w = Mapping::new();
            let url = self.origins[i].url();
            match *shape {
                Shape::Top => {
                    w.insert(s("url"), s(&url));
                    if self.isolated {
                        w.insert(s("isolated"), Value::Bool(true));
                    }
                }
                Shape::Iframe(p) => {
                    w.insert(s("parent"), s(self.template.windows[p].0));
                    w.insert(s("url"), s(&url));
                }
                Shape::Popup(o) => {
                    w.insert(s("opener"), s(self.template.windows[o].0));
                    w.insert(s("url"), s(&url));
                }
                Shape::Sandboxed(p) => {
                    w.insert(s("parent"), s(self.template.windows[p].0));
                    w.insert(s("url"), s(&url));
                    let tokens = if self.sandbox_same_origin {
                        "allow-scripts allow-same-origin"
                    } else {
                        "allow-scripts"
                    };
                    w.insert(s("sandbox"), s(tokens));
                }
                Shape::Data(p) => {
                    w.insert(s("parent"), s(self.template.windows[p].0));
                    w.insert(s("url"), s("data:text/html,generated"));
                }
            }
            windows.insert(s(name), Value::Mapping(w));
        }
        let writes = |same_task: bool, post: Option<usize>| -> Vec<Value> {
            self.writes
                .iter()
                .filter(|w| w.same_task == same_task && post.is_none_or(|p| w.post == p))
                .filter_map(|w| shared_memory::write_step(self, w))
                .collect()
        };
        let mut steps: Vec<Value> = self
            .posts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut post = Mapping::new();
                post.insert(s("from"), s(self.template.windows[p.from].0));
                post.insert(s("to"), s(self.template.windows[p.to].0));
                p.form
                    .render(&mut post, &p.message.0, &p.target_origin.text);
                let mut step = Mapping::new();
                step.insert(s("post"), Value::Mapping(post));
                // Writes in the post's own task: one `same_task` group.
                let same = writes(true, Some(i));
                if same.is_empty() {
                    return Value::Mapping(step);
                }
                let mut group = vec![Value::Mapping(step)];
                group.extend(same);
                let mut step = Mapping::new();
                step.insert(s("same_task"), Value::Sequence(group));
                Value::Mapping(step)
            })
            .collect();
        // Writes in tasks of their own, after every post.
        steps.extend(writes(false, None));
        let mut case = Mapping::new();
        case.insert(s("description"), s(description));
        case.insert(
            s("tags"),
            Value::Sequence(self.families().into_iter().map(s).collect()),
        );
        case.insert(s("windows"), Value::Mapping(windows));
        case.insert(s("steps"), Value::Sequence(steps));
        serde_yaml::to_string(&Value::Mapping(case)).expect("YAML values serialize")
    }
}

/// Renders and validates a generated case.
pub fn to_case(gen: &GenCase) -> Result<Case, String> {
    parse_generated("generated.yaml", &gen.to_yaml("generated"))
}

/// Validates a generated (or shrunk) case's YAML, named `name` in its
/// errors: the case, or every error the model's validation found, one a
/// line.
pub fn parse_generated(name: &str, yaml: &str) -> Result<Case, String> {
    parse_case(name, yaml).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The strategy for a whole case.
///
/// Every part is drawn independently and the targetOrigin is a function of
/// the target's origin, the mutation and a variant number, so each part
/// shrinks on its own (a `prop_flat_map` would draw new posts whenever the
/// topology shrank, losing the divergence being shrunk).
pub fn gen_case() -> impl Strategy<Value = GenCase> {
    gen_case_with(MessageFamily::Plain)
}

/// Which messages generated posts carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageFamily {
    /// Plain values, special numbers, lone surrogates, a function now and
    /// then ([`messages::message`]).
    #[default]
    Plain,
    /// Every structured-clone value kind, identity and uncloneables
    /// ([`values::values_message`]): `pmconf fuzz --values`.
    Values,
}

/// [`gen_case`] with posts carrying messages of `family`.
pub fn gen_case_with(family: MessageFamily) -> impl Strategy<Value = GenCase> {
    let message = match family {
        MessageFamily::Plain => messages::message().boxed(),
        MessageFamily::Values => values::values_message().boxed(),
    };
    let cases = posts_between_windows(message);
    match family {
        MessageFamily::Plain => cases.boxed(),
        // One case in ten: a cross-origin isolated one that posts a
        // SharedArrayBuffer and writes into it ([`shared_memory`]).
        MessageFamily::Values => prop_oneof![9 => cases, 1 => shared_memory::shared_case()].boxed(),
    }
}

/// Posts carrying `message`s between the windows of a drawn topology.
fn posts_between_windows(
    message: BoxedStrategy<(Value, &'static str)>,
) -> impl Strategy<Value = GenCase> {
    let post = (
        any::<usize>(),
        0..target_origin::MUTATIONS.len(),
        any::<usize>(),
        message,
        call_forms::call_form(),
    );
    (
        template(),
        proptest::collection::vec(window_origin(), 3),
        any::<bool>(),
        proptest::collection::vec(post, 1..=3),
    )
        .prop_map(|(template, origins, sandbox_same_origin, raw_posts)| {
            let origins = avoid_mixed_content(template, origins);
            let posts = raw_posts
                .into_iter()
                .map(|(pair, mutation, pick, message, form)| {
                    let (from, to) = template.pairs[pair % template.pairs.len()];
                    GenPost {
                        from,
                        to,
                        target_origin: target_origin::mutate(&origins[to], mutation, pick),
                        message,
                        form,
                    }
                })
                .collect();
            GenCase {
                template,
                origins,
                sandbox_same_origin,
                posts,
                isolated: false,
                writes: Vec::new(),
            }
        })
}

/// A frame mixed content blocks is one the model refuses, and one an
/// engine does not run one the race generator avoids too: such frames are
/// made https ([`races::topology::loadable_frame_origin`], one rule for
/// both generators).
fn avoid_mixed_content(template: &Template, mut origins: Vec<GenOrigin>) -> Vec<GenOrigin> {
    for i in 0..template.windows.len() {
        let mut around = Vec::new();
        let mut shape = template.windows[i].1;
        while let Shape::Iframe(p) | Shape::Sandboxed(p) = shape {
            around.push(url::Url::parse(&origins[p].url()).expect("generated origins parse"));
            shape = template.windows[p].1;
        }
        if !around.is_empty() {
            origins[i] = races::topology::loadable_frame_origin(origins[i].clone(), &around);
        }
    }
    origins
}

/// A deterministic runner for `seed`: the same seed gives the same cases.
pub fn runner_for_seed(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// `count` cases from `seed`, each with its value tree (kept for shrinking).
pub fn generate(seed: u64, count: usize) -> Vec<Box<dyn ValueTree<Value = GenCase>>> {
    generate_with(seed, count, MessageFamily::Plain)
}

/// [`generate`] with posts carrying messages of `family`.
pub fn generate_with(
    seed: u64,
    count: usize,
    family: MessageFamily,
) -> Vec<Box<dyn ValueTree<Value = GenCase>>> {
    let mut runner = runner_for_seed(seed);
    let strategy = gen_case_with(family).boxed();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the case strategy always produces a case")
        })
        .collect()
}
