//! Host names under `.test`, spelled in the ways the URL Standard and UTS #46
//! treat differently.
//!
//! Each label comes from a family (ASCII, or a row of [`UNICODE_LABELS`]);
//! the family travels with the host so that tests can count which families
//! a sample covered, and divergences can be grouped by them.

use proptest::prelude::*;

/// A host as generated: the spelling written into the case, and the
/// families of its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenHost {
    /// As written in the case (Unicode, mixed case, trailing dot...).
    pub written: String,
    /// The label families used, e.g. `ascii`, `eszett`, `rtl`.
    pub families: Vec<&'static str>,
}

/// Unicode labels that exercise UTS #46 (as the URL Standard runs it:
/// nontransitional, CheckHyphens off, CheckBidi and CheckJoiners on) and
/// their family. All of them are valid host labels.
pub const UNICODE_LABELS: &[(&str, &str)] = &[
    ("bücher", "latin-diacritic"),
    ("bu\u{0308}cher", "decomposed"),
    ("faß", "eszett"),
    ("ὀδυσσεύς", "greek"),
    ("μάς", "final-sigma"),
    ("BÜCHER", "uppercase-unicode"),
    ("ＦＵＬＬ", "fullwidth"),
    ("soft\u{00AD}hyphen", "ignored-code-point"),
    ("a\u{3002}b", "ideographic-full-stop"),
    ("نامه\u{200C}ای", "zwnj"),
    ("ශ්\u{200D}රී", "zwj"),
    ("שלום", "rtl"),
    ("مثال", "rtl"),
    ("xn--bcher-kva", "punycode"),
    ("ab--cd", "double-hyphen"),
];

/// Labels that make the host parser fail: usable in a targetOrigin string,
/// never as a window's host.
pub const INVALID_LABELS: &[(&str, &str)] = &[
    ("xn--a", "invalid-punycode"),
    ("xn--", "empty-punycode"),
    ("a%b", "forbidden-code-point"),
    ("a b", "space"),
    ("\u{FFFD}", "replacement-character"),
    ("1", "bidi-digit"),
];

/// An ASCII label in random case (case must not matter).
pub fn ascii_label() -> impl Strategy<Value = (String, &'static str)> {
    ("[a-z][a-z0-9]{0,5}", proptest::bool::weighted(0.3)).prop_map(|(label, upper)| {
        let label = if upper {
            label.to_ascii_uppercase()
        } else {
            label
        };
        (label, "ascii")
    })
}

fn unicode_label() -> impl Strategy<Value = (String, &'static str)> {
    proptest::sample::select(UNICODE_LABELS).prop_map(|(l, f)| (l.to_owned(), f))
}

/// A label for a window's host: ASCII first (proptest shrinks towards the
/// first alternative), or one of the Unicode families.
pub fn window_label() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![3 => ascii_label(), 2 => unicode_label()]
}

/// A host a window can be loaded from: one or two labels, `.test`, and
/// sometimes a trailing dot.
pub fn window_host() -> impl Strategy<Value = GenHost> {
    (
        proptest::collection::vec(window_label(), 1..=2),
        proptest::bool::weighted(0.1),
        prop_oneof![Just(".test"), Just(".TEST")],
    )
        .prop_map(|(labels, trailing_dot, tld)| {
            let mut written = labels
                .iter()
                .map(|l| l.0.as_str())
                .collect::<Vec<_>>()
                .join(".");
            written.push_str(tld);
            let mut families: Vec<&'static str> = labels.iter().map(|l| l.1).collect();
            if trailing_dot {
                written.push('.');
                families.push("trailing-dot");
            }
            GenHost { written, families }
        })
        .prop_filter(
            "a window host must parse (Bidi rules apply across labels)",
            |h| url::Url::parse(&format!("http://{}/", h.written)).is_ok(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::hosts::check_case_host;

    #[test]
    fn every_unicode_label_is_a_valid_test_host() {
        for (label, family) in UNICODE_LABELS {
            let url = url::Url::parse(&format!("http://{label}.test/"))
                .unwrap_or_else(|e| panic!("{family} {label:?}: {e}"));
            assert!(check_case_host(&url.host().unwrap()).is_ok(), "{family}");
        }
    }

    #[test]
    fn every_invalid_label_fails_to_parse() {
        for (label, family) in INVALID_LABELS {
            let parsed = if *family == "bidi-digit" {
                url::Url::parse(&format!("http://{label}.שלום.test/"))
            } else {
                url::Url::parse(&format!("http://{label}.test/"))
            };
            assert!(parsed.is_err(), "{family} {label:?} parsed");
        }
    }
}
