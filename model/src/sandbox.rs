//! The iframe `sandbox` attribute.
//!
//! <https://html.spec.whatwg.org/multipage/iframe-embed-object.html#attr-iframe-sandbox>
//! <https://html.spec.whatwg.org/multipage/browsers.html#sandboxing>

use std::collections::BTreeSet;

/// The allowed values of the `sandbox` attribute (an unordered set of
/// unique space-separated tokens, ASCII case-insensitive).
pub const SANDBOX_TOKENS: &[&str] = &[
    "allow-downloads",
    "allow-forms",
    "allow-modals",
    "allow-orientation-lock",
    "allow-pointer-lock",
    "allow-popups",
    "allow-popups-to-escape-sandbox",
    "allow-presentation",
    "allow-same-origin",
    "allow-scripts",
    "allow-top-navigation",
    "allow-top-navigation-by-user-activation",
    "allow-top-navigation-to-custom-protocols",
];

/// The part of a sandboxing flag set that matters to `postMessage`.
///
/// Everything else (forms, modals, navigation) is irrelevant to the model,
/// so the flags are kept as the set of `allow-*` keywords that lift them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SandboxingFlags {
    /// `None` means not sandboxed at all.
    allowed: Option<BTreeSet<String>>,
}

/// A token that is not one of [`SANDBOX_TOKENS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSandboxToken(pub String);

impl SandboxingFlags {
    /// No sandboxing.
    pub fn none() -> Self {
        Self { allowed: None }
    }

    /// Parse a sandboxing directive: "split input on ASCII whitespace, to
    /// obtain tokens", lowercased. Browsers ignore unknown tokens; the case
    /// format rejects them instead, because a typo would silently change
    /// what a case tests.
    ///
    /// <https://html.spec.whatwg.org/multipage/browsers.html#parse-a-sandboxing-directive>
    pub fn parse_directive(value: &str) -> Result<Self, UnknownSandboxToken> {
        let mut allowed = BTreeSet::new();
        for token in value.split_ascii_whitespace() {
            let token = token.to_ascii_lowercase();
            if !SANDBOX_TOKENS.contains(&token.as_str()) {
                return Err(UnknownSandboxToken(token));
            }
            allowed.insert(token);
        }
        Ok(Self {
            allowed: Some(allowed),
        })
    }

    /// Whether any sandboxing applies.
    pub fn is_sandboxed(&self) -> bool {
        self.allowed.is_some()
    }

    fn allows(&self, token: &str) -> bool {
        match &self.allowed {
            None => true,
            Some(set) => set.contains(token),
        }
    }

    /// The *sandboxed origin browsing context flag* is set: documents get a
    /// new opaque origin.
    pub fn forces_opaque_origin(&self) -> bool {
        !self.allows("allow-same-origin")
    }

    /// The *sandboxed scripts browsing context flag* is set.
    pub fn blocks_scripts(&self) -> bool {
        !self.allows("allow-scripts")
    }

    /// The *sandboxed auxiliary navigation browsing context flag* is set:
    /// `window.open` cannot create a popup.
    pub fn blocks_popups(&self) -> bool {
        !self.allows("allow-popups")
    }

    /// The flags a popup opened from a document with these flags gets: the
    /// same flags, unless `allow-popups-to-escape-sandbox` was given.
    ///
    /// <https://html.spec.whatwg.org/multipage/browsers.html#sandboxed-auxiliary-navigation-browsing-context-flag>
    pub fn for_popup(&self) -> Self {
        if self.allows("allow-popups-to-escape-sandbox") {
            Self::none()
        } else {
            self.clone()
        }
    }

    /// An iframe's flags: "the union of the flags of the iframe's sandbox
    /// attribute and the container document's active sandboxing flag set".
    /// A union of restrictions is an intersection of allowances.
    ///
    /// <https://html.spec.whatwg.org/multipage/browsers.html#determining-the-creation-sandboxing-flags>
    pub fn union(&self, other: &Self) -> Self {
        match (&self.allowed, &other.allowed) {
            (None, _) => other.clone(),
            (_, None) => self.clone(),
            (Some(a), Some(b)) => Self {
                allowed: Some(a.intersection(b).cloned().collect()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_attribute_sandboxes_everything() {
        let flags = SandboxingFlags::parse_directive("").unwrap();
        assert!(flags.is_sandboxed());
        assert!(flags.forces_opaque_origin());
        assert!(flags.blocks_scripts());
        assert!(flags.blocks_popups());
    }

    #[test]
    fn tokens_are_case_insensitive_and_whitespace_separated() {
        let flags =
            SandboxingFlags::parse_directive(" ALLOW-Scripts\tallow-same-origin\n").unwrap();
        assert!(!flags.blocks_scripts());
        assert!(!flags.forces_opaque_origin());
        assert!(flags.blocks_popups());
    }

    #[test]
    fn unknown_tokens_are_rejected() {
        assert_eq!(
            SandboxingFlags::parse_directive("allow-scripts allow-script"),
            Err(UnknownSandboxToken("allow-script".into()))
        );
    }

    #[test]
    fn union_keeps_only_what_both_allow() {
        let outer = SandboxingFlags::parse_directive("allow-scripts").unwrap();
        let inner = SandboxingFlags::parse_directive("allow-scripts allow-same-origin").unwrap();
        let nested = inner.union(&outer);
        assert!(nested.forces_opaque_origin());
        assert!(!nested.blocks_scripts());
        assert_eq!(SandboxingFlags::none().union(&outer), outer);
    }

    #[test]
    fn popups_inherit_unless_escaping() {
        let boxed = SandboxingFlags::parse_directive("allow-scripts allow-popups").unwrap();
        assert!(boxed.for_popup().forces_opaque_origin());
        let escaping = SandboxingFlags::parse_directive(
            "allow-scripts allow-popups allow-popups-to-escape-sandbox",
        )
        .unwrap();
        assert!(!escaping.for_popup().is_sandboxed());
    }
}
