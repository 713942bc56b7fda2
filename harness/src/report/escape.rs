//! Making untrusted text safe to show: case names, descriptions, reasons
//! and messages can hold any character a case author or a browser chose.

/// The visible stand-in for a C0 control character (other than tab, line
/// feed and carriage return) or DEL: its Unicode "control picture"
/// (`␀`, `␛`, `␡`...), so it is shown instead of acting on the terminal or
/// breaking the HTML parser.
fn control_picture(c: char) -> Option<char> {
    match c {
        '\t' | '\n' | '\r' => None,
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        _ => None,
    }
}

/// Escapes `text` for HTML text and for double- or single-quoted attribute
/// values.
///
/// Besides `& < > " '`, it writes U+2028 and U+2029 as character references
/// (harmless in HTML, but they end lines in JavaScript, so the page stays
/// safe to embed or script later) and replaces other control characters by
/// their control pictures.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{2028}' => out.push_str("&#x2028;"),
            '\u{2029}' => out.push_str("&#x2029;"),
            _ => out.push(control_picture(c).unwrap_or(c)),
        }
    }
    out
}

/// Makes `text` safe to print on a terminal: control characters (escape
/// sequences above all) become their control pictures; tabs and line
/// breaks stay.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| control_picture(c).unwrap_or(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            html_escape(r#"</script><b a="1" c='2'>&amp;"#),
            "&lt;/script&gt;&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;amp;"
        );
    }

    #[test]
    fn escapes_javascript_line_terminators_and_controls() {
        assert_eq!(html_escape("a\u{2028}b\u{2029}c"), "a&#x2028;b&#x2029;c");
        assert_eq!(
            html_escape("nul\0 esc\u{1b} del\u{7f}"),
            "nul\u{2400} esc\u{241b} del\u{2421}"
        );
        assert_eq!(html_escape("tab\tline\ncr\r"), "tab\tline\ncr\r");
    }

    #[test]
    fn leaves_other_text_alone() {
        assert_eq!(
            html_escape("http://a.test:8000 é 😀"),
            "http://a.test:8000 é 😀"
        );
    }

    #[test]
    fn terminal_text_loses_escape_sequences_only() {
        assert_eq!(
            terminal_safe("\u{1b}[31mred\u{1b}[0m\n<ok>"),
            "\u{241b}[31mred\u{241b}[0m\n<ok>"
        );
    }
}
