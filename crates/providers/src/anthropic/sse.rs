//! A small incremental Server-Sent Events parser (WHATWG "event stream
//! interpretation"), fed raw byte chunks as they arrive, plus the mapping
//! of each event's `data` to a [`StreamEvent`].
//!
//! It takes lines ending in `\n`, `\r\n` or `\r` (a `\r\n` may be split
//! across chunks), multi-line `data:`, comments (`:`), a leading BOM, and
//! events split anywhere, including inside a UTF-8 sequence (lines are kept
//! as bytes until complete).

use claude_protocol::StreamEvent;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` opening the next belongs to it.
    pending_cr: bool,
    /// Past the first bytes, so a BOM is no longer looked for.
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one chunk; returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut rest = chunk;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..pos]);
            self.end_line(&mut out);
            let cr = rest[pos] == b'\r';
            rest = &rest[pos + 1..];
            if cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
        }
        self.line.extend_from_slice(rest);
        out
    }

    /// Ends the stream. Per the spec an event not closed by a blank line is
    /// discarded; returns whether anything was left unfinished.
    pub fn finish(&mut self) -> bool {
        let unfinished = !self.line.is_empty() || self.has_data;
        *self = Self::default();
        unfinished
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let mut line = std::mem::take(&mut self.line);
        let mut bytes = line.as_slice();
        if !self.started {
            self.started = true;
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if bytes.is_empty() {
            self.dispatch(out);
        } else if bytes[0] != b':' {
            let text = String::from_utf8_lossy(bytes);
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (text.as_ref(), ""),
            };
            match field {
                "event" => self.event = value.to_string(),
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                "id" if !value.contains('\0') => self.id = Some(value.to_string()),
                _ => {} // `retry` and unknown fields are ignored.
            }
        }
        line.clear();
        self.line = line;
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event: if event.is_empty() {
                "message".into()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
        });
    }
}

/// What one SSE event means for the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Event(StreamEvent),
    /// Keep-alives, unknown event types, empty data.
    Ignore,
    /// A known event whose data could not be read.
    Malformed(String),
}

/// Event names whose data must parse; anything else is ignored if it does not.
const KNOWN: &[&str] = &[
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "error",
];

/// Maps an SSE event to a stream event. The `type` inside `data` decides
/// (the API repeats it as the event name); unknown types are ignored.
pub fn decode(ev: &SseEvent) -> Decoded {
    let data = ev.data.trim();
    if data.is_empty() {
        return Decoded::Ignore;
    }
    match serde_json::from_str::<StreamEvent>(data) {
        Ok(StreamEvent::Unknown(_)) => Decoded::Ignore,
        Ok(event) => Decoded::Event(event),
        Err(e) => {
            let named_type = serde_json::from_str::<serde_json::Value>(data)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_string));
            let name = named_type.as_deref().unwrap_or(ev.event.as_str());
            if KNOWN.contains(&name) {
                Decoded::Malformed(format!("could not read a `{name}` event: {e}"))
            } else {
                Decoded::Ignore
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claude_protocol::{BlockDelta, StreamAssembler};

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c));
        }
        out
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: None,
        }
    }

    const SMALL: &str = "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}   }\r\n\r\n: a comment\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}     }\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"h\u{e9}llo \u{1F600}\"}       }\r\rid: 7\nevent: future_thing\ndata: not json at all\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\n data: \"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"              }\n\n";

    #[test]
    fn parses_fields_comments_and_line_endings() {
        let got = all(&[SMALL.as_bytes()]);
        let names: Vec<&str> = got.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            [
                "message_start",
                "ping",
                "content_block_start",
                "content_block_delta",
                "future_thing",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(got[4].id.as_deref(), Some("7"));
        assert_eq!(got[4].data, "not json at all");
        // ` data:` (leading space) is a field named " data", not data: ignored.
        assert_eq!(got[5].data, "{\"type\":\"message_delta\",");
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let got = all(&[b"data: {\"type\":\ndata:  \"ping\"}\n\n"]);
        assert_eq!(got, vec![ev("message", "{\"type\":\n \"ping\"}")]);
        assert_eq!(decode(&got[0]), Decoded::Event(StreamEvent::Ping));
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let bytes = SMALL.as_bytes();
        let whole = all(&[bytes]);
        for i in 0..=bytes.len() {
            assert_eq!(all(&[&bytes[..i], &bytes[i..]]), whole, "split at {i}");
        }
        // And byte by byte.
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(all(&singles), whole);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let got = all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(got, vec![ev("message", "a\nb")]);
    }

    #[test]
    fn bom_events_without_data_and_unterminated_tails() {
        let mut p = SseParser::new();
        let got = p.push(b"\xEF\xBB\xBFevent: ping\n\nevent: x\ndata\n\ndata: tail");
        // `event: ping` with no data dispatches nothing; bare `data` is empty data.
        assert_eq!(got, vec![ev("x", "")]);
        assert!(p.finish());
        assert!(p.push(b"\n\n").is_empty());
    }

    #[test]
    fn decodes_the_real_quirks() {
        let got = all(&[SMALL.as_bytes()]);
        let decoded: Vec<Decoded> = got.iter().map(decode).collect();
        assert!(matches!(
            decoded[0],
            Decoded::Event(StreamEvent::MessageStart { .. })
        ));
        assert_eq!(decoded[1], Decoded::Event(StreamEvent::Ping));
        assert!(matches!(
            &decoded[3],
            Decoded::Event(StreamEvent::ContentBlockDelta {
                delta: BlockDelta::TextDelta { text },
                ..
            }) if text == "h\u{e9}llo \u{1F600}"
        ));
        assert_eq!(decoded[4], Decoded::Ignore);
        assert!(
            matches!(decoded[5], Decoded::Malformed(_)),
            "{:?}",
            decoded[5]
        );
        assert!(matches!(
            decoded[6],
            Decoded::Event(StreamEvent::MessageStop { .. })
        ));
    }

    #[test]
    fn unknown_types_with_json_data_are_ignored_and_errors_decode() {
        assert_eq!(
            decode(&ev("brand_new", r#"{"type":"brand_new","x":1}"#)),
            Decoded::Ignore
        );
        assert_eq!(decode(&ev("message", "")), Decoded::Ignore);
        let err = decode(&ev(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ));
        let Decoded::Event(StreamEvent::Error { error }) = err else {
            panic!("{err:?}")
        };
        assert_eq!(error["type"], "overloaded_error");
    }

    #[test]
    fn assembles_usage_from_start_and_cumulative_delta() {
        let mut asm = StreamAssembler::default();
        for e in all(&[SMALL.replace("\n data:", "").as_bytes()]) {
            if let Decoded::Event(ev) = decode(&e) {
                asm.push(&ev);
            }
        }
        assert_eq!(asm.text(), "h\u{e9}llo \u{1F600}");
        assert_eq!(asm.stop_reason.as_deref(), Some("end_turn"));
        assert_eq!(asm.usage.input_tokens, 5);
        assert_eq!(asm.usage.output_tokens, 9);
    }
}
