//! Generated shared-memory cases for `pmconf fuzz --values`: a cross-origin
//! isolated top window posts a SharedArrayBuffer named `s` (bare, in an
//! object, beside a view over it, or under a DataView; fixed-length or
//! growable) to itself or to an iframe (same origin: it arrives; same site
//! or cross site: another agent cluster, `messageerror`), then writes into
//! it with `sab_write` steps, each in the post's own task or in a later
//! task ([`pmconf_model::shared_memory`] says which the receiver sees).
//!
//! A SharedArrayBuffer posts only from a cross-origin isolated document,
//! so these cases are the only isolated ones the generators draw; every
//! other generated case is not isolated, where a posted buffer throws and
//! a write would be unobservable.

use super::call_forms::GenForm;
use super::hosts::GenHost;
use super::origins::{GenOrigin, GenPort};
use super::topology::TEMPLATES;
use super::{target_origin, GenCase, GenPost};
use proptest::prelude::*;
use serde_yaml::{Mapping, Value};

/// The message family of these posts.
pub const FAMILY: &str = "values-sab-write";
/// The `$id` every generated shared buffer has.
pub const SAB_ID: &str = "s";

/// A write into the buffer post `post` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenWrite {
    /// Index of the post (in [`GenCase::posts`]) whose message made it.
    pub post: usize,
    /// In the post's own `same_task` group (always seen) or a task of its
    /// own after every post (maybe seen).
    pub same_task: bool,
    /// Picks the offset among those where the bytes fit.
    pub offset_seed: usize,
    /// The bytes (as many as fit are written).
    pub bytes: Vec<u8>,
}

impl GenWrite {
    /// The strategy family the write exercises.
    pub fn family(&self) -> &'static str {
        if self.same_task {
            "sab-write-same-task"
        } else {
            "sab-write-later-task"
        }
    }
}

fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

fn int(n: usize) -> Value {
    Value::Number((n as u64).into())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    let mut m = Mapping::new();
    for (k, v) in entries {
        m.insert(s(k), v);
    }
    Value::Mapping(m)
}

/// A message holding the SharedArrayBuffer `s`: `bytes` long, growable to
/// `bytes + extra` when `extra` is drawn, in one of four shapes.
pub fn shared_message() -> impl Strategy<Value = (Value, &'static str)> {
    (
        proptest::collection::vec(any::<u8>(), 1..=6),
        proptest::option::of(0usize..6),
        0usize..4,
    )
        .prop_map(|(bytes, extra, shape)| {
            let len = bytes.len();
            let mut sab = vec![(
                "bytes",
                Value::Sequence(bytes.iter().map(|b| int(*b as usize)).collect()),
            )];
            if let Some(extra) = extra {
                sab.push(("max_byte_length", int(len + extra)));
            }
            let named = map(vec![("$id", s(SAB_ID)), ("$sab", map(sab))]);
            let view = |tag: &str, buffer: Value| {
                let mut fields = vec![("buffer", buffer), ("offset", int(0)), ("length", int(len))];
                if tag == "$typed" {
                    fields.insert(0, ("type", s("Uint8Array")));
                }
                map(vec![(tag, map(fields))])
            };
            let message = match shape {
                0 => named,
                1 => map(vec![("buf", named)]),
                2 => Value::Sequence(vec![named, view("$typed", s(SAB_ID))]),
                _ => view("$dataview", named),
            };
            (message, FAMILY)
        })
}

/// The byte length of the buffer `s` in `message`, if it holds one.
pub fn shared_length(message: &Value) -> Option<usize> {
    match message {
        Value::Mapping(m) => {
            if m.get(s("$id")) == Some(&s(SAB_ID)) {
                if let Some(Value::Mapping(sab)) = m.get(s("$sab")) {
                    if let Some(Value::Sequence(bytes)) = sab.get(s("bytes")) {
                        return Some(bytes.len());
                    }
                }
            }
            m.values().find_map(shared_length)
        }
        Value::Sequence(items) => items.iter().find_map(shared_length),
        _ => None,
    }
}

/// The `sab_write` step for `w` in `case`, or `None` when its post is gone
/// or holds no buffer `s` any more (a shrunk case).
pub fn write_step(case: &GenCase, w: &GenWrite) -> Option<Value> {
    let post = case.posts.get(w.post)?;
    let len = shared_length(&post.message.0)?;
    let n = w.bytes.len().min(len);
    if n == 0 {
        return None;
    }
    let offset = w.offset_seed % (len - n + 1);
    let write = map(vec![
        ("window", s(case.template.windows[post.from].0)),
        ("sab", s(SAB_ID)),
        ("offset", int(offset)),
        (
            "bytes",
            Value::Sequence(w.bytes[..n].iter().map(|b| int(*b as usize)).collect()),
        ),
    ]);
    Some(map(vec![("sab_write", write)]))
}

fn write() -> impl Strategy<Value = GenWrite> {
    (
        any::<bool>(),
        any::<usize>(),
        proptest::collection::vec(any::<u8>(), 1..=3),
    )
        .prop_map(|(later, offset_seed, bytes)| GenWrite {
            post: 0,
            // Simplest first: proptest shrinks `false` towards... `false`,
            // so "same task" (the deterministic one) is the simpler.
            same_task: !later,
            offset_seed,
            bytes,
        })
}

fn origin(host: &str) -> GenOrigin {
    GenOrigin {
        scheme: "https".into(),
        host: GenHost {
            written: host.into(),
            families: vec!["ascii"],
        },
        port: GenPort::Implicit,
    }
}

/// A whole shared-memory case.
pub fn shared_case() -> impl Strategy<Value = GenCase> {
    (
        0usize..4,
        0usize..2,
        shared_message(),
        proptest::collection::vec(write(), 0..=3),
    )
        .prop_map(|(receiver, mutation, message, writes)| {
            // 0: an iframe of the same origin (it arrives); 1: itself;
            // 2, 3: a same-site and a cross-site iframe (messageerror).
            let (template, origins) = match receiver {
                1 => (&TEMPLATES[0], vec![origin("a.test")]),
                r => {
                    let child = ["a.test", "", "sub.a.test", "b.test"][r];
                    (&TEMPLATES[1], vec![origin("a.test"), origin(child)])
                }
            };
            let to = origins.len() - 1;
            let target_origin = target_origin::mutate(&origins[to], mutation, 0);
            GenCase {
                template,
                origins,
                sandbox_same_origin: false,
                posts: vec![GenPost {
                    from: 0,
                    to,
                    target_origin,
                    message,
                    form: GenForm::Positional,
                }],
                isolated: true,
                writes,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{runner_for_seed, to_case};
    use pmconf_model::case::Step;
    use proptest::strategy::ValueTree;
    use std::collections::BTreeSet;

    #[test]
    fn every_drawn_case_is_valid_isolated_and_writes_within_its_buffer() {
        let mut runner = runner_for_seed(11);
        let strategy = shared_case();
        let mut families = BTreeSet::new();
        let mut writes = 0;
        for _ in 0..300 {
            let gen = strategy.new_tree(&mut runner).unwrap().current();
            let case = to_case(&gen).unwrap_or_else(|e| panic!("{e}\n{}", gen.to_yaml("g")));
            assert!(case.is_isolated());
            let len = shared_length(&gen.posts[0].message.0).expect("a buffer s");
            for step in &case.steps {
                if let Step::SabWrite(w) = step {
                    writes += 1;
                    assert!(w.offset + w.bytes.len() <= len, "{}", gen.to_yaml("g"));
                }
            }
            families.extend(gen.families());
        }
        assert!(writes > 100, "only {writes} writes in 300 cases");
        for f in [
            FAMILY,
            "sab-write-same-task",
            "sab-write-later-task",
            "isolated",
            "self",
            "iframe",
        ] {
            assert!(families.contains(f), "{f} never drawn: {families:?}");
        }
    }

    #[test]
    fn a_write_lands_in_the_posts_task_or_after_every_post() {
        let gen = GenCase {
            writes: vec![
                GenWrite {
                    post: 0,
                    same_task: true,
                    offset_seed: 7,
                    bytes: vec![9, 9],
                },
                GenWrite {
                    post: 0,
                    same_task: false,
                    offset_seed: 0,
                    bytes: vec![1, 2, 3, 4],
                },
            ],
            ..shared_case()
                .new_tree(&mut runner_for_seed(1))
                .unwrap()
                .current()
        };
        let yaml: Value = serde_yaml::from_str(&gen.to_yaml("g")).unwrap();
        let steps = yaml["steps"].as_sequence().unwrap();
        let len = shared_length(&gen.posts[0].message.0).unwrap();
        // Step 0: the post and the first write in one task.
        let group = steps[0]["same_task"]
            .as_sequence()
            .expect("a same_task group");
        assert!(group[0].get("post").is_some());
        let first = &group[1]["sab_write"];
        let n = 2.min(len);
        assert_eq!(
            first["offset"].as_u64().unwrap() as usize,
            7 % (len - n + 1)
        );
        // Step 1: the later write, cut to the buffer's length.
        let later = &steps[1]["sab_write"];
        assert_eq!(later["offset"].as_u64(), Some(0));
        assert_eq!(later["bytes"].as_sequence().unwrap().len(), 4.min(len));
        assert_eq!(steps.len(), 2);
    }
}
