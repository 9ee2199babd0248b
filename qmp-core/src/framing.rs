//! Splitting the inbound byte stream into lines, one JSON message per line.

use crate::error::{Error, Result};
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The guest agent's sentinel: a byte that never occurs in UTF-8 text. qemu-ga puts it
/// before its reply to `guest-sync-delimited`; it means "forget everything before".
pub(crate) const SENTINEL: u8 = 0xFF;

/// Buffer size of an idle connection; grown for long messages, shrunk back after them.
const SMALL: usize = 4 * 1024;
/// How much to read at a time once a long message is arriving.
const CHUNK: usize = 64 * 1024;

/// Reads `\n`-terminated lines with a size limit, from any `AsyncRead`.
///
/// * A line is accepted when it is at most `limit` bytes long, not counting the `\n`
///   (QEMU's `\r` counts). A longer one is [`Error::MessageTooLarge`], reported as soon as
///   the limit is passed rather than after buffering the whole line.
/// * Lines holding only whitespace are skipped (JSON allows whitespace between
///   messages; an fd's carrier byte is a space).
/// * Invalid UTF-8 is [`Error::Deserialize`] with the line kept verbatim.
/// * A last line without a terminator before EOF is accepted, as QEMU's Python client
///   does.
/// * In sentinel mode (the guest agent), a `0xFF` byte discards everything received
///   before it, a partial line included, and the next line is marked as following it.
pub(crate) struct LineReader {
    buf: Vec<u8>,
    /// Unconsumed data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// `buf[start..scanned]` holds no `\n` (nor sentinel).
    scanned: usize,
    limit: usize,
    sentinel_mode: bool,
    after_sentinel: bool,
    eof: bool,
}

/// One received line.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) text: String,
    /// The line is the first complete one after a guest-agent sentinel.
    pub(crate) after_sentinel: bool,
}

impl LineReader {
    pub(crate) fn new(limit: usize) -> Self {
        LineReader {
            buf: vec![0; SMALL],
            start: 0,
            end: 0,
            scanned: 0,
            limit,
            sentinel_mode: false,
            after_sentinel: false,
            eof: false,
        }
    }

    /// Treat `0xFF` as the guest agent's sentinel.
    pub(crate) fn sentinel_mode(&mut self, on: bool) {
        self.sentinel_mode = on;
    }

    /// Bytes buffered but not yet returned as lines.
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Capacity held, for memory accounting.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The next line; `Ok(None)` at a clean end of file.
    pub(crate) async fn next_line<R: AsyncRead + Unpin>(
        &mut self,
        io: &mut R,
    ) -> Result<Option<Line>> {
        poll_fn(|cx| self.poll_line(Pin::new(&mut *io), cx)).await
    }

    /// A complete line already buffered, without reading.
    fn take_buffered(&mut self) -> Result<Option<Line>> {
        loop {
            let window = &self.buf[self.scanned..self.end];
            let found = if self.sentinel_mode {
                memchr::memchr2(b'\n', SENTINEL, window)
            } else {
                memchr::memchr(b'\n', window)
            };
            let Some(pos) = found else {
                self.scanned = self.end;
                if self.end - self.start > self.limit {
                    return Err(Error::MessageTooLarge { limit: self.limit });
                }
                return Ok(None);
            };
            let at = self.scanned + pos;
            if self.buf[at] == SENTINEL {
                // Everything before the sentinel is stale.
                self.start = at + 1;
                self.scanned = self.start;
                self.after_sentinel = true;
                continue;
            }
            let line_start = self.start;
            self.start = at + 1;
            self.scanned = self.start;
            if at - line_start > self.limit {
                return Err(Error::MessageTooLarge { limit: self.limit });
            }
            // QEMU ends lines with "\r\n": the "\r" counts towards the limit but is
            // not part of the message.
            let mut bytes = &self.buf[line_start..at];
            if let [rest @ .., b'\r'] = bytes {
                bytes = rest;
            }
            if bytes.iter().all(is_json_space) {
                continue;
            }
            let text = to_text(bytes)?;
            let after_sentinel = std::mem::take(&mut self.after_sentinel);
            self.compact_if_idle();
            return Ok(Some(Line {
                text,
                after_sentinel,
            }));
        }
    }

    /// Polls for the next line.
    pub(crate) fn poll_line<R: AsyncRead + ?Sized>(
        &mut self,
        mut io: Pin<&mut R>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Line>>> {
        loop {
            if let Some(line) = self.take_buffered()? {
                return Poll::Ready(Ok(Some(line)));
            }
            if self.eof {
                return Poll::Ready(self.at_eof());
            }
            self.make_room();
            let mut rb = ReadBuf::new(&mut self.buf[self.end..]);
            match io.as_mut().poll_read(cx, &mut rb) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        self.eof = true;
                    }
                    self.end += n;
                }
            }
        }
    }

    /// At EOF: a last unterminated line, or the end.
    fn at_eof(&mut self) -> Result<Option<Line>> {
        let rest = &self.buf[self.start..self.end];
        let line = if rest.iter().all(is_json_space) {
            None
        } else {
            let text = to_text(rest)?;
            Some(Line {
                text,
                after_sentinel: std::mem::take(&mut self.after_sentinel),
            })
        };
        self.start = self.end;
        self.scanned = self.end;
        Ok(line)
    }

    /// Ensures free space after `end`: moves unconsumed data to the front, and grows.
    fn make_room(&mut self) {
        if self.end < self.buf.len() {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.scanned -= self.start;
            self.start = 0;
            if self.end < self.buf.len() {
                return;
            }
        }
        let grow = if self.buf.len() < CHUNK {
            self.buf.len()
        } else {
            CHUNK
        };
        self.buf.resize(self.buf.len() + grow, 0);
    }

    /// After a long message, give the memory back once nothing is buffered.
    fn compact_if_idle(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.scanned = 0;
            if self.buf.len() > CHUNK {
                self.buf = vec![0; SMALL];
            }
        }
    }
}

/// Whitespace as JSON defines it: what may stand between messages.
pub(crate) fn is_json_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn to_text(bytes: &[u8]) -> Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let raw = String::from_utf8_lossy(bytes).into_owned();
            let source = serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
                .err()
                .unwrap_or_else(|| serde::de::Error::custom(format!("invalid UTF-8: {e}")));
            Err(Error::Deserialize { raw, source })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], limit: usize, sentinel: bool) -> Vec<Result<(String, bool)>> {
        let mut r = LineReader::new(limit);
        r.sentinel_mode(sentinel);
        let mut io = input;
        let mut out = Vec::new();
        loop {
            match r.next_line(&mut io).await {
                Ok(Some(l)) => out.push(Ok((l.text, l.after_sentinel))),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    break;
                }
            }
        }
        out
    }

    fn texts(v: Vec<Result<(String, bool)>>) -> Vec<String> {
        v.into_iter().map(|r| r.unwrap().0).collect()
    }

    #[tokio::test]
    async fn splits_lines_and_skips_blank_ones() {
        let v = texts(lines(b"{\"a\":1}\r\n\r\n   \n{\"b\":2}\n{\"c\":3}", 100, false).await);
        assert_eq!(v, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
        assert!(lines(b"", 10, false).await.is_empty());
        assert!(lines(b" \n \r\n", 10, false).await.is_empty());
        // Only JSON's whitespace is blank (found by fuzzing: a vertical tab is not).
        let r = lines(b"\x0b\n", 10, false).await;
        assert_eq!(texts(r), ["\u{b}"]);
    }

    #[tokio::test]
    async fn limit_boundary() {
        let ok = format!("{}\n", "x".repeat(10));
        assert_eq!(texts(lines(ok.as_bytes(), 10, false).await).len(), 1);
        let long = format!("{}\n", "x".repeat(11));
        let r = lines(long.as_bytes(), 10, false).await;
        assert!(matches!(r[0], Err(Error::MessageTooLarge { limit: 10 })));
        // Without a newline at all, the error comes as soon as the limit is passed.
        let endless = vec![b'y'; 100_000];
        let r = lines(&endless, 1000, false).await;
        assert!(matches!(r[0], Err(Error::MessageTooLarge { .. })));
    }

    #[tokio::test]
    async fn invalid_utf8_is_kept_verbatim() {
        let r = lines(b"  {\"e\": \"\xff\"}  \n", 100, false).await;
        match &r[0] {
            Err(Error::Deserialize { raw, .. }) => assert_eq!(raw, "  {\"e\": \"\u{fffd}\"}  "),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn sentinel_resets() {
        let r = lines(
            b"{\"stale\": 1}\n{\"partial\xff{\"return\": 5}\n{\"next\": 1}\n",
            100,
            true,
        )
        .await;
        let v: Vec<(String, bool)> = r.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            v,
            [
                ("{\"stale\": 1}".to_owned(), false),
                ("{\"return\": 5}".to_owned(), true),
                ("{\"next\": 1}".to_owned(), false)
            ]
        );
    }

    #[tokio::test]
    async fn memory_is_given_back_after_a_long_line() {
        let mut input = vec![b'z'; 1 << 20];
        input.push(b'\n');
        input.extend_from_slice(b"{}\n");
        let mut r = LineReader::new(2 << 20);
        let mut io = &input[..];
        let first = r.next_line(&mut io).await.unwrap().unwrap();
        assert_eq!(first.text.len(), 1 << 20);
        let second = r.next_line(&mut io).await.unwrap().unwrap();
        assert_eq!(second.text, "{}");
        assert!(r.capacity() <= CHUNK, "{}", r.capacity());
        assert_eq!(r.buffered(), 0);
    }
}
