//! targetOrigin strings derived from the target's real origin by mutations,
//! plus `*`, `/` and strings that are not URLs. Each carries the name of
//! its mutation, so samples can be counted and divergences grouped.

use super::hosts::INVALID_LABELS;
use super::origins::{GenOrigin, GenPort};

/// A generated targetOrigin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenTargetOrigin {
    /// The string passed to postMessage.
    pub text: String,
    /// Which mutation made it.
    pub mutation: &'static str,
    /// The mutation's index in [`MUTATIONS`] and its variant, so the
    /// string can be made again for a different target origin.
    pub index: usize,
    /// The variant number.
    pub pick: usize,
}

/// The mutations, simplest first (proptest shrinks towards index 0).
pub const MUTATIONS: &[&str] = &[
    "exact",
    "wildcard",
    "slash",
    "uppercase",
    "punycode-or-unicode",
    "path-query-fragment",
    "credentials",
    "explicit-default-port",
    "other-port",
    "other-scheme",
    "other-host",
    "subdomain",
    "parent-domain",
    "trailing-dot",
    "blob-wrapped",
    "whitespace-and-c0",
    "tab-newline-inside",
    "percent-encoded-host",
    "backslashes",
    "invalid-host-label",
    "not-a-url",
];

/// The target's origin spelled as a URL prefix with no path.
fn base(o: &GenOrigin) -> String {
    format!("{}://{}{}", o.scheme, o.host.written, o.port_text())
}

/// Applies mutation `index` to `o`, with `pick` (any number) choosing
/// among variants inside a mutation.
pub fn mutate(o: &GenOrigin, index: usize, pick: usize) -> GenTargetOrigin {
    let mutation = MUTATIONS[index % MUTATIONS.len()];
    let host = &o.host.written;
    let b = base(o);
    let other_scheme = if o.scheme.eq_ignore_ascii_case("https") {
        "http"
    } else {
        "https"
    };
    let text = match mutation {
        "exact" => b.clone(),
        "wildcard" => "*".to_owned(),
        "slash" => "/".to_owned(),
        "uppercase" => b.to_uppercase(),
        "punycode-or-unicode" => {
            // The other spelling of the host: ASCII (punycode) when the case
            // wrote Unicode, and the Unicode form back from punycode.
            let url = url::Url::parse(&format!("http://{host}/")).ok();
            let ascii = url
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| host.clone());
            let spelled = if ascii != host.to_ascii_lowercase() {
                ascii
            } else {
                idna_to_unicode(&ascii)
            };
            format!("{}://{spelled}{}", o.scheme, o.port_text())
        }
        "path-query-fragment" => [
            format!("{b}/a/b"),
            format!("{b}/?q=1"),
            format!("{b}#frag"),
            format!("{b}/x?y#z"),
        ][pick % 4]
            .clone(),
        "credentials" => [
            format!("{}://user@{host}{}", o.scheme, o.port_text()),
            format!("{}://u:p@{host}{}/", o.scheme, o.port_text()),
        ][pick % 2]
            .clone(),
        "explicit-default-port" => format!("{}://{host}:{}", o.scheme, o.default_port()),
        "other-port" => {
            let port = match o.port {
                GenPort::Other(p) if p != 8002 => 8002,
                _ => 8003,
            };
            format!("{}://{host}:{port}", o.scheme)
        }
        "other-scheme" => [
            format!("{other_scheme}://{host}{}", o.port_text()),
            format!("ws://{host}{}", o.port_text()),
            format!("ftp://{host}{}", o.port_text()),
        ][pick % 3]
            .clone(),
        "other-host" => format!("{}://other.test{}", o.scheme, o.port_text()),
        "subdomain" => format!("{}://sub.{host}{}", o.scheme, o.port_text()),
        "parent-domain" => match host.split_once('.') {
            Some((_, parent)) if parent.contains('.') || parent.eq_ignore_ascii_case("test") => {
                format!("{}://{parent}{}", o.scheme, o.port_text())
            }
            _ => format!("{}://test{}", o.scheme, o.port_text()),
        },
        "trailing-dot" => match host.strip_suffix('.') {
            Some(h) => format!("{}://{h}{}", o.scheme, o.port_text()),
            None => format!("{}://{host}.{}", o.scheme, o.port_text()),
        },
        "blob-wrapped" => [
            format!("blob:{b}/uuid"),
            format!("blob:{b}"),
            format!("blob:blob:{b}/x"),
        ][pick % 3]
            .clone(),
        "whitespace-and-c0" => [
            format!(" {b} "),
            format!("\u{0}{b}\u{1F}"),
            format!("\u{C}\n{b}\r"),
        ][pick % 3]
            .clone(),
        "tab-newline-inside" => {
            let mid = b.len() / 2;
            let (l, r) = b.split_at(
                b.char_indices()
                    .map(|(i, _)| i)
                    .rfind(|&i| i <= mid)
                    .unwrap_or(0),
            );
            [
                format!("{l}\t{r}"),
                format!("{l}\n{r}"),
                format!("{l}\r\n{r}"),
            ][pick % 3]
                .clone()
        }
        "percent-encoded-host" => {
            let mut chars = host.chars();
            let first = chars.next().unwrap_or('a');
            let encoded: String = first
                .to_string()
                .bytes()
                .map(|byte| format!("%{byte:02X}"))
                .collect();
            format!(
                "{}://{encoded}{}{}",
                o.scheme,
                chars.as_str(),
                o.port_text()
            )
        }
        "backslashes" => [
            format!("{}:\\\\{host}{}\\x", o.scheme, o.port_text()),
            format!("{b}\\path"),
        ][pick % 2]
            .clone(),
        "invalid-host-label" => {
            let (label, _) = INVALID_LABELS[pick % INVALID_LABELS.len()];
            let host = host.trim_end_matches('.');
            if label == "1" {
                // A digit label is only invalid beside a right-to-left one.
                format!("{}://1.שלום.{host}{}", o.scheme, o.port_text())
            } else {
                format!("{}://{label}.{host}{}", o.scheme, o.port_text())
            }
        }
        _ => ["", "null", "http:", "//a.test", "a.test", " *", "**"][pick % 7].to_owned(),
    };
    GenTargetOrigin {
        text,
        mutation,
        index: index % MUTATIONS.len(),
        pick,
    }
}

fn idna_to_unicode(ascii: &str) -> String {
    // Punycode labels back to Unicode, others as they are.
    ascii
        .split('.')
        .map(|label| {
            label
                .strip_prefix("xn--")
                .and_then(decode_punycode)
                .unwrap_or_else(|| label.to_owned())
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// RFC 3492 decoding (the inverse of what the URL parser applies).
fn decode_punycode(input: &str) -> Option<String> {
    let (base, rest) = match input.rfind('-') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => ("", input),
    };
    let mut output: Vec<char> = base.chars().collect();
    let (mut n, mut bias, mut i) = (128u32, 72u32, 0u32);
    let mut chars = rest.chars().peekable();
    while chars.peek().is_some() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = 36u32;
        loop {
            let c = chars.next()?;
            let digit = match c {
                'a'..='z' => c as u32 - 'a' as u32,
                'A'..='Z' => c as u32 - 'A' as u32,
                '0'..='9' => c as u32 - '0' as u32 + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                1
            } else if k >= bias + 26 {
                26
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(36 - t)?;
            k += 36;
        }
        let len = output.len() as u32 + 1;
        let mut delta = if old_i == 0 {
            (i - old_i) / 700
        } else {
            (i - old_i) / 2
        };
        delta += delta / len;
        let mut k = 0;
        while delta > 455 {
            delta /= 35;
            k += 36;
        }
        bias = k + 36 * delta / (delta + 38);
        n = n.checked_add(i / len)?;
        i %= len;
        output.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(output.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::hosts::GenHost;

    fn origin(scheme: &str, host: &str, port: GenPort) -> GenOrigin {
        GenOrigin {
            scheme: scheme.into(),
            host: GenHost {
                written: host.into(),
                families: vec![],
            },
            port,
        }
    }

    #[test]
    fn mutations_do_what_they_say() {
        let o = origin("http", "bücher.test", GenPort::Other(8001));
        let m = |name: &str, pick| {
            mutate(&o, MUTATIONS.iter().position(|x| *x == name).unwrap(), pick).text
        };
        assert_eq!(m("exact", 0), "http://bücher.test:8001");
        assert_eq!(
            m("punycode-or-unicode", 0),
            "http://xn--bcher-kva.test:8001"
        );
        assert_eq!(m("explicit-default-port", 0), "http://bücher.test:80");
        assert_eq!(m("other-port", 0), "http://bücher.test:8002");
        assert_eq!(m("trailing-dot", 0), "http://bücher.test.:8001");
        assert_eq!(m("blob-wrapped", 0), "blob:http://bücher.test:8001/uuid");
        assert_eq!(m("parent-domain", 0), "http://test:8001");
        assert_eq!(m("percent-encoded-host", 0), "http://%62ücher.test:8001");
        let u = origin("http", "ü.test", GenPort::Implicit);
        assert_eq!(mutate(&u, 17, 0).text, "http://%C3%BC.test");
        let p = origin("https", "xn--bcher-kva.test", GenPort::Implicit);
        assert_eq!(mutate(&p, 4, 0).text, "https://bücher.test");
    }

    #[test]
    fn punycode_decoding_round_trips() {
        for label in ["bücher", "faß", "ὀδυσσεύς", "שלום"] {
            let ascii = url::Url::parse(&format!("http://{label}.test/"))
                .unwrap()
                .host_str()
                .unwrap()
                .to_owned();
            assert_eq!(idna_to_unicode(&ascii), format!("{label}.test"), "{ascii}");
        }
    }
}
