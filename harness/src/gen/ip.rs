//! Loopback literals in every spelling the URL parser accepts, and nothing
//! outside 127.0.0.0/8 and ::1.

use proptest::prelude::*;

/// A loopback host as written, and the family of its spelling.
pub fn loopback_literal() -> impl Strategy<Value = (String, &'static str)> {
    prop_oneof![
        (0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(b, c, d)| (format!("127.{b}.{c}.{d}"), "ipv4-dotted")),
        (0u8..=255, 1u8..=254).prop_map(|(c, d)| (format!("0x7f.{c:#x}.0.{d}"), "ipv4-hex-parts")),
        (1u8..=254).prop_map(|d| (format!("0177.0.0.0{d:o}"), "ipv4-octal-parts")),
        (1u16..=65534).prop_map(|n| (format!("127.{n}"), "ipv4-two-parts")),
        (0u8..=255, 1u16..=65534).prop_map(|(b, n)| (format!("127.{b}.{n}"), "ipv4-three-parts")),
        (1u32..=0x00ff_fffe).prop_map(|n| ((0x7f00_0000u32 | n).to_string(), "ipv4-number")),
        (1u32..=0x00ff_fffe)
            .prop_map(|n| (format!("{:#X}", 0x7f00_0000u32 | n), "ipv4-hex-number")),
        proptest::sample::select(
            &[
                "[::1]",
                "[0:0:0:0:0:0:0:1]",
                "[0::1]",
                "[::0:1]",
                "[0000:0000:0000:0000:0000:0000:0000:0001]",
            ][..]
        )
        .prop_map(|s| (s.to_owned(), "ipv6-loopback")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn every_spelling_is_loopback() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..500 {
            let (host, family) = loopback_literal().new_tree(&mut runner).unwrap().current();
            let url = url::Url::parse(&format!("http://{host}/"))
                .unwrap_or_else(|e| panic!("{family} {host}: {e}"));
            let ok = match url.host().unwrap() {
                url::Host::Ipv4(a) => a.octets()[0] == 127,
                url::Host::Ipv6(a) => a.is_loopback(),
                url::Host::Domain(_) => false,
            };
            assert!(ok, "{family} {host} -> {url}");
        }
    }
}
