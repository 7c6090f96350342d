//! BEP 44 mutable items: values signed with an ed25519 key, stored under
//! SHA-1 of the public key and an optional salt, and replaced only by a
//! higher sequence number.
//!
//! Anyone can check an item without trusting whoever sent it: the target
//! must be SHA-1(key + salt), and the signature must verify over the salt,
//! the sequence number and the value, bencoded as the BEP spells out. This
//! module is that check and its inverse (signing); storing and serving are
//! [`Storage`](super::Storage)'s and [`Server`](super::Server)'s.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha1::{Digest, Sha1};

use crate::id::{hex, NodeId};

/// The longest salt BEP 44 allows, in bytes.
pub const MAX_SALT_LEN: usize = 64;

/// A signed, versioned value.
#[derive(Clone, PartialEq, Eq)]
pub struct MutableItem {
    /// The ed25519 public key that signed it (`k`).
    pub key: [u8; 32],
    /// The salt (`salt`), empty for none; part of the target, so one key
    /// can hold many items.
    pub salt: Vec<u8>,
    /// The sequence number (`seq`): a higher one replaces a lower one.
    pub seq: i64,
    /// The value, a byte string on the wire (`v`).
    pub value: Vec<u8>,
    /// The signature (`sig`) over [`signed_bytes`].
    pub signature: [u8; 64],
}

impl std::fmt::Debug for MutableItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutableItem")
            .field("key", &hex(&self.key))
            .field("salt", &String::from_utf8_lossy(&self.salt))
            .field("seq", &self.seq)
            .field("value", &String::from_utf8_lossy(&self.value))
            .finish_non_exhaustive()
    }
}

/// The target a mutable item is stored under: SHA-1 of its public key
/// followed by its salt.
pub fn target_of(key: &[u8; 32], salt: &[u8]) -> NodeId {
    let mut hasher = Sha1::new();
    hasher.update(key);
    hasher.update(salt);
    NodeId(hasher.finalize().into())
}

/// What the signature covers: `4:salt<len>:<salt>` (only with a salt),
/// `3:seqi<seq>e`, `1:v<len>:<value>`, as BEP 44 writes it (the value is a
/// bencoded byte string).
pub fn signed_bytes(salt: &[u8], seq: i64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + salt.len() + value.len());
    if !salt.is_empty() {
        out.extend_from_slice(format!("4:salt{}:", salt.len()).as_bytes());
        out.extend_from_slice(salt);
    }
    out.extend_from_slice(format!("3:seqi{seq}e1:v{}:", value.len()).as_bytes());
    out.extend_from_slice(value);
    out
}

impl MutableItem {
    /// Sign `value` as sequence number `seq` under `salt` with the key
    /// whose 32-byte secret seed is `seed`.
    pub fn sign(seed: &[u8; 32], salt: &[u8], seq: i64, value: &[u8]) -> MutableItem {
        let key = SigningKey::from_bytes(seed);
        let signature = key.sign(&signed_bytes(salt, seq, value)).to_bytes();
        MutableItem {
            key: key.verifying_key().to_bytes(),
            salt: salt.to_vec(),
            seq,
            value: value.to_vec(),
            signature,
        }
    }

    /// Where the item is stored.
    pub fn target(&self) -> NodeId {
        target_of(&self.key, &self.salt)
    }

    /// Whether the signature verifies for the key over the salt, sequence
    /// number and value. A key that is not a curve point fails too.
    pub fn verifies(&self) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.key) else {
            return false;
        };
        key.verify(
            &signed_bytes(&self.salt, self.seq, &self.value),
            &Signature::from_bytes(&self.signature),
        )
        .is_ok()
    }
}

/// The public key of the 32-byte secret seed `seed`.
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<const N: usize>(hex: &str) -> [u8; N] {
        crate::id::from_hex(hex).unwrap()
    }

    const KEY: &str = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548";

    /// BEP 44's test vectors: "Hello World!" as seq 1, without a salt and
    /// with the salt "foobar", each with its signature and target.
    #[test]
    fn the_bep44_vectors_verify_and_give_their_targets() {
        let vectors = [
            (
                "",
                "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
                "4a533d47ec9c7d95b1ad75f576cffc641853b750",
            ),
            (
                "foobar",
                "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
                "411eba73b6f087ca51a3795d9c8c938d365e32c1",
            ),
        ];
        for (salt, signature, target) in vectors {
            let item = MutableItem {
                key: bytes(KEY),
                salt: salt.as_bytes().to_vec(),
                seq: 1,
                value: b"Hello World!".to_vec(),
                signature: bytes(signature),
            };
            assert!(item.verifies(), "salt {salt:?}");
            assert_eq!(item.target().to_string(), target);
            // Any change breaks the signature.
            let mut other = item.clone();
            other.seq = 2;
            assert!(!other.verifies());
            let mut other = item.clone();
            other.value = b"Hello World?".to_vec();
            assert!(!other.verifies());
            let mut other = item.clone();
            other.salt = b"foobaz".to_vec();
            assert!(!other.verifies());
        }
        assert_eq!(
            signed_bytes(b"foobar", 1, b"Hello World!"),
            b"4:salt6:foobar3:seqi1e1:v12:Hello World!".to_vec()
        );
    }

    #[test]
    fn a_signed_item_verifies_and_names_its_target() {
        let seed = [7u8; 32];
        let item = MutableItem::sign(&seed, b"s", 5, b"value");
        assert!(item.verifies());
        assert_eq!(item.key, public_key(&seed));
        assert_eq!(item.target(), target_of(&public_key(&seed), b"s"));
        assert_ne!(item.target(), target_of(&public_key(&seed), b""));
    }
}
