//! AWS event-stream messages, the binary framing of Bedrock's `converse-stream`, written here
//! from the format's description (independent of any client's decoder): a 12-byte prelude
//! (total length, headers length, CRC32 of those 8 bytes), the headers, the payload, then the
//! CRC32 of everything before it; integers big-endian, CRC32 as in zlib (IEEE). A header is its
//! name's length (1 byte), the name, a type byte and the value; the encoder writes strings
//! (type 7: a 2-byte length and UTF-8 bytes) only. The decoder, for tests, reads every type.

/// The prelude's size: total length, headers length, prelude CRC.
pub const PRELUDE: usize = 12;
/// The header value type of a string.
pub const STRING: u8 = 7;
/// The largest message the decoder accepts (the format's limit is 16 MiB).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// One message with string headers, in the order given.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        let name_len = u8::try_from(name.len()).expect("a header name is under 256 bytes");
        let value_len = u16::try_from(value.len()).expect("a header value is under 64 KiB");
        head.push(name_len);
        head.extend_from_slice(name.as_bytes());
        head.push(STRING);
        head.extend_from_slice(&value_len.to_be_bytes());
        head.extend_from_slice(value.as_bytes());
    }
    let total = PRELUDE + head.len() + payload.len() + 4;
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&(total as u32).to_be_bytes());
    message.extend_from_slice(&(head.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&head);
    message.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&message);
    message.extend_from_slice(&message_crc.to_be_bytes());
    message
}

/// A header's value as decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    /// Any other type: its type byte and its value's bytes.
    Other(u8, Vec<u8>),
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, Value)>,
    pub payload: Vec<u8>,
}

impl Message {
    /// A string header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
            Value::String(s) => Some(s.as_str()),
            Value::Other(..) => None,
        })
    }

    /// The payload as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.payload).map_err(|e| format!("payload is not JSON: {e}"))
    }
}

fn be32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The first message of `bytes` and how many bytes it took; `Ok(None)` when `bytes` does not
/// hold a whole message yet.
pub fn decode(bytes: &[u8]) -> Result<Option<(Message, usize)>, String> {
    if bytes.len() < PRELUDE {
        return Ok(None);
    }
    let total = be32(bytes) as usize;
    let headers_len = be32(&bytes[4..]) as usize;
    let prelude_crc = be32(&bytes[8..]);
    if crc32fast::hash(&bytes[..8]) != prelude_crc {
        return Err(format!("prelude CRC mismatch (total length {total}, headers length {headers_len})"));
    }
    if !(PRELUDE + 4..=MAX_MESSAGE).contains(&total) || headers_len > total - PRELUDE - 4 {
        return Err(format!("bad lengths: total {total}, headers {headers_len}"));
    }
    if bytes.len() < total {
        return Ok(None);
    }
    let message_crc = be32(&bytes[total - 4..]);
    if crc32fast::hash(&bytes[..total - 4]) != message_crc {
        return Err("message CRC mismatch".to_string());
    }
    let mut head = &bytes[PRELUDE..PRELUDE + headers_len];
    let mut headers = Vec::new();
    let take = |head: &mut &[u8], n: usize| -> Result<Vec<u8>, String> {
        if head.len() < n {
            return Err("a header runs past the headers".to_string());
        }
        let (taken, rest) = head.split_at(n);
        *head = rest;
        Ok(taken.to_vec())
    };
    while !head.is_empty() {
        let name_len = take(&mut head, 1)?[0] as usize;
        let name = String::from_utf8(take(&mut head, name_len)?).map_err(|_| "a header name is not UTF-8")?;
        let kind = take(&mut head, 1)?[0];
        let fixed = match kind {
            0 | 1 => Some(0),
            2 => Some(1),
            3 => Some(2),
            4 => Some(4),
            5 | 8 => Some(8),
            9 => Some(16),
            6 | 7 => None,
            _ => return Err(format!("header {name:?} has unknown type {kind}")),
        };
        let value = match fixed {
            Some(n) => Value::Other(kind, take(&mut head, n)?),
            None => {
                let len = take(&mut head, 2)?;
                let value = take(&mut head, u16::from_be_bytes([len[0], len[1]]) as usize)?;
                match kind {
                    STRING => Value::String(String::from_utf8(value).map_err(|_| "a string header is not UTF-8")?),
                    _ => Value::Other(kind, value),
                }
            }
        };
        headers.push((name, value));
    }
    let payload = bytes[PRELUDE + headers_len..total - 4].to_vec();
    Ok(Some((Message { headers, payload }, total)))
}

/// Every message of `bytes`, which must end where a message ends.
pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        match decode(bytes)? {
            Some((message, used)) => {
                messages.push(message);
                bytes = &bytes[used..];
            }
            None => return Err(format!("{} bytes after the last whole message", bytes.len())),
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_by_hand() {
        let m = encode(&[(":event-type", "x"), (":message-type", "event")], b"{}");
        // Headers: 1 + 11 + 1 + 2 + 1 (":event-type" = "x") and 1 + 13 + 1 + 2 + 5.
        let headers_len = (1 + 11 + 1 + 2 + 1) + (1 + 13 + 1 + 2 + 5);
        assert_eq!(m.len(), 12 + headers_len + 2 + 4);
        assert_eq!(&m[0..4], &(m.len() as u32).to_be_bytes());
        assert_eq!(&m[4..8], &(headers_len as u32).to_be_bytes());
        assert_eq!(&m[8..12], &crc32fast::hash(&m[..8]).to_be_bytes());
        assert_eq!(m[12], 11);
        assert_eq!(&m[13..24], b":event-type");
        assert_eq!((m[24], &m[25..27], m[27]), (7, &[0u8, 1][..], b'x'));
        assert_eq!(&m[m.len() - 6..m.len() - 4], b"{}");
        assert_eq!(&m[m.len() - 4..], &crc32fast::hash(&m[..m.len() - 4]).to_be_bytes());
        let (decoded, used) = decode(&m).unwrap().unwrap();
        assert_eq!(used, m.len());
        assert_eq!((decoded.header(":event-type"), decoded.payload.as_slice()), (Some("x"), &b"{}"[..]));
    }

    #[test]
    fn the_published_vectors_encode_byte_for_byte() {
        use base64::Engine;
        // AWS's event-stream test vectors (aws-c-event-stream, test/encoded/positive).
        let vector = |b64: &str| base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(encode(&[], b""), vector("AAAAEAAAAAAFwkjrfZjI/w=="), "empty_message");
        assert_eq!(
            encode(&[], b"{'foo':'bar'}"),
            vector("AAAAHQAAAAD9Uoxaeydmb28nOidiYXInfcNlOTY="),
            "payload_no_headers"
        );
        assert_eq!(
            encode(&[("content-type", "application/json")], b"{'foo':'bar'}"),
            vector("AAAAPQAAACAH/YOWDGNvbnRlbnQtdHlwZQcAEGFwcGxpY2F0aW9uL2pzb257J2Zvbyc6J2Jhcid9jZwIsQ=="),
            "payload_one_str_header"
        );
        // One with a header of another type (int32) decodes.
        let (m, _) = decode(&vector("AAAALQAAABBBxCS4CmV2ZW50LXR5cGUEAACgDHsnZm9vJzonYmFyJ3029ICg")).unwrap().unwrap();
        assert_eq!(m.headers, [("event-type".to_string(), Value::Other(4, vec![0, 0, 0xa0, 0x0c]))]);
        assert_eq!(m.payload, b"{'foo':'bar'}");
    }

    #[test]
    fn damage_is_found() {
        let m = encode(&[(":event-type", "x")], b"{\"a\":1}");
        assert_eq!(decode(&m[..m.len() - 1]).unwrap(), None, "incomplete");
        let mut bad = m.clone();
        bad[11] ^= 1;
        assert!(decode(&bad).unwrap_err().contains("prelude CRC"));
        let mut bad = m.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(decode(&bad).unwrap_err().contains("message CRC"));
        let mut two = m.clone();
        two.extend_from_slice(&m);
        assert_eq!(decode_all(&two).unwrap().len(), 2);
        assert!(decode_all(&two[..two.len() - 3]).is_err());
    }
}
