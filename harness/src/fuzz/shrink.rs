//! Shrinking a divergence with the engine in the loop.
//!
//! proptest's value trees know how to make a case simpler (`simplify`) and
//! how to back off (`complicate`); what they cannot know is whether the
//! simpler case still shows the bug. Here an [`Oracle`] answers that: the
//! real engine that diverged (re-running each candidate in its session), or
//! in tests a stand-in with a planted divergence. A candidate is kept only
//! when it diverges *in the same way* (it breaks the same rules, same
//! [`divergence_key`]), so shrinking cannot wander off to a different bug.

use super::findings::divergence_key;
use super::oracle::Oracle;
use crate::gen::call_forms::GenForm;
use crate::gen::hosts::GenHost;
use crate::gen::origins::{GenOrigin, GenPort};
use crate::gen::{target_origin, to_case, values, GenCase};
use crate::run::verdict::Observation;
use pmconf_model::Outcome;
use proptest::strategy::ValueTree;

/// What shrinking reached.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest case that still diverges the same way.
    pub case: GenCase,
    /// What the oracle observed for it.
    pub observed: Outcome,
    /// Candidates tried (each one oracle run).
    pub tries: usize,
}

/// The rules `gen`'s divergence under `oracle` breaks
/// ([`divergence_key`]), with what it observed.
pub async fn diverges(oracle: &mut dyn Oracle, gen: &GenCase) -> Option<(String, Outcome)> {
    let case = to_case(gen).ok()?;
    let observation = oracle
        .observe(std::slice::from_ref(&case))
        .await
        .into_iter()
        .next()?;
    match observation {
        Observation::Observed(o) => divergence_key(&case, &o).map(|s| (s, o)),
        _ => None,
    }
}

/// Shrinks `tree` (whose current value diverges with `shape`): first
/// proptest's way for at most `max_tries` oracle runs (simplify while the
/// divergence stays, complicate when it goes), then a value-level polish
/// that proptest's tree cannot always reach (see [`polish`]), with a budget
/// of its own of half as many runs.
pub async fn shrink(
    tree: &mut dyn ValueTree<Value = GenCase>,
    oracle: &mut dyn Oracle,
    shape: &str,
    observed: Outcome,
    max_tries: usize,
) -> Shrunk {
    let mut best = Shrunk {
        case: tree.current(),
        observed,
        tries: 0,
    };
    while best.tries < max_tries && tree.simplify() {
        best.tries += 1;
        let candidate = tree.current();
        match diverges(oracle, &candidate).await {
            Some((s, o)) if s == shape => {
                best.case = candidate;
                best.observed = o;
            }
            _ => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    let budget = best.tries + max_tries / 2 + 1;
    polish(best, oracle, shape, budget).await
}

/// Simpler versions of `case`, one change each, simplest change first:
/// fewer writes into shared memory, fewer posts, plain empty messages, and
/// plain origins (`http`, an ASCII host, no port), with each targetOrigin
/// made again from its mutation.
fn simpler_variants(case: &GenCase) -> Vec<GenCase> {
    let mut out = Vec::new();
    for i in 0..case.writes.len() {
        let mut c = case.clone();
        c.writes.remove(i);
        out.push(c);
    }
    if case.posts.len() > 1 {
        for i in 0..case.posts.len() {
            let mut c = case.clone();
            c.posts.remove(i);
            out.push(c);
        }
    }
    out.extend(values::fewer_properties(case));
    for i in 0..case.posts.len() {
        if case.posts[i].message.0 != serde_yaml::Value::String(String::new()) {
            let mut c = case.clone();
            c.posts[i].message = (serde_yaml::Value::String(String::new()), "plain");
            out.push(c);
        }
    }
    for i in 0..case.posts.len() {
        if case.posts[i].form != GenForm::Positional {
            let mut c = case.clone();
            c.posts[i].form = GenForm::Positional;
            out.push(c);
        }
    }
    let names = ["a.test", "b.test", "c.test"];
    for (w, name) in names.iter().enumerate().take(case.origins.len()) {
        let o = &case.origins[w];
        let plain = |c: &mut GenCase, f: &dyn Fn(&mut GenOrigin)| {
            f(&mut c.origins[w]);
            for p in c.posts.iter_mut() {
                p.target_origin = target_origin::mutate(
                    &c.origins[p.to],
                    p.target_origin.index,
                    p.target_origin.pick,
                );
            }
        };
        if o.host.written != *name {
            let mut c = case.clone();
            plain(&mut c, &|o| {
                o.host = GenHost {
                    written: name.to_string(),
                    families: vec!["ascii"],
                }
            });
            out.push(c);
        }
        if o.scheme != "http" {
            let mut c = case.clone();
            plain(&mut c, &|o| o.scheme = "http".into());
            out.push(c);
        }
        if o.port != GenPort::Implicit {
            let mut c = case.clone();
            plain(&mut c, &|o| o.port = GenPort::Implicit);
            out.push(c);
        }
    }
    out
}

/// Greedy polish: apply any one-change simplification that keeps the
/// divergence, until none does (or the budget runs out).
pub async fn polish(
    mut best: Shrunk,
    oracle: &mut dyn Oracle,
    shape: &str,
    max_tries: usize,
) -> Shrunk {
    'again: while best.tries < max_tries {
        for candidate in simpler_variants(&best.case) {
            if best.tries >= max_tries {
                break 'again;
            }
            best.tries += 1;
            if let Some((s, o)) = diverges(oracle, &candidate).await {
                if s == shape {
                    best.case = candidate;
                    best.observed = o;
                    continue 'again;
                }
            }
        }
        break;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::block_on;
    use crate::gen::{generate, target_origin::MUTATIONS};
    use pmconf_model::{answer_case, parse_case, Case};
    use std::future::Future;
    use std::pin::Pin;

    /// The model, plus one planted bug: a targetOrigin with the path
    /// `/a/b` throws SyntaxError.
    struct PlantedBug {
        runs: usize,
    }

    impl Oracle for PlantedBug {
        fn observe<'a>(
            &'a mut self,
            cases: &'a [Case],
        ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>> {
            Box::pin(async move {
                self.runs += cases.len();
                cases
                    .iter()
                    .map(|case| {
                        let mut o = answer_case(case).allowed.remove(0);
                        for (i, p) in case.posts() {
                            let upper = p
                                .target_origin
                                .as_deref()
                                .is_some_and(|t| t.ends_with("/a/b"));
                            if upper {
                                o.posts[i].threw = Some("SyntaxError".into());
                                // Nothing is queued for a post that threw.
                                let text = p.message.observable_json();
                                let target = &mut o.received[p.to].1;
                                if let Some(k) = target.iter().position(|d| d.message == text) {
                                    target.remove(k);
                                }
                            }
                        }
                        Observation::Observed(o)
                    })
                    .collect()
            })
        }
    }

    #[test]
    fn keys_name_the_rule_and_ignore_details() {
        let case = parse_case(
            "t.yaml",
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  c: { parent: top, url: \"http://b.test/\" }\nsteps:\n  - post: { from: top, to: c, message: 1, target_origin: \"*\" }\n",
        )
        .unwrap();
        let allowed = answer_case(&case).allowed;
        assert_eq!(divergence_key(&case, &allowed[0]), None);
        // "*" always matches and c's document stays: it must arrive.
        let mut dropped = allowed[0].clone();
        dropped.received[1].1.clear();
        assert_eq!(divergence_key(&case, &dropped).unwrap(), "dropped[post]");
        let mut origin = allowed[0].clone();
        origin.received[1].1[0].origin = "http://A.test".into();
        assert_eq!(
            divergence_key(&case, &origin).unwrap(),
            "wrong-origin[post]"
        );
        // A call that threw queues nothing: the missing message is part of
        // the exception, not a drop of its own.
        let mut threw = allowed[0].clone();
        threw.posts[0].threw = Some("SyntaxError".into());
        threw.received[1].1.clear();
        assert_eq!(
            divergence_key(&case, &threw).unwrap(),
            "exception:returns>SyntaxError[post]"
        );
    }

    #[test]
    fn shrinking_reaches_the_known_minimal_case() {
        let mut oracle = PlantedBug { runs: 0 };
        // Find a generated case that trips the planted bug.
        let mut trees = generate(7, 3000);
        let index = trees
            .iter()
            .position(|t| {
                let c = t.current();
                to_case(&c).is_ok() && block_on(diverges(&mut oracle, &c)).is_some()
            })
            .expect("some case in 3000 has a targetOrigin with the path /a/b");
        let (shape, observed) = block_on(diverges(&mut oracle, &trees[index].current())).unwrap();
        let shrunk = block_on(shrink(
            trees[index].as_mut(),
            &mut oracle,
            &shape,
            observed,
            2000,
        ));
        let min = &shrunk.case;
        assert_eq!(min.template.family, "self", "{min:#?}");
        assert_eq!(min.posts.len(), 1, "{min:#?}");
        let post = &min.posts[0];
        assert_eq!(post.target_origin.mutation, "path-query-fragment");
        assert_eq!(post.target_origin.text, "http://a.test/a/b", "{min:#?}");
        assert_eq!((post.from, post.to), (0, 0));
        assert_eq!(post.message.0, serde_yaml::Value::String(String::new()));
        assert!(MUTATIONS.contains(&"path-query-fragment"));
        assert!(oracle.runs > 1);
    }
}
