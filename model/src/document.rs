//! A window's document: the origin it gets when a case creates it, and
//! what its `document.domain` setter allows.
//!
//! <https://html.spec.whatwg.org/multipage/document-sequences.html#determining-the-origin>
//! <https://html.spec.whatwg.org/multipage/browsers.html#relaxing-the-same-origin-restriction>

use crate::agent::public_suffix;
use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::sandbox::SandboxingFlags;
use crate::url_origin::origin_of_url;
use url::{Host, Url};

/// Where a document's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentUrl {
    /// A URL the window is navigated to (`http:`, `https:`, `data:`,
    /// `about:blank`).
    Url(Url),
    /// `about:srcdoc`: an iframe's `srcdoc` attribute.
    Srcdoc,
}

/// Determining the origin, given a URL, sandboxing flags and a source
/// origin (the origin of whoever started the navigation: the parent for an
/// iframe, the opener for a popup).
///
/// <https://html.spec.whatwg.org/multipage/document-sequences.html#determining-the-origin>
pub fn determine_the_origin(
    url: &DocumentUrl,
    sandbox_flags: &SandboxingFlags,
    source_origin: Option<&Origin>,
    alloc: &mut OpaqueOriginAllocator,
) -> Origin {
    // 1. If sandboxFlags has its sandboxed origin browsing context flag set,
    //    then return a new opaque origin.
    if sandbox_flags.forces_opaque_origin() {
        return alloc.new_opaque_origin();
    }
    match url {
        // 3. If url is about:srcdoc, then:
        //    1. Assert: sourceOrigin is non-null.
        //    2. Return sourceOrigin.
        DocumentUrl::Srcdoc => source_origin
            .cloned()
            .expect("case validation gives every srcdoc window a parent"),
        DocumentUrl::Url(url) => {
            // 4. If url matches about:blank and sourceOrigin is non-null, then
            //    return sourceOrigin.
            if matches_about_blank(url) {
                if let Some(source) = source_origin {
                    return source.clone();
                }
            }
            // 5. Return url's origin.
            origin_of_url(url, alloc)
        }
    }
}

/// A URL matches about:blank if its scheme is "about", its path contains a
/// single string "blank", its username and password are the empty string,
/// and its host is null. (Query and fragment may be anything.)
///
/// <https://html.spec.whatwg.org/multipage/urls-and-fetching.html#matches-about:blank>
pub fn matches_about_blank(url: &Url) -> bool {
    url.scheme() == "about"
        && url.path() == "blank"
        && url.username().is_empty()
        && url.password().is_none()
        && url.host().is_none()
}

/// Why the `document.domain` setter throws a "SecurityError" for a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainSetterError {
    /// Step 4: the document's origin has no effective domain (it is
    /// opaque).
    NoEffectiveDomain,
    /// Step 5: the value is neither the effective domain nor a domain it
    /// ends with (or does not parse as a host, or one of them is an IP
    /// address).
    NotASuffix,
    /// Step 5: the value is a public suffix (`test`, or `test.` for a host
    /// with a trailing dot).
    PublicSuffix,
}

/// What the `document.domain` setter did when it did not throw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainSetterEffect {
    /// Step 7: "Set this's origin's domain to the result of parsing the
    /// given value."
    SetDomain(Host),
    /// Step 6: "If the surrounding agent's agent cluster's is origin-keyed
    /// is true, then return." The origin's domain stays as it was (null,
    /// for every document of a case that never set it), so every later
    /// same origin-domain check sees the origin as if the setter had
    /// never run.
    OriginKeyedNoOp,
}

/// The `document.domain` setter, for a document with a browsing context and
/// no sandboxed document.domain browsing context flag (steps 1-2, which the
/// case validator checks itself) whose origin's effective domain is
/// `effective_domain` (`None`: an opaque origin), run in an agent whose
/// agent cluster is origin-keyed or not: what it does, or why it throws.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#dom-document-domain>
///
/// > "1. If this's browsing context is null, then throw a "SecurityError"
/// > DOMException. 2. If this's active sandboxing flag set has its
/// > sandboxed document.domain browsing context flag set, then throw a
/// > "SecurityError" DOMException. 3. Let effectiveDomain be this's
/// > origin's effective domain. 4. If effectiveDomain is null, then throw a
/// > "SecurityError" DOMException. 5. If the given value is not a
/// > registrable domain suffix of and is not equal to effectiveDomain, then
/// > throw a "SecurityError" DOMException. 6. If the surrounding agent's
/// > agent cluster's is origin-keyed is true, then return. 7. Set this's
/// > origin's domain to the result of parsing the given value."
///
/// Step 6 comes after step 5: an origin-keyed document still throws for a
/// value that is not its effective domain or a parent of it, and returns
/// without effect for one that is. Whether the cluster is origin-keyed is
/// [`crate::agent::AgentClusters::is_origin_keyed`] (always, in a
/// cross-origin isolated case: [`crate::isolation`]).
pub fn document_domain_setter(
    effective_domain: Option<&Host>,
    value: &str,
    origin_keyed: bool,
) -> Result<DomainSetterEffect, DomainSetterError> {
    // 3-4.
    let effective_domain = effective_domain.ok_or(DomainSetterError::NoEffectiveDomain)?;
    // 5.
    is_a_registrable_domain_suffix_of_or_is_equal_to(value, effective_domain)?;
    // 6.
    if origin_keyed {
        return Ok(DomainSetterEffect::OriginKeyedNoOp);
    }
    // 7. "the result of parsing the given value" (step 5 parsed it).
    Ok(DomainSetterEffect::SetDomain(
        Host::parse(value).expect("step 5 parsed it"),
    ))
}

/// Whether `host_suffix_string` is a registrable domain suffix of or is
/// equal to `original_host` (`Ok`), or which step says it is not.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#is-a-registrable-domain-suffix-of-or-is-equal-to>
///
/// NOTE: the host parser is the `url` crate's (its domain to ASCII is
/// `idna`'s, stricter than [`crate::domain`] on CheckBidi; no case's host
/// needs the difference).
fn is_a_registrable_domain_suffix_of_or_is_equal_to(
    host_suffix_string: &str,
    original_host: &Host,
) -> Result<(), DomainSetterError> {
    // 1. If hostSuffixString is the empty string, then return false.
    if host_suffix_string.is_empty() {
        return Err(DomainSetterError::NotASuffix);
    }
    // 2. Let hostSuffix be the result of parsing hostSuffixString.
    // 3. If hostSuffix is failure, then return false.
    let host_suffix = Host::parse(host_suffix_string).map_err(|_| DomainSetterError::NotASuffix)?;
    // 4. If hostSuffix does not equal originalHost, then:
    if &host_suffix != original_host {
        // 1. If hostSuffix or originalHost is not a domain, then return
        //    false. (This excludes hosts that are IP addresses.)
        let (Host::Domain(suffix), Host::Domain(original)) = (&host_suffix, original_host) else {
            return Err(DomainSetterError::NotASuffix);
        };
        // 2. If hostSuffix, prefixed by U+002E (.), does not match the end
        //    of originalHost, then return false.
        if !original.ends_with(&format!(".{suffix}")) {
            return Err(DomainSetterError::NotASuffix);
        }
        // 3. If any of the following are true: hostSuffix equals
        //    hostSuffix's public suffix; or hostSuffix, prefixed by U+002E
        //    (.), matches the end of originalHost's public suffix, then
        //    return false.
        let original_suffix = public_suffix(original).unwrap_or_default();
        if public_suffix(suffix).as_deref() == Some(suffix.as_str())
            || original_suffix.ends_with(&format!(".{suffix}"))
        {
            return Err(DomainSetterError::PublicSuffix);
        }
        // 4. Assert: originalHost's public suffix, prefixed by U+002E (.),
        //    matches the end of hostSuffix.
        debug_assert!(suffix.ends_with(&format!(".{original_suffix}")));
    }
    // 5. Return true.
    Ok(())
}

/// Every value `document.domain` may be set to in a document whose
/// origin's effective domain is `effective_domain`, serialized: the
/// effective domain itself and each domain it ends with that the setter
/// accepts ([`document_domain_setter`]), longest first. For an IP address,
/// the address alone.
pub fn settable_domains(effective_domain: &Host) -> Vec<String> {
    let whole = effective_domain.to_string();
    let mut candidates = vec![whole.clone()];
    if let Host::Domain(d) = effective_domain {
        candidates.extend(d.match_indices('.').map(|(i, _)| d[i + 1..].to_owned()));
    }
    candidates
        .into_iter()
        .filter(|c| !c.is_empty())
        .filter(|c| document_domain_setter(Some(effective_domain), c, false).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::same_origin;

    fn url(s: &str) -> DocumentUrl {
        DocumentUrl::Url(Url::parse(s).unwrap())
    }

    #[test]
    fn http_documents_take_the_url_origin() {
        let mut alloc = OpaqueOriginAllocator::new();
        let parent = Origin::tuple("http", "a.test", None);
        let o = determine_the_origin(
            &url("http://b.test:81/x"),
            &SandboxingFlags::none(),
            Some(&parent),
            &mut alloc,
        );
        assert_eq!(o.ascii_serialization(), "http://b.test:81");
    }

    #[test]
    fn about_blank_and_srcdoc_inherit() {
        let mut alloc = OpaqueOriginAllocator::new();
        let parent = Origin::tuple("http", "a.test", None);
        for u in [
            url("about:blank"),
            url("about:blank#x"),
            DocumentUrl::Srcdoc,
        ] {
            let o = determine_the_origin(&u, &SandboxingFlags::none(), Some(&parent), &mut alloc);
            assert!(same_origin(&o, &parent), "{u:?}");
        }
        // about:blank with no source is a new opaque origin.
        let o = determine_the_origin(
            &url("about:blank"),
            &SandboxingFlags::none(),
            None,
            &mut alloc,
        );
        assert!(o.is_opaque());
    }

    #[test]
    fn data_and_sandboxed_documents_are_opaque() {
        let mut alloc = OpaqueOriginAllocator::new();
        let parent = Origin::tuple("http", "a.test", None);
        let data = determine_the_origin(
            &url("data:text/html,x"),
            &SandboxingFlags::none(),
            Some(&parent),
            &mut alloc,
        );
        assert!(data.is_opaque());
        let boxed = SandboxingFlags::parse_directive("allow-scripts").unwrap();
        let o = determine_the_origin(&url("http://a.test/"), &boxed, Some(&parent), &mut alloc);
        assert!(o.is_opaque());
        let srcdoc = determine_the_origin(&DocumentUrl::Srcdoc, &boxed, Some(&parent), &mut alloc);
        assert!(srcdoc.is_opaque() && !same_origin(&o, &srcdoc));
        let same = SandboxingFlags::parse_directive("allow-scripts allow-same-origin").unwrap();
        let o = determine_the_origin(&url("http://a.test/"), &same, Some(&parent), &mut alloc);
        assert!(same_origin(&o, &parent));
    }

    #[test]
    fn about_blank_matching_is_strict() {
        assert!(matches_about_blank(&Url::parse("about:blank?x#y").unwrap()));
        assert!(!matches_about_blank(&Url::parse("about:blank/").unwrap()));
        assert!(!matches_about_blank(&Url::parse("about:srcdoc").unwrap()));
    }

    fn domain(host: &str) -> Host {
        Host::parse(host).unwrap()
    }

    #[test]
    fn the_setter_accepts_the_effective_domain_and_domains_it_ends_with() {
        let sub = domain("sub.a.test");
        // Step 5 via "is a registrable domain suffix of or is equal to":
        // step 4 (equal) and 4.2 (a suffix after a dot).
        assert_eq!(
            document_domain_setter(Some(&sub), "sub.a.test", false),
            Ok(DomainSetterEffect::SetDomain(sub.clone()))
        );
        assert_eq!(
            document_domain_setter(Some(&sub), "A.Test", false),
            Ok(DomainSetterEffect::SetDomain(domain("a.test")))
        );
        // 4.2: not at a label boundary, or another domain.
        for no in ["b.a.test", "ub.a.test", "sub.a.test.x", ""] {
            assert_eq!(
                document_domain_setter(Some(&sub), no, false),
                Err(DomainSetterError::NotASuffix),
                "{no}"
            );
        }
        // 4.3: `test` is its own public suffix (the list's `*` rule).
        assert_eq!(
            document_domain_setter(Some(&sub), "test", false),
            Err(DomainSetterError::PublicSuffix)
        );
        // Step 4: an opaque origin has no effective domain.
        assert_eq!(
            document_domain_setter(None, "a.test", false),
            Err(DomainSetterError::NoEffectiveDomain)
        );
    }

    /// Step 6 returns after step 5: in an origin-keyed agent cluster a
    /// value step 5 accepts sets nothing, and one it refuses still throws.
    #[test]
    fn an_origin_keyed_document_sets_no_domain_but_still_throws_at_step_5() {
        let sub = domain("sub.a.test");
        for value in ["a.test", "sub.a.test"] {
            assert_eq!(
                document_domain_setter(Some(&sub), value, true),
                Ok(DomainSetterEffect::OriginKeyedNoOp),
                "{value}"
            );
        }
        assert_eq!(
            document_domain_setter(Some(&sub), "b.test", true),
            Err(DomainSetterError::NotASuffix)
        );
        assert_eq!(
            document_domain_setter(Some(&sub), "test", true),
            Err(DomainSetterError::PublicSuffix)
        );
        assert_eq!(
            document_domain_setter(None, "a.test", true),
            Err(DomainSetterError::NoEffectiveDomain)
        );
    }

    /// A trailing dot stays on the host and on its public suffix (`test.`),
    /// and `a.test` (no dot) is not a suffix of `x.a.test.`. Chromium,
    /// Firefox and WebKitGTK agree (`mixed_content_in_browsers`).
    #[test]
    fn a_trailing_dot_host_sets_its_parents_with_the_dot_and_never_its_public_suffix() {
        let dotted = domain("x.a.test.");
        assert_eq!(settable_domains(&dotted), ["x.a.test.", "a.test."]);
        assert_eq!(
            document_domain_setter(Some(&dotted), "test.", false),
            Err(DomainSetterError::PublicSuffix)
        );
        assert_eq!(
            document_domain_setter(Some(&dotted), "a.test", false),
            Err(DomainSetterError::NotASuffix)
        );
        assert_eq!(
            settable_domains(&domain("x.a.test")),
            ["x.a.test", "a.test"]
        );
    }

    /// An IP address equals itself however it is written (step 4), and has
    /// no parent domain (4.1).
    #[test]
    fn an_ip_address_sets_only_itself() {
        let v4 = Host::parse("127.0.0.1").unwrap();
        assert_eq!(settable_domains(&v4), ["127.0.0.1"]);
        assert_eq!(
            document_domain_setter(Some(&v4), "0x7f.0.0.1", false),
            Ok(DomainSetterEffect::SetDomain(v4.clone()))
        );
        assert_eq!(
            document_domain_setter(Some(&v4), "0.1", false),
            Err(DomainSetterError::NotASuffix)
        );
        let v6 = Host::parse("[::1]").unwrap();
        assert_eq!(settable_domains(&v6), ["[::1]"]);
    }
}
