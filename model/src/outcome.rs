//! What a page can observe, and sets of allowed outcomes.

use crate::message::MessageValue;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What joins an exception's name and the window whose realm made it in
/// [`PostOutcome::threw`] of a cross-window call (`SyntaxError@other`).
/// Window names hold no `@`.
pub const REALM_SEPARATOR: char = '@';

/// `name@window`: an exception named `name`, `instanceof` the `Error` of
/// `window`'s realm (what a cross-window call's outcome says).
pub fn thrown_in_realm(name: &str, window: &str) -> String {
    format!("{name}{REALM_SEPARATOR}{window}")
}

/// One `post` step's result, as the calling script sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostOutcome {
    /// The step's index in the case's `steps` (from 0).
    pub step: usize,
    /// `None` when the call returned; otherwise the name of the exception
    /// it threw (`SyntaxError`, `DataCloneError`, `TypeError`); for a post
    /// with `function_of`, followed by the window whose realm made it
    /// ([`thrown_in_realm`]: `SyntaxError@other`).
    pub threw: Option<String>,
}

impl PostOutcome {
    /// The call returned.
    pub fn returned(step: usize) -> Self {
        Self { step, threw: None }
    }

    /// The call threw an exception named `name`.
    pub fn threw(step: usize, name: &str) -> Self {
        Self {
            step,
            threw: Some(name.to_owned()),
        }
    }
}

/// [`Delivery::source`] of a message whose `event.source` was a
/// WindowProxy that none of the receiving document's references to the
/// case's windows is, and that no way back (`parent`, `opener`,
/// `frames[i]`) nor elimination names. It is no window name (those are
/// letters, digits, `_` and `-`), so no model outcome has it: such a
/// delivery is a `wrong-source`, but reported apart from a null
/// `event.source`.
///
/// Followed by window names joined with [`CANDIDATE_SEPARATOR`]
/// (`?pop1|pop2`), it is a *candidate set*: the receiving document could
/// not tell which of these windows the WindowProxy was (two popups whose
/// way back is the same `opener`; a sender detached before the document
/// held a reference to it), but it is one of them. A candidate set stands
/// for each of its windows ([`source_matches`]).
pub const UNIDENTIFIED_SOURCE: &str = "?";

/// What separates the window names of a candidate set.
pub const CANDIDATE_SEPARATOR: char = '|';

/// The window names of a candidate-set source (`?a|b` gives `[a, b]`); `None`
/// for a window's name, `null`, and a bare [`UNIDENTIFIED_SOURCE`].
pub fn source_candidates(source: &str) -> Option<Vec<&str>> {
    let names = source.strip_prefix(UNIDENTIFIED_SOURCE)?;
    (!names.is_empty()).then(|| names.split(CANDIDATE_SEPARATOR).collect())
}

/// A candidate-set source for `names`.
pub fn candidate_source(names: &[&str]) -> String {
    let sep = CANDIDATE_SEPARATOR.to_string();
    format!("{UNIDENTIFIED_SOURCE}{}", names.join(&sep))
}

/// Whether an observed `event.source` is the one an allowed outcome has:
/// the same name (or both null), or a candidate set holding that name.
pub fn source_matches(observed: &Option<String>, allowed: &Option<String>) -> bool {
    match (observed, allowed) {
        (Some(o), Some(a)) => {
            o == a || source_candidates(o).is_some_and(|c| c.contains(&a.as_str()))
        }
        (None, None) => true,
        _ => false,
    }
}

/// One `message` event a window received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// `event.data`, in the tagged JSON form of [`MessageValue`], as the
    /// receiver observes it. Read with every number respelled one way, so
    /// that equality is SameValue on numbers whatever their JSON spelling
    /// ([`crate::structured_clone::number`]).
    #[serde(deserialize_with = "canonical_message")]
    pub message: Json,
    /// `event.origin`.
    pub origin: String,
    /// The case's name for the window `event.source` is, `null` when
    /// `event.source` was null, or [`UNIDENTIFIED_SOURCE`] (with the
    /// windows it may be, when the receiving document knows them) when it
    /// was a WindowProxy the receiving document could not name.
    pub source: Option<String>,
    /// `event.ports`: the case's names of the MessagePorts it carries, in
    /// order (left out when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<String>,
}

/// Everything one run of a case can observe.
///
/// Windows appear in the case's order, every one of them, so "received
/// nothing" is explicit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// One entry per `post` step, in step order.
    pub posts: Vec<PostOutcome>,
    /// Per window name, the messages it received, in order.
    #[serde(deserialize_with = "ordered_windows")]
    pub received: Vec<(String, Vec<Delivery>)>,
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Received<'a>(&'a [(String, Vec<Delivery>)]);
        impl Serialize for Received<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, deliveries) in self.0 {
                    map.serialize_entry(name, deliveries)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("posts", &self.posts)?;
        map.serialize_entry("received", &Received(&self.received))?;
        map.end()
    }
}

fn canonical_message<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
    Json::deserialize(d).map(crate::structured_clone::number::canonical_tagged_json)
}

fn ordered_windows<'de, D>(d: D) -> Result<Vec<(String, Vec<Delivery>)>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<(String, Vec<Delivery>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map from window name to received messages")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = a.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

impl Outcome {
    /// A canonical text for ordering and de-duplicating outcomes.
    pub fn canonical_key(&self) -> String {
        serde_json::to_string(self).expect("outcomes serialize")
    }

    /// Whether `self` is one of `allowed` ([`Outcome::matches`]).
    pub fn is_in(&self, allowed: &[Outcome]) -> bool {
        allowed.iter().any(|a| self.matches(a))
    }

    /// Whether `self`, as observed, is `allowed`: equal, except that a
    /// candidate-set `event.source` stands for any of its windows
    /// ([`source_matches`]).
    pub fn matches(&self, allowed: &Outcome) -> bool {
        self.posts == allowed.posts
            && self.received.len() == allowed.received.len()
            && self
                .received
                .iter()
                .zip(&allowed.received)
                .all(|((l, o), (m, a))| {
                    l == m
                        && o.len() == a.len()
                        && o.iter().zip(a).all(|(o, a)| {
                            o.message == a.message
                                && o.origin == a.origin
                                && o.ports == a.ports
                                && source_matches(&o.source, &a.source)
                        })
                })
    }
}

/// Sorts and de-duplicates a set of outcomes so that it prints the same
/// whatever order the model found them in.
pub fn normalize_outcome_set(mut outcomes: Vec<Outcome>) -> Vec<Outcome> {
    outcomes.sort_by_cached_key(Outcome::canonical_key);
    outcomes.dedup_by(|a, b| a == b);
    outcomes
}

/// The observable form of a message value, for a [`Delivery`].
pub fn observed_data(value: &MessageValue) -> Json {
    value.observable_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(origin: &str) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![
                ("top".into(), vec![]),
                (
                    "child".into(),
                    vec![Delivery {
                        message: json!("hi"),
                        origin: origin.into(),
                        source: Some("top".into()),
                        ports: Vec::new(),
                    }],
                ),
            ],
        }
    }

    #[test]
    fn serializes_windows_in_case_order_and_reads_back() {
        let o = outcome("http://a.test");
        let yaml = serde_yaml::to_string(&o).unwrap();
        assert!(
            yaml.find("top:").unwrap() < yaml.find("child:").unwrap(),
            "{yaml}"
        );
        assert!(yaml.contains("threw: null"), "{yaml}");
        let back: Outcome = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(back, o);
    }

    #[test]
    fn threw_serializes_with_the_error_name() {
        let p = PostOutcome::threw(3, "SyntaxError");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"step": 3, "threw": "SyntaxError"})
        );
    }

    /// Item 7 of pmconf issue 22: a receiving document that cannot tell
    /// which window a WindowProxy is reports the windows it may be; the
    /// outcome is allowed when the allowed one's source is among them.
    #[test]
    fn a_candidate_set_source_stands_for_each_of_its_windows() {
        let with_source = |source: Option<&str>| {
            let mut o = outcome("http://a.test");
            o.received[1].1[0].source = source.map(str::to_owned);
            o
        };
        let allowed = [with_source(Some("top"))];
        assert!(with_source(Some("top")).is_in(&allowed));
        assert!(with_source(Some(&candidate_source(&["pop", "top"]))).is_in(&allowed));
        assert!(with_source(Some("?top")).is_in(&allowed));
        // Not among them, no candidates at all, or null: not allowed.
        for wrong in [Some("?pop|kid"), Some(UNIDENTIFIED_SOURCE), None, Some("?")] {
            assert!(!with_source(wrong).is_in(&allowed), "{wrong:?}");
        }
        // A candidate set never stands for null, and a name is no set.
        assert!(!with_source(Some("?top")).is_in(&[with_source(None)]));
        assert!(!with_source(Some("top")).is_in(&[with_source(Some("?top"))]));
        assert_eq!(source_candidates("?a|b"), Some(vec!["a", "b"]));
        assert_eq!(source_candidates("?"), None);
        assert_eq!(source_candidates("a"), None);
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        let set = normalize_outcome_set(vec![
            outcome("http://b.test"),
            outcome("http://a.test"),
            outcome("http://b.test"),
        ]);
        assert_eq!(set.len(), 2);
        assert_eq!(set[0].received[1].1[0].origin, "http://a.test");
        assert!(outcome("http://a.test").is_in(&set));
        assert!(!outcome("http://c.test").is_in(&set));
    }
}
