//! Where `pmconf review` reads its answers: on a terminal one key each,
//! read in raw mode (no Enter); from anything else (a pipe, a file), one
//! line each. Each says which it expects.

use std::io::{self, BufRead};

/// The answers of a review.
pub(super) enum Answers<'a> {
    /// One line per answer (stdin is not a terminal).
    Lines(&'a mut dyn BufRead),
    /// One key per answer, from a terminal in raw mode.
    Keys(&'a RawKeys),
}

impl Answers<'_> {
    /// Said once, before the first snapshot.
    pub(super) fn how_to_answer(&self) -> &'static str {
        match self {
            Answers::Keys(_) => "answer each with one key (no Enter): a accept, r reject, s skip, q quit",
            Answers::Lines(_) => "standard input is not a terminal: answer each with a line (a, r, s or q, then Enter)",
        }
    }

    /// The prompt before each answer.
    pub(super) fn prompt(&self) -> &'static str {
        match self {
            Answers::Keys(_) => "a accept, r reject, s skip, q quit (one key): ",
            Answers::Lines(_) => "a accept, r reject, s skip, q quit, then Enter: ",
        }
    }

    /// Whether what is typed is not shown by the terminal (raw mode), so
    /// the review shows it.
    pub(super) fn echoes_nothing(&self) -> bool {
        matches!(self, Answers::Keys(_))
    }

    /// The next answer, trimmed; `None` at the end of input (and for
    /// Ctrl-C or Ctrl-D on a terminal, which stop the review).
    pub(super) fn next(&mut self) -> io::Result<Option<String>> {
        match self {
            Answers::Lines(lines) => {
                let mut line = String::new();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(None);
                }
                Ok(Some(line.trim().to_owned()))
            }
            Answers::Keys(keys) => keys.next_key(),
        }
    }
}

/// Standard input in raw mode (no line buffering, no echo, Ctrl-C read as
/// a key) for as long as this lives; the terminal's settings come back
/// when it is dropped.
pub(super) struct RawKeys {
    saved: libc::termios,
}

const STDIN: libc::c_int = libc::STDIN_FILENO;

impl RawKeys {
    /// Raw mode on standard input, when it is a terminal.
    pub(super) fn on_stdin() -> Option<Self> {
        // SAFETY: isatty, tcgetattr and tcsetattr only read and write the
        // termios struct given, on a file descriptor this process holds.
        unsafe {
            if libc::isatty(STDIN) != 1 {
                return None;
            }
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(STDIN, &mut saved) != 0 {
                return None;
            }
            let mut raw = saved;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            // TCSANOW, not TCSAFLUSH: keys typed ahead are kept.
            if libc::tcsetattr(STDIN, libc::TCSANOW, &raw) != 0 {
                return None;
            }
            Some(RawKeys { saved })
        }
    }

    /// The next key as an answer: a letter (lowercased); Enter and spaces
    /// are passed over; Ctrl-C and Ctrl-D (and the end of input) end it.
    fn next_key(&self) -> io::Result<Option<String>> {
        loop {
            let mut byte = 0u8;
            // SAFETY: reads at most one byte into `byte`.
            let n = unsafe { libc::read(STDIN, (&mut byte as *mut u8).cast(), 1) };
            match n {
                0 => return Ok(None),
                n if n < 0 => {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                _ => {}
            }
            match byte {
                0x03 | 0x04 => return Ok(None),
                b'\r' | b'\n' | b' ' | b'\t' => continue,
                b => return Ok(Some((b as char).to_ascii_lowercase().to_string())),
            }
        }
    }
}

impl Drop for RawKeys {
    fn drop(&mut self) {
        // SAFETY: puts back the settings read in `on_stdin`.
        unsafe {
            libc::tcsetattr(STDIN, libc::TCSANOW, &self.saved);
        }
    }
}
