//! ANSI colors, used sparingly and only when asked for.

/// Paints text, or leaves it plain when colors are off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    color: bool,
}

impl Palette {
    /// A palette that colors only when `color` is true.
    pub(crate) fn new(color: bool) -> Self {
        Self { color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }

    /// For what fails the run, and allowed-only diff lines.
    pub(crate) fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// For a passing verdict, and observed-only diff lines.
    pub(crate) fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// For what is wrong but expected (accepted divergences).
    pub(crate) fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// For section headings.
    pub(crate) fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unless_asked() {
        assert_eq!(Palette::new(false).red("x"), "x");
        assert_eq!(Palette::new(true).red("x"), "\u{1b}[31mx\u{1b}[0m");
    }
}
