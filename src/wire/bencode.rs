//! A small, strict bencode reader and writer for KRPC datagrams.
//!
//! Why not a crate: KRPC needs a decoder that borrows from the datagram
//! (no copy of every string), refuses ambiguous input (duplicate dictionary
//! keys, `i-0e`, leading zeros, trailing bytes) and has hard bounds on
//! nesting and on how much it allocates for hostile input. The published
//! bencode crates either copy into owned trees, accept duplicate keys, or
//! recurse without a depth limit; this module is about 200 lines and every
//! bound is tested by the decoder property tests.
//!
//! Allocation bound: the decoder allocates one [`Value`] slot per element it
//! has actually read, and every element takes at least two input bytes, so
//! decoding `n` bytes allocates at most a small constant times `n`.

use std::fmt;
use std::io::Write as _;

/// Deepest nesting of lists and dictionaries accepted. KRPC needs 3; the
/// margin tolerates extensions while stopping stack-exhaustion input.
pub const MAX_DEPTH: usize = 16;

/// Most entries accepted in one dictionary. KRPC dictionaries have about
/// ten; the cap keeps the duplicate-key check of out-of-order keys cheap on
/// hostile input.
pub const MAX_DICT_ENTRIES: usize = 256;

/// A decoded bencode value, borrowing its strings from the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// `i<n>e`
    Int(i64),
    /// `<len>:<bytes>`
    Bytes(&'a [u8]),
    /// `l...e`
    List(Vec<Value<'a>>),
    /// `d...e`, in input order; keys are distinct.
    Dict(Vec<(&'a [u8], Value<'a>)>),
}

/// Why bytes are not one well-formed bencode value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BencodeError {
    /// The input ended inside a value.
    #[error("input ends inside a value")]
    Truncated,
    /// A byte that cannot start or continue a value here.
    #[error("unexpected byte {byte:#04x} at offset {at}")]
    Unexpected {
        /// The offending byte.
        byte: u8,
        /// Its offset in the input.
        at: usize,
    },
    /// An integer or length with a leading zero, `-0`, or out of range.
    #[error("malformed number at offset {0}")]
    BadNumber(usize),
    /// A dictionary key that is not a byte string, or appears twice.
    #[error("bad or duplicate dictionary key at offset {0}")]
    BadKey(usize),
    /// A dictionary with more than [`MAX_DICT_ENTRIES`] entries.
    #[error("more than {MAX_DICT_ENTRIES} dictionary entries at offset {0}")]
    TooManyEntries(usize),
    /// Lists and dictionaries nested deeper than [`MAX_DEPTH`].
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Bytes left over after the value.
    #[error("{0} bytes after the value")]
    Trailing(usize),
}

impl<'a> Value<'a> {
    /// Decode exactly one value filling all of `input`.
    pub fn decode(input: &'a [u8]) -> Result<Value<'a>, BencodeError> {
        let mut reader = Reader { input, at: 0 };
        let value = reader.value(0)?;
        match input.len() - reader.at {
            0 => Ok(value),
            rest => Err(BencodeError::Trailing(rest)),
        }
    }

    /// The entry `key` of a dictionary; `None` for other values.
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        match self {
            Value::Dict(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes of a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The number of an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// Append the canonical encoding (dictionary keys sorted) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(n) => {
                // Writing into a Vec cannot fail.
                let _ = write!(out, "i{n}e");
            }
            Value::Bytes(b) => encode_bytes(b, out),
            Value::List(items) => {
                out.push(b'l');
                items.iter().for_each(|item| item.encode(out));
                out.push(b'e');
            }
            Value::Dict(entries) => {
                let mut sorted: Vec<&(&[u8], Value)> = entries.iter().collect();
                sorted.sort_by_key(|(k, _)| *k);
                out.push(b'd');
                for (key, value) in sorted {
                    encode_bytes(key, out);
                    value.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The canonical encoding as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Most KRPC datagrams fit; larger ones grow the buffer once or twice.
        let mut out = Vec::with_capacity(256);
        self.encode(&mut out);
        out
    }
}

impl fmt::Display for Value<'_> {
    /// Bencode with non-printable bytes escaped: for logs of odd datagrams.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bytes().escape_ascii().to_string())
    }
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{}:", bytes.len());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Result<u8, BencodeError> {
        self.input
            .get(self.at)
            .copied()
            .ok_or(BencodeError::Truncated)
    }

    fn unexpected(&self, byte: u8) -> BencodeError {
        BencodeError::Unexpected { byte, at: self.at }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, BencodeError> {
        match self.peek()? {
            b'i' => {
                self.at += 1;
                let n = self.number(b'e')?;
                Ok(Value::Int(n))
            }
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' | b'd' if depth >= MAX_DEPTH => Err(BencodeError::TooDeep),
            b'l' => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.at += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.at += 1;
                let mut entries: Vec<(&[u8], Value)> = Vec::new();
                let mut sorted = true;
                while self.peek()? != b'e' {
                    let key_at = self.at;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(BencodeError::BadKey(key_at));
                    }
                    let key = self.bytes()?;
                    // Keys in order (as every encoder writes them) cannot
                    // repeat one another; once one is out of order, each
                    // key is compared with all before it, and the entry cap
                    // bounds that work.
                    sorted = sorted && entries.last().is_none_or(|(last, _)| *last < key);
                    if !sorted && entries.iter().any(|(k, _)| *k == key) {
                        return Err(BencodeError::BadKey(key_at));
                    }
                    if entries.len() == MAX_DICT_ENTRIES {
                        return Err(BencodeError::TooManyEntries(key_at));
                    }
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                }
                self.at += 1;
                Ok(Value::Dict(entries))
            }
            other => Err(self.unexpected(other)),
        }
    }

    /// A byte string: `<len>:<bytes>`, the length no longer than the input.
    fn bytes(&mut self) -> Result<&'a [u8], BencodeError> {
        let len_at = self.at;
        let len = self.number(b':')?;
        let len = usize::try_from(len).map_err(|_| BencodeError::BadNumber(len_at))?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.input.len())
            .ok_or(BencodeError::Truncated)?;
        let bytes = &self.input[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    /// A decimal number up to `end`, which is consumed: no `+`, no leading
    /// zeros, no `-0`, within `i64`.
    fn number(&mut self, end: u8) -> Result<i64, BencodeError> {
        let start = self.at;
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let digits_at = self.at;
        let mut n: i64 = 0;
        loop {
            let byte = self.peek()?;
            if byte == end {
                break;
            }
            if !byte.is_ascii_digit() {
                return Err(self.unexpected(byte));
            }
            let digit = i64::from(byte - b'0');
            n = n
                .checked_mul(10)
                .and_then(|n| {
                    if negative {
                        n.checked_sub(digit)
                    } else {
                        n.checked_add(digit)
                    }
                })
                .ok_or(BencodeError::BadNumber(start))?;
            self.at += 1;
        }
        let digits = &self.input[digits_at..self.at];
        let malformed = digits.is_empty()
            || (digits.len() > 1 && digits[0] == b'0')
            || (negative && digits == b"0");
        if malformed {
            return Err(BencodeError::BadNumber(start));
        }
        self.at += 1;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_kind() {
        let v = Value::decode(b"d1:ai-42e1:bl3:xyzi0ee1:cd0:0:ee").unwrap();
        assert_eq!(v.get(b"a"), Some(&Value::Int(-42)));
        assert_eq!(
            v.get(b"b"),
            Some(&Value::List(vec![Value::Bytes(b"xyz"), Value::Int(0)]))
        );
        assert_eq!(
            v.get(b"c"),
            Some(&Value::Dict(vec![(&b""[..], Value::Bytes(b""))]))
        );
    }

    #[test]
    fn encoding_sorts_keys_and_round_trips() {
        let v = Value::Dict(vec![(b"z", Value::Int(1)), (b"a", Value::Bytes(b"spam"))]);
        let bytes = v.to_bytes();
        assert_eq!(bytes, b"d1:a4:spam1:zi1ee");
        assert_eq!(Value::decode(&bytes).unwrap().to_bytes(), bytes);
    }

    #[test]
    fn refuses_ambiguous_or_broken_input() {
        let cases: &[(&[u8], BencodeError)] = &[
            (b"", BencodeError::Truncated),
            (b"i01e", BencodeError::BadNumber(1)),
            (b"i-0e", BencodeError::BadNumber(1)),
            (b"ie", BencodeError::BadNumber(1)),
            (b"i99999999999999999999e", BencodeError::BadNumber(1)),
            (b"03:abc", BencodeError::BadNumber(0)),
            (b"-1:a", BencodeError::Unexpected { byte: b'-', at: 0 }),
            (b"5:abc", BencodeError::Truncated),
            (b"99999999999999999999:a", BencodeError::BadNumber(0)),
            (b"d1:ai1e1:ai2ee", BencodeError::BadKey(7)),
            (b"di1ei2ee", BencodeError::BadKey(1)),
            (b"i1ei2e", BencodeError::Trailing(3)),
            (b"l", BencodeError::Truncated),
            (b"x", BencodeError::Unexpected { byte: b'x', at: 0 }),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Value::decode(input),
                Err(*expected),
                "{}",
                input.escape_ascii()
            );
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = [vec![b'l'; MAX_DEPTH + 1], vec![b'e'; MAX_DEPTH + 1]].concat();
        assert_eq!(Value::decode(&deep), Err(BencodeError::TooDeep));
        let ok = [vec![b'l'; MAX_DEPTH], vec![b'e'; MAX_DEPTH]].concat();
        assert!(Value::decode(&ok).is_ok());
    }
}
