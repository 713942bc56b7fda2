//! The URL Standard's *domain to ASCII*, with UTS #46's CheckBidi as the
//! URL Standard's tests expect it, rather than as whichever `idna` version
//! happens to be locked.
//!
//! > "Let result be the result of running Unicode ToASCII with domain_name
//! > set to domain, CheckHyphens set to beStrict, CheckBidi set to true,
//! > CheckJoiners set to true, UseSTD3ASCIIRules set to beStrict,
//! > Transitional_Processing set to false, VerifyDnsLength set to beStrict,
//! > and IgnoreInvalidPunycode set to false."
//! > <https://url.spec.whatwg.org/#concept-domain-to-ascii>
//!
//! UTS #46's validity criterion for CheckBidi: "If CheckBidi, and if the
//! domain name is a Bidi domain name, then the label must satisfy all six
//! of the numbered conditions in RFC 5893, Section 2."
//! <https://www.unicode.org/reports/tr46/#Validity_Criteria>
//! A *Bidi domain name* is one with at least one character of Bidi_Class
//! R, AL or AN (RFC 5893 section 1.4).
//!
//! How it is split here:
//! - Every label goes through UTS #46 processing on its own (`idna`'s
//!   mapping, normalization, Punycode, CheckJoiners, and CheckBidi with the
//!   label as the whole domain, which is RFC 5893 for a label holding
//!   right-to-left characters).
//! - The domain-wide part of CheckBidi is done here: in a Bidi domain name
//!   every left-to-right label must satisfy the RFC 5893 conditions for
//!   LTR labels (1, 5 and 6).
//!
//! NOTE(contested): a label made of ASCII digits only is exempt from the
//! domain-wide part. That is what web-platform-tests' `toascii.json`
//! expects (`1.ي` gives `1.xn--mhb`, from wpt#37993 for whatwg/url#543,
//! "Refusing a mix of numeric-only and BIDI domains"), where RFC 5893's
//! condition 1 alone would refuse `1`; the strict reading is what `idna`
//! 1.1 (and so the `url` crate) does.

use icu_properties::props::BidiClass;
use icu_properties::CodePointMapData;
use idna::AsciiDenyList;
use url::Url;

/// *Domain to ASCII* failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// UTS #46 processing of one label failed (disallowed code point,
    /// invalid Punycode, CheckJoiners, or CheckBidi within the label).
    #[error("label {0:?} fails UTS #46 processing")]
    Label(String),
    /// CheckBidi across the domain: an LTR label of a Bidi domain name
    /// breaks RFC 5893.
    #[error("label {0:?} breaks the Bidi rule in a Bidi domain name")]
    Bidi(String),
}

/// UTS #46's label separators; processing maps the last three to `.`.
fn is_label_separator(c: char) -> bool {
    matches!(c, '.' | '\u{3002}' | '\u{FF0E}' | '\u{FF61}')
}

fn bidi_class(c: char) -> BidiClass {
    CodePointMapData::<BidiClass>::new().get(c)
}

/// R, AL or AN: what makes a label right-to-left and a domain a Bidi
/// domain name (RFC 5893 section 1.4).
fn is_rtl(c: char) -> bool {
    matches!(
        bidi_class(c),
        BidiClass::RightToLeft | BidiClass::ArabicLetter | BidiClass::ArabicNumber
    )
}

/// RFC 5893 section 2, the conditions an LTR label of a Bidi domain name
/// must meet:
/// 1. "The first character must be a character with Bidi property L, R,
///    or AL."
/// 5. "In an LTR label, only characters with the Bidi properties L, EN,
///    ES, CS, ET, ON, BN, or NSM are allowed."
/// 6. "In an LTR label, the end of the label must be a character with Bidi
///    property L or EN, followed by zero or more characters with Bidi
///    property NSM."
fn ltr_label_meets_the_bidi_rule(label: &str) -> bool {
    use BidiClass as B;
    let classes: Vec<BidiClass> = label.chars().map(bidi_class).collect();
    let Some(first) = classes.first() else {
        return true;
    };
    let condition_1 = matches!(*first, B::LeftToRight | B::RightToLeft | B::ArabicLetter);
    let condition_5 = classes.iter().all(|c| {
        matches!(
            *c,
            B::LeftToRight
                | B::EuropeanNumber
                | B::EuropeanSeparator
                | B::CommonSeparator
                | B::EuropeanTerminator
                | B::OtherNeutral
                | B::BoundaryNeutral
                | B::NonspacingMark
        )
    });
    let condition_6 = classes
        .iter()
        .rev()
        .find(|c| **c != B::NonspacingMark)
        .is_some_and(|c| matches!(*c, B::LeftToRight | B::EuropeanNumber));
    condition_1 && condition_5 && condition_6
}

/// The URL Standard's domain to ASCII (beStrict false), for a domain
/// already percent-decoded.
///
/// <https://url.spec.whatwg.org/#concept-domain-to-ascii>
pub fn domain_to_ascii(domain: &str) -> Result<String, DomainError> {
    let mut ascii = Vec::new();
    let mut unicode = Vec::new();
    for label in domain.split(is_label_separator) {
        if label.is_empty() {
            ascii.push(String::new());
            unicode.push(String::new());
            continue;
        }
        let a = idna::domain_to_ascii_cow(label.as_bytes(), AsciiDenyList::URL)
            .map_err(|_| DomainError::Label(label.to_owned()))?
            .into_owned();
        // The label as CheckBidi sees it: after mapping, Punycode decoded.
        let (u, _) = idna::domain_to_unicode(&a);
        ascii.push(a);
        unicode.push(u);
    }
    // CheckBidi, domain-wide.
    let bidi_domain_name = unicode.iter().any(|l| l.chars().any(is_rtl));
    if bidi_domain_name {
        for label in &unicode {
            let rtl_label = label.chars().any(is_rtl);
            let ascii_digits = !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit());
            if !rtl_label && !ascii_digits && !ltr_label_meets_the_bidi_rule(label) {
                return Err(DomainError::Bidi(label.clone()));
            }
        }
    }
    Ok(ascii.join("."))
}

/// A URL the model parsed.
#[derive(Debug, Clone)]
pub struct ParsedUrl {
    /// The `url` crate's parse. When [`ParsedUrl::relaxed_host`] is set,
    /// its host is a placeholder: read the host from there.
    pub url: Url,
    /// The host (ASCII) when only this module's domain to ASCII accepts it.
    pub relaxed_host: Option<String>,
}

/// The host `url` crate's parse stands in with when the real host is one
/// only [`domain_to_ascii`] accepts (`.invalid` is reserved, RFC 6761).
const PLACEHOLDER_HOST: &str = "relaxed-bidi-host.invalid";

/// Runs the URL parser with no base URL.
///
/// <https://url.spec.whatwg.org/#concept-url-parser>
///
/// NOTE: the `url` crate parses; only when its host parser's domain to
/// ASCII fails does this redo that step with [`domain_to_ascii`] (which
/// accepts everything `idna` accepts, and more). The `url` crate re-runs
/// `idna` on any host it is given, so such a URL keeps a placeholder host
/// in [`ParsedUrl::url`] and the real one in [`ParsedUrl::relaxed_host`].
pub fn parse_url(input: &str) -> Result<ParsedUrl, url::ParseError> {
    match Url::parse(input) {
        Err(url::ParseError::IdnaError) => {
            let (before, host, after) =
                split_special_host(input).ok_or(url::ParseError::IdnaError)?;
            // The host parser's first step: percent-decode.
            // <https://url.spec.whatwg.org/#percent-decode>
            let decoded: Vec<u8> = percent_encoding::percent_decode_str(&host).collect();
            let domain = String::from_utf8_lossy(&decoded);
            let ascii = domain_to_ascii(&domain).map_err(|_| url::ParseError::IdnaError)?;
            // The rest of the host parser: a domain ending in a number is
            // an IPv4 address, and this one does not parse as one.
            if ends_in_a_number(&ascii) {
                return Err(url::ParseError::InvalidIpv4Address);
            }
            let url = Url::parse(&format!("{before}{PLACEHOLDER_HOST}{after}"))?;
            Ok(ParsedUrl {
                url,
                relaxed_host: Some(ascii),
            })
        }
        other => other.map(|url| ParsedUrl {
            url,
            relaxed_host: None,
        }),
    }
}

/// The URL Standard's *ends in a number checker*: the last label (the one
/// before a trailing dot, if any) is all ASCII digits or `0x` hex.
///
/// <https://url.spec.whatwg.org/#ends-in-a-number-checker>
fn ends_in_a_number(domain: &str) -> bool {
    let mut labels: Vec<&str> = domain.split('.').collect();
    if labels.last() == Some(&"") {
        if labels.len() == 1 {
            return false;
        }
        labels.pop();
    }
    let last = labels.last().copied().unwrap_or("");
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || last
            .strip_prefix("0x")
            .or_else(|| last.strip_prefix("0X"))
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// For a URL with a special scheme, the input around its host: what comes
/// before it, the host as written, and what follows (port, path, query,
/// fragment). `None` for anything else.
///
/// The URL parser's first steps: strip leading and trailing C0 controls
/// and spaces, remove ASCII tabs and newlines; then the scheme, slashes
/// (`/` or `\` for special schemes), credentials up to the last `@`, and
/// the host up to `:` (outside brackets), `/`, `\`, `?` or `#`.
fn split_special_host(input: &str) -> Option<(String, String, String)> {
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let colon = cleaned.find(':')?;
    let scheme = cleaned[..colon].to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss" | "ftp") {
        return None;
    }
    let rest = &cleaned[colon + 1..];
    let slashes = rest.len() - rest.trim_start_matches(['/', '\\']).len();
    let authority_start = colon + 1 + slashes;
    let authority_len = cleaned[authority_start..]
        .find(['/', '\\', '?', '#'])
        .unwrap_or(cleaned.len() - authority_start);
    let authority = &cleaned[authority_start..authority_start + authority_len];
    let host_start = authority_start + authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = &cleaned[host_start..authority_start + authority_len];
    if host_port.starts_with('[') {
        return None;
    }
    let host_len = host_port.find(':').unwrap_or(host_port.len());
    Some((
        cleaned[..host_start].to_owned(),
        cleaned[host_start..host_start + host_len].to_owned(),
        cleaned[host_start + host_len..].to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_all_digit_label_may_sit_beside_a_right_to_left_one() {
        assert_eq!(domain_to_ascii("1.\u{64A}").as_deref(), Ok("1.xn--mhb"));
        assert_eq!(domain_to_ascii("\u{64A}.").as_deref(), Ok("xn--mhb."));
    }

    #[test]
    fn other_left_to_right_labels_of_a_bidi_domain_keep_the_rule() {
        // "1x" starts with EN: RFC 5893 condition 1.
        assert_eq!(
            domain_to_ascii("\u{627}.1x"),
            Err(DomainError::Bidi("1x".into()))
        );
        // "a-" ends with ES: condition 6.
        assert_eq!(
            domain_to_ascii("\u{627}.a-"),
            Err(DomainError::Bidi("a-".into()))
        );
        assert_eq!(domain_to_ascii("\u{627}.ab").as_deref(), Ok("xn--mgb.ab"));
        // Without a right-to-left label, no Bidi rule at all.
        assert_eq!(domain_to_ascii("1x.a-").as_deref(), Ok("1x.a-"));
    }

    #[test]
    fn a_right_to_left_label_is_checked_on_its_own() {
        // An L character inside an RTL label: condition 2.
        assert!(matches!(
            domain_to_ascii("\u{64A}a"),
            Err(DomainError::Label(_))
        ));
    }

    #[test]
    fn the_url_parser_uses_it_for_the_host() {
        let url = parse_url("https://1.\u{64A}/x").unwrap();
        assert_eq!(url.relaxed_host.as_deref(), Some("1.xn--mhb"));
        let url = parse_url("HTTP://user@1.%D9%8A:8080/p?q#f").unwrap();
        assert_eq!(url.relaxed_host.as_deref(), Some("1.xn--mhb"));
        assert_eq!(url.url.scheme(), "http");
        assert_eq!(url.url.port(), Some(8080));
        assert_eq!(url.url.path(), "/p");
        // Ends in a number: the IPv4 parser, which fails.
        assert!(parse_url("https://\u{64A}.1/").is_err());
        assert!(parse_url("https://\u{64A}a/").is_err());
        let plain = parse_url("https://b.test/").unwrap();
        assert_eq!(plain.url.host_str(), Some("b.test"));
        assert_eq!(plain.relaxed_host, None);
    }
}
