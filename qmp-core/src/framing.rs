//! Splitting the inbound byte stream into lines, one JSON message per line.

use crate::error::{Error, Result};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads `\n`-terminated lines with a size limit.
///
/// A line is accepted when it is at most `limit` bytes long, not counting the `\n`
/// (QEMU's `\r` counts). A last line without a terminator before EOF is accepted, as
/// QEMU's Python client does.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: BytesMut,
    /// How much of `buf` is known to hold no `\n`.
    scanned: usize,
    limit: usize,
}

const READ_CHUNK: usize = 16 * 1024;

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub(crate) fn new(inner: R, limit: usize) -> Self {
        LineReader {
            inner,
            buf: BytesMut::with_capacity(READ_CHUNK),
            scanned: 0,
            limit,
        }
    }

    /// The next line without its terminator, as text; `Ok(None)` at a clean EOF.
    ///
    /// Invalid UTF-8 is an [`Error::Deserialize`]; a line over the limit is
    /// [`Error::MessageTooLarge`], reported as soon as the limit is passed rather than
    /// after buffering the whole line.
    pub(crate) async fn next_line(&mut self) -> Result<Option<String>> {
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[self.scanned..]) {
                let end = self.scanned + pos;
                self.scanned = 0;
                if end > self.limit {
                    return Err(Error::MessageTooLarge { limit: self.limit });
                }
                let line = self.buf.split_to(end + 1);
                return to_text(&line[..end]).map(Some);
            }
            self.scanned = self.buf.len();
            if self.scanned > self.limit {
                return Err(Error::MessageTooLarge { limit: self.limit });
            }
            if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
                self.buf.reserve(READ_CHUNK);
            }
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                if self.buf.iter().all(u8::is_ascii_whitespace) {
                    self.buf.clear();
                    self.scanned = 0;
                    return Ok(None);
                }
                self.scanned = 0;
                let line = self.buf.split();
                return to_text(&line).map(Some);
            }
        }
    }

    /// Takes back the underlying reader (bytes already buffered are lost).
    #[allow(dead_code)]
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
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

    async fn lines(input: &[u8], limit: usize) -> Vec<Result<Option<String>>> {
        let mut r = LineReader::new(input, limit);
        let mut out = Vec::new();
        loop {
            let l = r.next_line().await;
            let stop = !matches!(l, Ok(Some(_)));
            out.push(l);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn splits_lines() {
        let got = lines(b"{\"a\":1}\r\n{}\n{\"b\":2}", 100).await;
        let got: Vec<_> = got.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(
            got,
            vec![
                Some("{\"a\":1}\r".to_owned()),
                Some("{}".into()),
                Some("{\"b\":2}".into()),
                None
            ]
        );
    }

    #[tokio::test]
    async fn limit_boundary() {
        // Exactly `limit` bytes before the newline is fine; one more is not.
        let ok = lines(b"0123456789\n", 10).await;
        assert_eq!(ok[0].as_ref().unwrap().as_deref(), Some("0123456789"));
        let bad = lines(b"01234567890\n", 10).await;
        assert!(matches!(bad[0], Err(Error::MessageTooLarge { limit: 10 })));
        // Without a newline in sight, reported as soon as the limit is passed.
        let endless = vec![b'x'; 100_000];
        let bad = lines(&endless, 1000).await;
        assert!(matches!(
            bad[0],
            Err(Error::MessageTooLarge { limit: 1000 })
        ));
    }

    #[tokio::test]
    async fn invalid_utf8_is_a_deserialize_error() {
        let got = lines(b"{\"a\":\"\xff\"}\n", 100).await;
        assert!(matches!(got[0], Err(Error::Deserialize { .. })));
    }
}
