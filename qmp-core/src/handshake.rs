//! Establishing a session on a connected stream: the greeting, capability negotiation,
//! and for the guest agent the `guest-sync-delimited` resynchronisation. Runs before the
//! connection task exists, on the stream it will own.

use crate::error::{Error, ProtocolViolation, Result};
use crate::events::{RawEvent, Registry};
use crate::framing::{Line, LineReader, SENTINEL};
use crate::message::{Envelope, Greeting, IdField, Incoming};
use crate::stream::Stream;
use tokio::io::AsyncWriteExt;

/// What the session start needs to know.
pub(crate) struct Settings {
    pub(crate) await_greeting: bool,
    pub(crate) negotiate: bool,
    pub(crate) sync: bool,
    pub(crate) log_payloads: bool,
}

/// The outcome of a successful handshake.
pub(crate) struct Established {
    pub(crate) greeting: Option<Greeting>,
    pub(crate) oob: bool,
}

/// How many fresh greetings during negotiation are believed before giving up.
const MAX_RESTARTS: usize = 3;

/// Greeting, negotiation and sync, in that order, each when asked for.
pub(crate) async fn establish(
    stream: &mut Stream,
    reader: &mut LineReader,
    settings: &Settings,
    registry: &Registry,
    on_greeting: &mut (dyn FnMut(&Greeting) + Send),
) -> Result<Established> {
    let mut greeting = None;
    let mut oob = false;
    if settings.await_greeting || settings.negotiate {
        let g = read_greeting(stream, reader, settings, registry).await?;
        on_greeting(&g);
        oob = settings.negotiate && g.has_capability("oob");
        greeting = Some(g);
    }
    if settings.negotiate {
        let mut restarts = 0;
        loop {
            let msg: &[u8] = if oob {
                br#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#
            } else {
                br#"{"execute":"qmp_capabilities","arguments":{}}"#
            };
            tracing::debug!("--> {}", String::from_utf8_lossy(msg));
            stream.write_all(msg).await?;
            stream.flush().await?;
            match negotiation_reply(stream, reader, settings, registry).await? {
                Reply::Done => break,
                Reply::GreetedAgain(g) => {
                    // QEMU does this when it processes a previous client's hang-up late:
                    // the stale greeting, then a fresh one after a reset that discarded
                    // our request. Negotiate again, a bounded number of times.
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(Error::Negotiation(Box::new(Error::Protocol(
                            ProtocolViolation::RepeatedGreeting,
                        ))));
                    }
                    tracing::warn!("server greeted again during negotiation; negotiating again");
                    on_greeting(&g);
                    oob = g.has_capability("oob");
                    greeting = Some(g);
                }
            }
        }
    }
    if settings.sync {
        sync(stream, reader, settings).await?;
    }
    Ok(Established { greeting, oob })
}

async fn next_line(stream: &mut Stream, reader: &mut LineReader, log: bool) -> Result<Line> {
    let line = reader.next_line(stream).await?.ok_or(Error::Eof)?;
    if log {
        tracing::debug!("<-- {}", line.text);
    } else {
        tracing::debug!(bytes = line.text.len(), "<-- (message)");
    }
    Ok(line)
}

async fn read_greeting(
    stream: &mut Stream,
    reader: &mut LineReader,
    settings: &Settings,
    registry: &Registry,
) -> Result<Greeting> {
    loop {
        let line = next_line(stream, reader, settings.log_payloads).await?;
        match Greeting::parse(&line.text) {
            Ok(g) => return Ok(g),
            Err(e) => {
                // QEMU can send an event (e.g. RESUME) to a client that connected while
                // it was still starting, before the greeting: deliver it, keep waiting.
                if let Ok(env) = Envelope::parse(&line.text) {
                    if env.event.is_some() {
                        tracing::debug!("event before the greeting, delivered");
                        registry.dispatch(&RawEvent::from_envelope(&line.text, &env));
                        continue;
                    }
                }
                return Err(Error::Greeting(Box::new(e)));
            }
        }
    }
}

enum Reply {
    Done,
    GreetedAgain(Greeting),
}

async fn negotiation_reply(
    stream: &mut Stream,
    reader: &mut LineReader,
    settings: &Settings,
    registry: &Registry,
) -> Result<Reply> {
    let negotiation = |e: Error| Error::Negotiation(Box::new(e));
    loop {
        let line = next_line(stream, reader, settings.log_payloads).await?;
        let incoming = Incoming::classify(&line.text).map_err(negotiation)?;
        match incoming {
            Incoming::Event(env) => {
                // Not expected before negotiation completes, but harmless.
                tracing::debug!("event during negotiation, delivered");
                registry.dispatch(&RawEvent::from_envelope(&line.text, &env));
            }
            Incoming::Reply(_, env) if env.ret.is_none() && env.error.is_none() => {
                return match Greeting::parse(&line.text) {
                    Ok(g) => Ok(Reply::GreetedAgain(g)),
                    Err(_) => Err(negotiation(Error::BadReply {
                        reason: crate::error::BadReplyReason::MissingReturnOrError,
                        received: line.text.clone(),
                        sent: crate::error::Sent("qmp_capabilities".into()),
                    })),
                };
            }
            Incoming::Reply(_, env) => {
                if let Some(err) = env.error {
                    let body: serde_json::Value =
                        serde_json::from_str(err.get()).unwrap_or_default();
                    return Err(negotiation(match (body.get("class"), body.get("desc")) {
                        (
                            Some(serde_json::Value::String(c)),
                            Some(serde_json::Value::String(d)),
                        ) => crate::error::ExecuteError {
                            command: "qmp_capabilities".into(),
                            class: c.as_str().into(),
                            desc: d.clone(),
                            sent: crate::error::Sent("qmp_capabilities".into()),
                            received: line.text.clone(),
                        }
                        .into(),
                        _ => Error::BadReply {
                            reason: crate::error::BadReplyReason::MalformedError,
                            received: line.text.clone(),
                            sent: crate::error::Sent("qmp_capabilities".into()),
                        },
                    }));
                }
                return Ok(Reply::Done);
            }
        }
    }
}

/// A fresh id for `guest-sync-delimited`: unpredictable enough that a stale reply to an
/// earlier client's sync never matches.
pub(crate) fn sync_id() -> i64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = now
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 1) as i64
}

/// The request: a sentinel first, so that the agent drops whatever partial input a
/// previous client left, then `guest-sync-delimited` without an id.
pub(crate) fn sync_request(id: i64) -> Vec<u8> {
    let mut v = vec![SENTINEL];
    v.extend_from_slice(
        format!(r#"{{"execute":"guest-sync-delimited","arguments":{{"id":{id}}}}}"#).as_bytes(),
    );
    v
}

/// Whether `line` is the agent's answer to the sync with this id.
pub(crate) fn is_sync_reply(line: &str, id: i64) -> bool {
    match Incoming::classify(line) {
        Ok(Incoming::Reply(IdField::Absent | IdField::Null, env)) => {
            env.ret
                .and_then(|r| serde_json::from_str::<i64>(r.get()).ok())
                == Some(id)
        }
        _ => false,
    }
}

/// Resynchronises with a guest agent: everything received before the matching answer
/// is stale and discarded, unreadable lines included.
async fn sync(stream: &mut Stream, reader: &mut LineReader, settings: &Settings) -> Result<()> {
    let id = sync_id();
    tracing::debug!(id, "--> guest-sync-delimited");
    stream.write_all(&sync_request(id)).await?;
    stream.flush().await?;
    loop {
        match reader.next_line(stream).await {
            Ok(Some(line)) if is_sync_reply(&line.text, id) => {
                tracing::debug!(id, "<-- in sync with the guest agent");
                return Ok(());
            }
            Ok(Some(line)) => {
                if settings.log_payloads {
                    tracing::debug!("<-- (stale, discarded) {}", line.text);
                } else {
                    tracing::debug!(bytes = line.text.len(), "<-- stale message discarded");
                }
            }
            Ok(None) => return Err(Error::Eof),
            // Garbage from a previous client, or a partial line: skip it.
            Err(Error::Deserialize { .. }) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_messages() {
        let id = sync_id();
        assert!(id >= 0);
        assert_ne!(sync_id(), sync_id());
        let req = sync_request(42);
        assert_eq!(req[0], 0xFF);
        assert_eq!(
            &req[1..],
            br#"{"execute":"guest-sync-delimited","arguments":{"id":42}}"#
        );
        assert!(is_sync_reply(r#"{"return": 42}"#, 42));
        assert!(!is_sync_reply(r#"{"return": 41}"#, 42));
        assert!(!is_sync_reply(r#"{"return": 42, "id": "x"}"#, 42));
        assert!(!is_sync_reply(
            r#"{"error": {"class": "x", "desc": "y"}}"#,
            42
        ));
        assert!(!is_sync_reply("nope", 42));
    }
}
