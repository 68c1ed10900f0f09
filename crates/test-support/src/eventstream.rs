//! AWS event-stream framing (`application/vnd.amazon.eventstream`), the binary envelope
//! that InvokeModelWithResponseStream wraps every Anthropic event in.
//!
//! The encoder is held to Bedrock's recorded bytes: [`chunk_frame`] reproduces the real
//! captures byte for byte, so a client that parses our frames parses Bedrock's.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Bedrock pads every chunk with `"p"`: a prefix of this alphabet, 2–61 characters long in
/// every recorded frame.
pub const PAD_ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

const PRELUDE_LEN: usize = 12;
const CRC_LEN: usize = 4;

/// One header value; the wire type byte follows from the variant (and the bool's value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 (true) and 1 (false), which carry no value bytes.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Short(i16),
    /// Type 4.
    Int(i32),
    /// Type 5.
    Long(i64),
    /// Type 6.
    Bytes(Vec<u8>),
    /// Type 7.
    String(String),
    /// Type 8, milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

impl HeaderValue {
    /// The string value, for the string-typed headers every Bedrock frame uses.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for HeaderValue {
    fn from(s: &str) -> Self {
        HeaderValue::String(s.to_owned())
    }
}

/// A decoded message; headers keep their wire order because Bedrock's order is part of
/// what the captures pin down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Headers in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    /// The raw payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// The value of a string header, if present.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_str())
    }

    /// Re-encodes the frame; `encode_frame` on the same parts gives the same bytes.
    pub fn encode(&self) -> Vec<u8> {
        let headers: Vec<(&str, HeaderValue)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        encode_frame(&headers, &self.payload)
    }

    /// For a Bedrock `chunk` frame, the Anthropic event JSON inside the base64 `bytes` field.
    pub fn chunk_event(&self) -> Option<String> {
        let payload: serde_json::Value = serde_json::from_slice(&self.payload).ok()?;
        let bytes = STANDARD.decode(payload.get("bytes")?.as_str()?).ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// Why a byte sequence is not a valid event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside a message.
    Truncated {
        /// Offset of the message that is cut short.
        offset: usize,
    },
    /// The lengths in the prelude contradict each other.
    BadLength {
        /// Offset of the message.
        offset: usize,
    },
    /// The CRC over the first 8 bytes does not match.
    PreludeCrc {
        /// Offset of the message.
        offset: usize,
        /// CRC carried in the message.
        carried: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// The CRC over the whole message does not match.
    MessageCrc {
        /// Offset of the message.
        offset: usize,
        /// CRC carried in the message.
        carried: u32,
        /// CRC computed over the bytes.
        computed: u32,
    },
    /// A header is malformed: unknown type, bad length, non-UTF-8 name or string, or a
    /// repeated name (botocore rejects duplicates too).
    BadHeader {
        /// Offset of the message.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { offset } => write!(f, "message at byte {offset} is truncated"),
            DecodeError::BadLength { offset } => {
                write!(f, "message at byte {offset} has inconsistent lengths")
            }
            DecodeError::PreludeCrc {
                offset,
                carried,
                computed,
            } => write!(
                f,
                "prelude CRC mismatch at byte {offset}: carried {carried:08x}, computed {computed:08x}"
            ),
            DecodeError::MessageCrc {
                offset,
                carried,
                computed,
            } => write!(
                f,
                "message CRC mismatch at byte {offset}: carried {carried:08x}, computed {computed:08x}"
            ),
            DecodeError::BadHeader { offset, reason } => {
                write!(f, "bad header in message at byte {offset}: {reason}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Encodes one message: prelude, prelude CRC, headers, payload, message CRC.
pub fn encode_frame(headers: &[(&str, HeaderValue)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encode_header(&mut encoded_headers, name, value);
    }
    let total = PRELUDE_LEN + encoded_headers.len() + payload.len() + CRC_LEN;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32_len(total).to_be_bytes());
    out.extend_from_slice(&u32_len(encoded_headers.len()).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

fn u32_len(len: usize) -> u32 {
    u32::try_from(len).expect("event-stream message longer than 4 GiB")
}

fn encode_header(out: &mut Vec<u8>, name: &str, value: &HeaderValue) {
    let name_len = u8::try_from(name.len()).expect("event-stream header name over 255 bytes");
    out.push(name_len);
    out.extend_from_slice(name.as_bytes());
    match value {
        HeaderValue::Bool(true) => out.push(0),
        HeaderValue::Bool(false) => out.push(1),
        HeaderValue::Byte(v) => {
            out.push(2);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Short(v) => {
            out.push(3);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Int(v) => {
            out.push(4);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Long(v) => {
            out.push(5);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Bytes(v) => {
            out.push(6);
            push_u16_prefixed(out, v);
        }
        HeaderValue::String(v) => {
            out.push(7);
            push_u16_prefixed(out, v.as_bytes());
        }
        HeaderValue::Timestamp(v) => {
            out.push(8);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Uuid(v) => {
            out.push(9);
            out.extend_from_slice(v);
        }
    }
}

fn push_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("event-stream header value over 65535 bytes");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Decodes a complete stream of messages, checking both CRCs of every message.
pub fn decode_frames(mut bytes: &[u8]) -> Result<Vec<Frame>, DecodeError> {
    let mut frames = Vec::new();
    let mut offset = 0;
    while !bytes.is_empty() {
        let (frame, used) = decode_frame(bytes, offset)?;
        frames.push(frame);
        bytes = &bytes[used..];
        offset += used;
    }
    Ok(frames)
}

fn decode_frame(bytes: &[u8], offset: usize) -> Result<(Frame, usize), DecodeError> {
    if bytes.len() < PRELUDE_LEN {
        return Err(DecodeError::Truncated { offset });
    }
    let total = be_u32(&bytes[0..4]) as usize;
    let headers_len = be_u32(&bytes[4..8]) as usize;
    let carried = be_u32(&bytes[8..12]);
    let computed = crc32fast::hash(&bytes[0..8]);
    if carried != computed {
        return Err(DecodeError::PreludeCrc {
            offset,
            carried,
            computed,
        });
    }
    if total < PRELUDE_LEN + CRC_LEN + headers_len {
        return Err(DecodeError::BadLength { offset });
    }
    if bytes.len() < total {
        return Err(DecodeError::Truncated { offset });
    }
    let carried = be_u32(&bytes[total - CRC_LEN..total]);
    let computed = crc32fast::hash(&bytes[..total - CRC_LEN]);
    if carried != computed {
        return Err(DecodeError::MessageCrc {
            offset,
            carried,
            computed,
        });
    }
    let headers_end = PRELUDE_LEN + headers_len;
    let headers = decode_headers(&bytes[PRELUDE_LEN..headers_end])
        .map_err(|reason| DecodeError::BadHeader { offset, reason })?;
    let payload = bytes[headers_end..total - CRC_LEN].to_vec();
    Ok((Frame { headers, payload }, total))
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn decode_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, String> {
    let mut headers: Vec<(String, HeaderValue)> = Vec::new();
    while !b.is_empty() {
        let name_len = usize::from(b[0]);
        let name = take(&mut b, 1 + name_len)?[1..].to_vec();
        let name = String::from_utf8(name).map_err(|_| "header name is not UTF-8".to_owned())?;
        let kind = take(&mut b, 1)?[0];
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(fixed(&mut b)?)),
            3 => HeaderValue::Short(i16::from_be_bytes(fixed(&mut b)?)),
            4 => HeaderValue::Int(i32::from_be_bytes(fixed(&mut b)?)),
            5 => HeaderValue::Long(i64::from_be_bytes(fixed(&mut b)?)),
            6 => HeaderValue::Bytes(u16_prefixed(&mut b)?),
            7 => HeaderValue::String(
                String::from_utf8(u16_prefixed(&mut b)?)
                    .map_err(|_| format!("string header {name} is not UTF-8"))?,
            ),
            8 => HeaderValue::Timestamp(i64::from_be_bytes(fixed(&mut b)?)),
            9 => HeaderValue::Uuid(fixed(&mut b)?),
            other => return Err(format!("unknown header value type {other}")),
        };
        if headers.iter().any(|(n, _)| *n == name) {
            return Err(format!("duplicate header {name}"));
        }
        headers.push((name, value));
    }
    Ok(headers)
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if b.len() < n {
        return Err("header runs past the headers section".to_owned());
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Ok(head)
}

fn fixed<const N: usize>(b: &mut &[u8]) -> Result<[u8; N], String> {
    let mut out = [0; N];
    out.copy_from_slice(take(b, N)?);
    Ok(out)
}

fn u16_prefixed(b: &mut &[u8]) -> Result<Vec<u8>, String> {
    let len = usize::from(u16::from_be_bytes(fixed(b)?));
    Ok(take(b, len)?.to_vec())
}

/// A `chunk` frame exactly as Bedrock sends it, wrapping one Anthropic event given as JSON
/// text (taken as-is, so recorded events re-encode byte for byte; a `serde_json::Value`'s
/// `to_string()` is the compact form Bedrock uses). `pad` is the length of `"p"`, capped at
/// the 62-character alphabet.
pub fn chunk_frame(event_json: &str, pad: usize) -> Vec<u8> {
    let p = &PAD_ALPHABET[..pad.min(PAD_ALPHABET.len())];
    let payload = format!(
        r#"{{"bytes":"{}","p":"{p}"}}"#,
        STANDARD.encode(event_json.as_bytes())
    );
    encode_frame(
        &[
            (":event-type", "chunk".into()),
            (":content-type", "application/json".into()),
            (":message-type", "event".into()),
        ],
        payload.as_bytes(),
    )
}

/// A modeled in-stream error: `member` is the lower-camel union member name
/// (`throttlingException`, `modelStreamErrorException`, …), not the shape name.
pub fn exception_frame(member: &str, message: &str) -> Vec<u8> {
    let payload = serde_json::json!({ "message": message }).to_string();
    encode_frame(
        &[
            (":exception-type", member.into()),
            (":content-type", "application/json".into()),
            (":message-type", "exception".into()),
        ],
        payload.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_type_round_trips() {
        let headers = [
            ("t", HeaderValue::Bool(true)),
            ("f", HeaderValue::Bool(false)),
            ("byte", HeaderValue::Byte(-3)),
            ("short", HeaderValue::Short(-300)),
            ("int", HeaderValue::Int(70_000)),
            ("long", HeaderValue::Long(-5_000_000_000)),
            ("bytes", HeaderValue::Bytes(vec![0, 1, 255])),
            ("string", HeaderValue::String("héllo".into())),
            ("ts", HeaderValue::Timestamp(1_735_689_600_000)),
            ("uuid", HeaderValue::Uuid([7; 16])),
        ];
        let bytes = encode_frame(&headers, b"payload");
        let frames = decode_frames(&bytes).unwrap();
        assert_eq!(frames.len(), 1);
        let expected: Vec<(String, HeaderValue)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        assert_eq!(frames[0].headers, expected);
        assert_eq!(frames[0].payload, b"payload");
        assert_eq!(frames[0].encode(), bytes);
    }

    #[test]
    fn corrupt_crcs_and_truncation_are_rejected() {
        let good = chunk_frame(r#"{"type":"message_stop"}"#, 4);
        let mut prelude = good.clone();
        prelude[3] ^= 1;
        assert!(matches!(
            decode_frames(&prelude),
            Err(DecodeError::PreludeCrc { .. })
        ));
        let mut body = good.clone();
        body[40] ^= 1;
        assert!(matches!(
            decode_frames(&body),
            Err(DecodeError::MessageCrc { .. })
        ));
        let mut two = good.clone();
        two.extend_from_slice(&good[..good.len() - 1]);
        assert_eq!(
            decode_frames(&two),
            Err(DecodeError::Truncated { offset: good.len() })
        );
    }

    #[test]
    fn duplicate_headers_are_rejected() {
        let bytes = encode_frame(&[("a", "x".into()), ("a", "y".into())], b"");
        assert!(matches!(
            decode_frames(&bytes),
            Err(DecodeError::BadHeader { .. })
        ));
    }

    #[test]
    fn chunk_frame_headers_are_always_75_bytes() {
        let frame = &decode_frames(&chunk_frame("{}", 2)).unwrap()[0];
        let header_len = be_u32(&chunk_frame("{}", 2)[4..8]);
        assert_eq!(header_len, 75);
        assert_eq!(frame.chunk_event().as_deref(), Some("{}"));
        assert_eq!(
            String::from_utf8_lossy(&frame.payload),
            r#"{"bytes":"e30=","p":"ab"}"#
        );
    }
}
