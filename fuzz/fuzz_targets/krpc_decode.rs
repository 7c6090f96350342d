//! Fuzz the KRPC decoder and the bencode reader underneath it.
//!
//! For any input bytes:
//!
//! - `Message::decode` does not panic. A decoded message re-encodes to bytes
//!   that decode to the same message, and that encoding is a fixed point.
//!   A `DecodeError` whose `reply()` is `Some` yields an error message that
//!   encodes and decodes back to itself.
//! - `bencode::Value::decode` does not panic. A decoded value re-encodes
//!   (canonically, dictionary keys sorted) to bytes that decode again:
//!   `Value::decode(&v.to_bytes()) == Ok(v)` when every dictionary of `v`
//!   was sorted in the input (and then the encoding is the input itself);
//!   otherwise the decoder keeps input order by design, so the result equals
//!   `v` with its dictionaries sorted. The encoding is idempotent.

#![no_main]

use kadlab::wire::bencode::Value;
use kadlab::wire::krpc::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_message(data);
    check_bencode(data);
});

fn check_message(data: &[u8]) {
    match Message::decode(data) {
        Ok(message) => {
            let bytes = message.encode();
            let again = Message::decode(&bytes).unwrap_or_else(|e| {
                panic!("re-encoded {} did not decode: {e:?}", bytes.escape_ascii())
            });
            assert_eq!(again, message, "round trip of {}", bytes.escape_ascii());
            assert_eq!(again.encode(), bytes, "encoding is not a fixed point");
        }
        Err(error) => {
            if let Some(reply) = error.reply() {
                let bytes = reply.encode();
                let back = Message::decode(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "reply {} to {error:?} did not decode: {e:?}",
                        bytes.escape_ascii()
                    )
                });
                assert_eq!(back, reply, "reply round trip");
            }
        }
    }
}

fn check_bencode(data: &[u8]) {
    let Ok(value) = Value::decode(data) else {
        return;
    };
    let encoded = value.to_bytes();
    let again = Value::decode(&encoded);
    if is_sorted(&value) {
        assert_eq!(again, Ok(value.clone()), "{}", encoded.escape_ascii());
        assert_eq!(encoded, data, "sorted input is not canonical");
    } else {
        assert_eq!(again, Ok(sorted(&value)), "{}", encoded.escape_ascii());
    }
    assert_eq!(
        again.map(|v| v.to_bytes()),
        Ok(encoded),
        "encoding is not idempotent"
    );
}

/// `value` with every dictionary's entries sorted by key: what the canonical
/// encoding writes.
fn sorted<'a>(value: &Value<'a>) -> Value<'a> {
    match value {
        Value::List(items) => Value::List(items.iter().map(sorted).collect()),
        Value::Dict(entries) => {
            let mut entries: Vec<_> = entries.iter().map(|(k, v)| (*k, sorted(v))).collect();
            entries.sort_by_key(|(k, _)| *k);
            Value::Dict(entries)
        }
        other => other.clone(),
    }
}

fn is_sorted(value: &Value) -> bool {
    match value {
        Value::List(items) => items.iter().all(is_sorted),
        Value::Dict(entries) => {
            entries.windows(2).all(|w| w[0].0 < w[1].0) && entries.iter().all(|(_, v)| is_sorted(v))
        }
        _ => true,
    }
}
