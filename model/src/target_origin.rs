//! Resolving the `targetOrigin` argument of `postMessage`.
//!
//! <https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps>

use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::url_origin::{origin_of_parsed_url, parse_url};
use serde::Serialize;

/// What a `targetOrigin` string resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOrigin {
    /// `"*"`: no restriction.
    Wildcard,
    /// An origin the target's document must be same origin with. An opaque
    /// one (from `asdf:`, `data:`...) never matches anything.
    Origin(Origin),
}

/// The URL parser returned failure: `postMessage` throws a "SyntaxError"
/// DOMException.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntaxError;

/// Steps 4 and 5 of the window post message steps.
///
/// <https://html.spec.whatwg.org/multipage/web-messaging.html#window-post-message-steps>
pub fn resolve_target_origin(
    target_origin: &str,
    incumbent_origin: &Origin,
    alloc: &mut OpaqueOriginAllocator,
) -> Result<TargetOrigin, SyntaxError> {
    // 4. If targetOrigin is a single U+002F SOLIDUS character (/), then set
    //    targetOrigin to incumbentSettings's origin.
    if target_origin == "/" {
        return Ok(TargetOrigin::Origin(incumbent_origin.clone()));
    }
    // 5. Otherwise, if targetOrigin is not a single U+002A ASTERISK character
    //    (*), then:
    if target_origin == "*" {
        return Ok(TargetOrigin::Wildcard);
    }
    //    1. Let parsedURL be the result of running the URL parser on
    //       targetOrigin.
    //    2. If parsedURL is failure, then throw a "SyntaxError" DOMException.
    let parsed_url = parse_url(target_origin).ok_or(SyntaxError)?;
    //    3. Set targetOrigin to parsedURL's origin.
    Ok(TargetOrigin::Origin(origin_of_parsed_url(
        &parsed_url,
        alloc,
    )))
}

/// How `pmconf target-origin` classifies a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetOriginKind {
    /// `*`.
    Wildcard,
    /// A tuple origin.
    Origin,
    /// Parses, but the origin is opaque and can never match.
    Opaque,
    /// The URL parser failed: `postMessage` throws.
    SyntaxError,
}

/// A resolved `targetOrigin` as the CLI reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetOriginReport {
    /// The string given.
    pub input: String,
    /// What it resolved to.
    pub kind: TargetOriginKind,
    /// The resolved origin's ASCII serialization (`*` for the wildcard,
    /// `null` for opaque), or `None` for a `SyntaxError`.
    pub serialization: Option<String>,
}

/// Resolves `input` as if posted from a document whose origin is `from`.
pub fn describe_target_origin(input: &str, from: &Origin) -> TargetOriginReport {
    let mut alloc = OpaqueOriginAllocator::new();
    let (kind, serialization) = match resolve_target_origin(input, from, &mut alloc) {
        Err(SyntaxError) => (TargetOriginKind::SyntaxError, None),
        Ok(TargetOrigin::Wildcard) => (TargetOriginKind::Wildcard, Some("*".to_owned())),
        Ok(TargetOrigin::Origin(o)) if o.is_opaque() => {
            (TargetOriginKind::Opaque, Some(o.ascii_serialization()))
        }
        Ok(TargetOrigin::Origin(o)) => (TargetOriginKind::Origin, Some(o.ascii_serialization())),
    };
    TargetOriginReport {
        input: input.to_owned(),
        kind,
        serialization,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::same_origin;

    fn resolve(s: &str) -> Result<TargetOrigin, SyntaxError> {
        let mut alloc = OpaqueOriginAllocator::new();
        resolve_target_origin(s, &Origin::tuple("http", "a.test", Some(8000)), &mut alloc)
    }

    fn serialized(s: &str) -> String {
        match resolve(s) {
            Ok(TargetOrigin::Wildcard) => "*".into(),
            Ok(TargetOrigin::Origin(o)) => o.ascii_serialization(),
            Err(SyntaxError) => "SyntaxError".into(),
        }
    }

    #[test]
    fn slash_is_the_incumbent_origin() {
        assert_eq!(serialized("/"), "http://a.test:8000");
        let mut alloc = OpaqueOriginAllocator::new();
        let opaque = alloc.new_opaque_origin();
        match resolve_target_origin("/", &opaque, &mut alloc) {
            Ok(TargetOrigin::Origin(o)) => assert!(same_origin(&o, &opaque)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wildcard_only_when_exactly_one_asterisk() {
        assert_eq!(resolve("*"), Ok(TargetOrigin::Wildcard));
        assert_eq!(serialized(" *"), "SyntaxError");
        assert_eq!(serialized("**"), "SyntaxError");
        assert_eq!(serialized("//"), "SyntaxError");
    }

    #[test]
    fn urls_resolve_to_their_origin() {
        assert_eq!(
            serialized("HTTP://B.Test:8001/some/path?q#f"),
            "http://b.test:8001"
        );
        assert_eq!(serialized("http://u:p@b.test:80/"), "http://b.test");
        assert_eq!(serialized("  http://b.test/\t"), "http://b.test");
        assert_eq!(serialized("ht\ntp://b.te\tst/"), "http://b.test");
    }

    #[test]
    fn failures_throw() {
        for s in [
            "",
            "http:",
            "//b.test",
            "null",
            "b.test",
            "http://[::1",
            "http://a b.test/",
        ] {
            assert_eq!(resolve(s), Err(SyntaxError), "{s:?}");
        }
    }

    #[test]
    fn opaque_target_origin_parses_but_is_opaque() {
        let report = describe_target_origin("asdf:", &Origin::tuple("http", "a.test", None));
        assert_eq!(report.kind, TargetOriginKind::Opaque);
        assert_eq!(report.serialization.as_deref(), Some("null"));
    }
}
