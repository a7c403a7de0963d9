//! Line-by-line reading with 1-based line numbers, and the small parsing helpers the readers
//! share. One `String` buffer is reused for every line and tokens are `&str` slices of it, so
//! reading allocates nothing per line.

use crate::{Error, Result};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A line reader that knows the file name and the current 1-based line number, so that every
/// error it builds names both.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: String,
    line: usize,
    name: PathBuf,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, name: PathBuf) -> Self {
        LineReader {
            inner,
            buf: String::with_capacity(256),
            line: 0,
            name,
        }
    }

    /// Reads the next line (without its `\n` or `\r\n`); `false` at the end of the file.
    pub(crate) fn advance(&mut self) -> Result<bool> {
        self.buf.clear();
        match self.inner.read_line(&mut self.buf) {
            Ok(0) => Ok(false),
            Ok(_) => {
                self.line += 1;
                // A byte-order mark (some Windows editors write one) is not part of the text.
                if self.line == 1 && self.buf.starts_with('\u{feff}') {
                    self.buf.drain(..'\u{feff}'.len_utf8());
                }
                if self.buf.ends_with('\n') {
                    self.buf.pop();
                    if self.buf.ends_with('\r') {
                        self.buf.pop();
                    }
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                Err(Error::parse(&self.name, self.line + 1, "line is not valid UTF-8 text"))
            }
            Err(e) => Err(Error::io(&self.name, e)),
        }
    }

    /// Advances to the next line that is not blank; `false` at the end of the file.
    pub(crate) fn advance_nonblank(&mut self) -> Result<bool> {
        while self.advance()? {
            if !self.text().trim().is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The current line.
    pub(crate) fn text(&self) -> &str {
        &self.buf
    }

    /// The 1-based number of the current line (0 before the first line).
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// The file name used in messages.
    pub(crate) fn name(&self) -> &Path {
        &self.name
    }

    /// A parse error at the current line.
    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::parse(&self.name, self.line, reason)
    }

    /// A parse error at a given line.
    pub(crate) fn err_at(&self, line: usize, reason: impl Into<String>) -> Error {
        Error::parse(&self.name, line, reason)
    }
}

/// Parses a real number; the reason names the field when it is not one.
#[inline]
pub(crate) fn real(tok: &str, what: &str) -> std::result::Result<f64, String> {
    tok.parse::<f64>()
        .map_err(|_| format!("{what} is not a number: '{tok}'"))
}

/// Parses a finite real number (coordinates, cell edges).
#[inline]
pub(crate) fn finite(tok: &str, what: &str) -> std::result::Result<f64, String> {
    let x = real(tok, what)?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{what} is not finite: '{tok}'"))
    }
}

/// Parses an integer of any primitive type.
#[inline]
pub(crate) fn int<T: std::str::FromStr>(tok: &str, what: &str) -> std::result::Result<T, String> {
    tok.parse::<T>()
        .map_err(|_| format!("{what} is not an integer: '{tok}'"))
}

/// The part of a line before a `#` comment.
#[inline]
pub(crate) fn strip_comment(line: &str) -> &str {
    match line.find('#') {
        Some(i) => &line[..i],
        None => line,
    }
}

/// A real number in its shortest form that reads back to the same bits: plain decimal for
/// ordinary magnitudes, exponent notation for very small or very large ones.
pub(crate) struct Real(pub f64);

impl std::fmt::Display for Real {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = self.0.abs();
        if a == 0.0 || (1e-5..1e16).contains(&a) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{:e}", self.0)
        }
    }
}

/// "T T F" for a periodicity triple.
pub(crate) fn pbc_string(pbc: [bool; 3]) -> String {
    let c = |p: bool| if p { 'T' } else { 'F' };
    format!("{} {} {}", c(pbc[0]), c(pbc[1]), c(pbc[2]))
}

/// Parses a periodicity triple written as three of T/F/True/False/1/0 (any case).
pub(crate) fn parse_pbc(s: &str) -> Option<[bool; 3]> {
    let mut out = [false; 3];
    let mut n = 0;
    for tok in s.split_ascii_whitespace() {
        if n == 3 {
            return None;
        }
        out[n] = parse_bool(tok)?;
        n += 1;
    }
    // A single value applies to all three axes (ASE accepts `pbc=T`).
    match n {
        3 => Some(out),
        1 => Some([out[0]; 3]),
        _ => None,
    }
}

/// A logical value as ASE writes or reads it.
pub(crate) fn parse_bool(tok: &str) -> Option<bool> {
    match tok {
        "T" | "t" | "True" | "true" | "TRUE" | "1" => Some(true),
        "F" | "f" | "False" | "false" | "FALSE" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_formatting_round_trips_bitwise() {
        for x in [
            0.0,
            -0.0,
            1.0,
            0.1,
            20.749362487586776,
            -1.2345678901234567e-7,
            6.02214076e23,
            f64::MIN_POSITIVE,
            f64::MAX,
            1e-5,
            1e16 - 2.0,
        ] {
            let s = Real(x).to_string();
            let y: f64 = s.parse().unwrap();
            assert_eq!(x.to_bits(), y.to_bits(), "{x} -> {s}");
        }
        assert_eq!(Real(12.5).to_string(), "12.5");
        assert_eq!(Real(1e-7).to_string(), "1e-7");
    }

    #[test]
    fn line_reader_counts_lines_and_strips_crlf() {
        let text = "a\r\n\n  \nb";
        let mut r = LineReader::new(text.as_bytes(), "t".into());
        assert!(r.advance().unwrap());
        assert_eq!((r.text(), r.line()), ("a", 1));
        assert!(r.advance_nonblank().unwrap());
        assert_eq!((r.text(), r.line()), ("b", 4));
        assert!(!r.advance().unwrap());
        assert_eq!(r.err("x").to_string(), "t:4: x");
    }

    #[test]
    fn pbc_strings() {
        assert_eq!(parse_pbc("T T F"), Some([true, true, false]));
        assert_eq!(parse_pbc("True"), Some([true; 3]));
        assert_eq!(parse_pbc("T F"), None);
        assert_eq!(parse_pbc("T T X"), None);
        assert_eq!(pbc_string([true, false, true]), "T F T");
    }
}
