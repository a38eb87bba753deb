//! A reader that refuses input no valid import file can contain (a line, or
//! a JSON string, far longer than any name) before a parser buffers it, so
//! memory stays bounded whatever the input.

use std::io::{self, BufRead, Read};
use std::sync::{Arc, OnceLock};

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Limit {
    /// Bytes between newlines (CSV: names cannot contain newlines).
    Line(usize),
    /// Bytes inside one JSON string (a minified JSON file is one long line).
    JsonString(usize),
}

/// Where the limit was crossed, once it was: 1-based line number.
pub(crate) type Overflow = Arc<OnceLock<u64>>;

pub(crate) struct BoundedRead<R> {
    inner: R,
    limit: Limit,
    overflow: Overflow,
    line: u64,
    run: usize,
    in_string: bool,
    escaped: bool,
}

impl<R: BufRead> BoundedRead<R> {
    pub(crate) fn new(inner: R, limit: Limit) -> (Self, Overflow) {
        let overflow = Overflow::default();
        let reader = BoundedRead {
            inner,
            limit,
            overflow: Arc::clone(&overflow),
            line: 1,
            run: 0,
            in_string: false,
            escaped: false,
        };
        (reader, overflow)
    }

    /// Advances the state over one byte; `false` once the limit is crossed.
    fn step(&mut self, byte: u8) -> bool {
        if byte == b'\n' {
            self.line += 1;
        }
        match self.limit {
            Limit::Line(max) => {
                self.run = if byte == b'\n' { 0 } else { self.run + 1 };
                self.run <= max
            }
            Limit::JsonString(max) => {
                if !self.in_string {
                    self.in_string = byte == b'"';
                    self.run = 0;
                } else if self.escaped {
                    self.escaped = false;
                    self.run += 1;
                } else if byte == b'\\' {
                    self.escaped = true;
                    self.run += 1;
                } else if byte == b'"' {
                    self.in_string = false;
                } else {
                    self.run += 1;
                }
                self.run <= max
            }
        }
    }
}

impl<R: BufRead> Read for BoundedRead<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.overflow.get().is_some() {
            return Err(too_long());
        }
        let available = self.inner.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        for &byte in &out[..n] {
            if !self.step(byte) {
                let _ = self.overflow.set(self.line);
                return Err(too_long());
            }
        }
        Ok(n)
    }
}

fn too_long() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "input longer than any valid record",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], limit: Limit) -> (io::Result<Vec<u8>>, Option<u64>) {
        let (mut reader, overflow) = BoundedRead::new(input, limit);
        let mut out = Vec::new();
        let result = reader.read_to_end(&mut out).map(|_| out);
        (result, overflow.get().copied())
    }

    #[test]
    fn lines_within_the_limit_pass_through() {
        let (out, overflow) = read_all(b"abc\r\nde\n", Limit::Line(4));
        assert_eq!(out.unwrap(), b"abc\r\nde\n");
        assert_eq!(overflow, None);
    }

    #[test]
    fn a_long_line_stops_the_read_and_says_which() {
        let (out, overflow) = read_all(b"ok\nok\ntoo long\n", Limit::Line(4));
        assert!(out.is_err());
        assert_eq!(overflow, Some(3));
    }

    #[test]
    fn json_strings_are_measured_inside_quotes_only() {
        let (out, _) = read_all(
            br#"[{"name": "abcd", "id": 123456789}]"#,
            Limit::JsonString(4),
        );
        assert!(out.is_ok());
        let (out, overflow) = read_all(b"[\n{\"name\": \"abcde\"}]", Limit::JsonString(4));
        assert!(out.is_err());
        assert_eq!(overflow, Some(2));
        // An escaped quote does not end the string.
        let (out, _) = read_all(br#"["ab\"cd"]"#, Limit::JsonString(4));
        assert!(out.is_err());
    }
}
