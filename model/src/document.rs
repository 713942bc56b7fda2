//! The origin each window's document gets when a case creates it.
//!
//! <https://html.spec.whatwg.org/multipage/document-sequences.html#determining-the-origin>

use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::sandbox::SandboxingFlags;
use crate::url_origin::origin_of_url;
use url::Url;

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
}
