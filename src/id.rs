//! 160-bit identifiers and the XOR metric.
//!
//! Node ids and keys share one type, [`NodeId`], because Kademlia puts both in
//! the same space: a key is "stored" at the nodes whose ids are closest to it.
//! Ids are SHA-1 sized (BEP 5), so a kadlab id is a Mainline DHT id.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use sha1::{Digest, Sha1};

/// Length of an id in bytes (160 bits, the size of a SHA-1 digest).
pub const ID_LEN: usize = 20;

/// Number of bits in an id, and so the number of k-buckets in a routing table.
pub const ID_BITS: usize = ID_LEN * 8;

/// A 160-bit node id or key.
///
/// Ordering on `NodeId` itself is only used to break ties and to keep
/// collections deterministic; closeness is always measured with
/// [`NodeId::distance`].
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeId(pub [u8; ID_LEN]);

/// All 20 bytes, fed as three words: a keyed hasher mixes three integers
/// faster than it walks a byte slice (a lookup hashes every id it hears
/// of), and every byte still counts, so ids chosen by a remote peer to
/// share a prefix do not collide.
impl std::hash::Hash for NodeId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let (head, tail) = words(&self.0);
        state.write_u64((head >> 64) as u64);
        state.write_u64(head as u64);
        state.write_u32(tail);
    }
}

/// XOR distance between two ids.
///
/// It orders as the bytes do lexicographically, which for a fixed-width
/// big-endian number is exactly numeric order: that is the whole reason
/// this is a separate type rather than another `NodeId`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Distance(pub [u8; ID_LEN]);

/// The 20 bytes as a big-endian 128-bit head and 32-bit tail: two integer
/// comparisons order them as the bytes do, where the derived byte-wise
/// ordering calls `memcmp` (a fifth of a simulation's time went there).
fn words(bytes: &[u8; ID_LEN]) -> (u128, u32) {
    let mut head = [0u8; 16];
    head.copy_from_slice(&bytes[..16]);
    let mut tail = [0u8; 4];
    tail.copy_from_slice(&bytes[16..]);
    (u128::from_be_bytes(head), u32::from_be_bytes(tail))
}

/// The first 8 of the 20 bytes as a big-endian integer: two random ids
/// (or distances) almost always differ in them, so comparing these first
/// settles most comparisons with one load of each side.
fn head(bytes: &[u8; ID_LEN]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(head)
}

/// `Ord` by [`head`], then where the heads tie by [`words`]: the order of
/// the bytes, consistent with the derived equality.
macro_rules! ordered_as_words {
    ($t:ty) => {
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                head(&self.0)
                    .cmp(&head(&other.0))
                    .then_with(|| words(&self.0).cmp(&words(&other.0)))
            }
        }
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    };
}

ordered_as_words!(NodeId);
ordered_as_words!(Distance);

impl NodeId {
    /// The all-zero id; handy in tests and as an explicit "no id yet".
    pub const ZERO: NodeId = NodeId([0; ID_LEN]);

    /// The first 8 bytes as a big-endian integer. XOR-ed with a target's,
    /// it is the head of their distance, which orders contacts without the
    /// rest of their ids; two random ids almost never share it, so it also
    /// tells most ids apart in one comparison.
    pub(crate) fn head(&self) -> u64 {
        head(&self.0)
    }

    /// Id of arbitrary bytes, as BitTorrent derives info-hashes and BEP 44
    /// targets: the SHA-1 digest of the bytes.
    pub fn from_sha1(bytes: &[u8]) -> NodeId {
        NodeId(Sha1::digest(bytes).into())
    }

    /// Target of a BEP 44 immutable item: SHA-1 of the *bencoded* value
    /// (`<len>:<bytes>`), so any node can check a returned value against the
    /// key it was asked for without trusting the sender.
    pub fn of_immutable_value(value: &[u8]) -> NodeId {
        let mut hasher = Sha1::new();
        hasher.update(value.len().to_string().as_bytes());
        hasher.update(b":");
        hasher.update(value);
        NodeId(hasher.finalize().into())
    }

    /// A uniformly random id drawn from the caller's generator.
    ///
    /// The generator is a parameter (never `thread_rng`) so that a seed fully
    /// determines every id a simulation or test creates.
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> NodeId {
        let mut bytes = [0u8; ID_LEN];
        rng.fill_bytes(&mut bytes);
        NodeId(bytes)
    }

    /// XOR distance to `other`.
    pub fn distance(&self, other: &NodeId) -> Distance {
        // As a 16-byte and a 4-byte word rather than byte by byte: lookups
        // take a distance for every contact of every reply.
        fn xor<const N: usize>(a: &[u8], b: &[u8], out: &mut [u8]) {
            let (mut x, mut y) = ([0u8; N], [0u8; N]);
            x.copy_from_slice(a);
            y.copy_from_slice(b);
            for (x, y) in x.iter_mut().zip(y) {
                *x ^= y;
            }
            out.copy_from_slice(&x);
        }
        let mut out = [0u8; ID_LEN];
        xor::<16>(&self.0[..16], &other.0[..16], &mut out[..16]);
        xor::<4>(&self.0[16..], &other.0[16..], &mut out[16..]);
        Distance(out)
    }

    /// Index of the k-bucket that `other` falls into in a table owned by
    /// `self`: bucket `i` holds ids at distance in `[2^i, 2^(i+1))`.
    /// `None` for `other == self`, which no bucket holds.
    pub fn bucket_index(&self, other: &NodeId) -> Option<usize> {
        self.distance(other).bucket_index()
    }

    /// A random id that falls in bucket `index` of a table owned by `self`,
    /// used to refresh that bucket with a lookup.
    ///
    /// # Panics
    /// If `index >= ID_BITS`; bucket indices come from the table, not from
    /// input.
    pub fn random_in_bucket<R: RngCore + ?Sized>(&self, index: usize, rng: &mut R) -> NodeId {
        assert!(index < ID_BITS, "bucket index {index} out of range");
        let mut d = NodeId::random(rng).0;
        // Distance must have its highest set bit at position `index`
        // (counting from the least significant bit).
        let top = ID_BITS - 1 - index; // bit position counted from the most significant bit
        for bit in 0..top {
            d[bit / 8] &= !(0x80 >> (bit % 8));
        }
        d[top / 8] |= 0x80 >> (top % 8);
        NodeId(self.distance(&NodeId(d)).0)
    }
}

impl Distance {
    /// Number of leading zero bits: the length of the prefix two ids share.
    pub fn leading_zeros(&self) -> u32 {
        let mut zeros = 0;
        for byte in self.0 {
            if byte == 0 {
                zeros += 8;
            } else {
                return zeros + byte.leading_zeros();
            }
        }
        zeros
    }

    /// Whether bit `index` is set, counted from the least significant bit
    /// (the numbering of bucket indices); false past the top.
    pub fn bit(&self, index: usize) -> bool {
        index < ID_BITS && self.0[ID_LEN - 1 - index / 8] & (1 << (index % 8)) != 0
    }

    /// Bucket index for this distance (see [`NodeId::bucket_index`]).
    pub fn bucket_index(&self) -> Option<usize> {
        let lz = self.leading_zeros() as usize;
        (lz < ID_BITS).then(|| ID_BITS - 1 - lz)
    }

    /// Approximate `log2(distance)`, for plots and narration where 160-bit
    /// integers are unreadable. Zero distance gives `0.0`.
    pub fn log2(&self) -> f64 {
        let lz = self.leading_zeros() as usize;
        if lz >= ID_BITS {
            return 0.0;
        }
        // Take up to 64 significant bits starting at the first set bit.
        let mut top: u64 = 0;
        let mut taken = 0;
        for bit in lz..ID_BITS {
            if taken == 64 {
                break;
            }
            let set = self.0[bit / 8] & (0x80 >> (bit % 8)) != 0;
            top = (top << 1) | u64::from(set);
            taken += 1;
        }
        let exponent = (ID_BITS - lz) as f64 - taken as f64;
        (top as f64).log2() + exponent
    }
}

/// Why a string is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    /// Ids are written as exactly 40 hex digits.
    #[error("an id is 40 hex digits (20 bytes), but this one has {0} characters")]
    WrongLength(usize),
    /// Only `0-9`, `a-f` and `A-F` are hex digits.
    #[error("character {ch:?} at position {position} is not a hex digit (0-9, a-f)")]
    NotHex {
        /// Zero-based character position of the offending character.
        position: usize,
        /// The offending character.
        ch: char,
    },
}

/// Why a string is not the hex of some number of bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// Not twice as many characters as there are bytes.
    #[error("{found} characters where {expected} hex digits were wanted")]
    WrongLength {
        /// Hex digits wanted.
        expected: usize,
        /// Characters given.
        found: usize,
    },
    /// Only `0-9`, `a-f` and `A-F` are hex digits.
    #[error("character {ch:?} at position {position} is not a hex digit (0-9, a-f)")]
    NotHex {
        /// Zero-based character position of the offending character.
        position: usize,
        /// The offending character.
        ch: char,
    },
}

/// `N` bytes written as `2N` hex digits, in either case: ids, and the
/// 32-byte keys and seeds of BEP 44.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != N * 2 {
        return Err(HexError::WrongLength {
            expected: N * 2,
            found: chars.len(),
        });
    }
    let mut out = [0u8; N];
    for (i, pair) in chars.chunks(2).enumerate() {
        let mut byte = 0u8;
        for (j, &ch) in pair.iter().enumerate() {
            let nibble = ch.to_digit(16).ok_or(HexError::NotHex {
                position: i * 2 + j,
                ch,
            })?;
            byte = (byte << 4) | nibble as u8;
        }
        out[i] = byte;
    }
    Ok(out)
}

/// `bytes` as lowercase hex, as ids are written.
pub fn hex(bytes: &[u8]) -> String {
    struct Hex<'a>(&'a [u8]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_hex(f, self.0)
        }
    }
    Hex(bytes).to_string()
}

impl FromStr for NodeId {
    type Err = IdParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        from_hex(s).map(NodeId).map_err(|e| match e {
            HexError::WrongLength { found, .. } => IdParseError::WrongLength(found),
            HexError::NotHex { position, ch } => IdParseError::NotHex { position, ch },
        })
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

/// Ids serialize as their 40-digit hex, as they print: a JSON record
/// holds what a user would paste into `kadlab trace --target`. Records keep
/// the 20 bytes and are only formatted when they are written.
impl serde::Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Eight hex digits tell ids apart in logs without drowning them.
        write_hex(f, &self.0[..4])?;
        f.write_str("…")
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "2^{:.1}", self.log2())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn id_with_first(byte: u8) -> NodeId {
        let mut b = [0u8; ID_LEN];
        b[0] = byte;
        NodeId(b)
    }

    #[test]
    fn ids_and_distances_order_and_compare_as_their_bytes() {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        for i in 0..5_000 {
            let a = NodeId::random(&mut rng);
            // Ids that differ in one byte only, anywhere (the tail too).
            let mut b = a;
            b.0[i % ID_LEN] = rand::Rng::gen(&mut rng);
            for (x, y) in [(a, b), (b, a), (a, a), (a, NodeId::random(&mut rng))] {
                let xor: [u8; ID_LEN] = std::array::from_fn(|i| x.0[i] ^ y.0[i]);
                assert_eq!(x.distance(&y).0, xor);
                assert_eq!(x.cmp(&y), x.0.cmp(&y.0));
                assert_eq!(x == y, x.0 == y.0);
                let (dx, dy) = (x.distance(&a), y.distance(&b));
                assert_eq!(dx.cmp(&dy), dx.0.cmp(&dy.0));
                assert_eq!(dx == dy, dx.0 == dy.0);
            }
        }
    }

    #[test]
    fn distance_orders_as_big_endian_integer() {
        let a = NodeId::ZERO;
        let near = {
            let mut b = [0u8; ID_LEN];
            b[ID_LEN - 1] = 0xff;
            NodeId(b)
        };
        let far = id_with_first(0x01);
        assert!(a.distance(&near) < a.distance(&far));
        assert_eq!(a.distance(&a), Distance::default());
    }

    #[test]
    fn bucket_index_follows_leading_zeros() {
        let a = NodeId::ZERO;
        assert_eq!(a.bucket_index(&a), None);
        assert_eq!(a.bucket_index(&id_with_first(0x80)), Some(159));
        assert_eq!(a.bucket_index(&id_with_first(0x01)), Some(152));
        let mut last = [0u8; ID_LEN];
        last[ID_LEN - 1] = 1;
        assert_eq!(a.bucket_index(&NodeId(last)), Some(0));
    }

    #[test]
    fn random_in_bucket_lands_in_that_bucket() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let me = NodeId::random(&mut rng);
        for index in [0, 1, 7, 8, 100, 158, 159] {
            for _ in 0..20 {
                let id = me.random_in_bucket(index, &mut rng);
                assert_eq!(me.bucket_index(&id), Some(index));
            }
        }
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let id: NodeId = "e5f96f6f38320f0f33959cb4d3d656452117aadb".parse().unwrap();
        assert_eq!(id.to_string(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
        assert_eq!("abc".parse::<NodeId>(), Err(IdParseError::WrongLength(3)));
        assert_eq!(
            "g5f96f6f38320f0f33959cb4d3d656452117aadb".parse::<NodeId>(),
            Err(IdParseError::NotHex {
                position: 0,
                ch: 'g'
            })
        );
        let upper: NodeId = "E5F96F6F38320F0F33959CB4D3D656452117AADB".parse().unwrap();
        assert_eq!(upper, id);
    }

    #[test]
    fn immutable_target_matches_bep44_vector() {
        let id = NodeId::of_immutable_value(b"Hello World!");
        assert_eq!(id.to_string(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
        assert_eq!(id, NodeId::from_sha1(b"12:Hello World!"));
    }

    #[test]
    fn random_is_determined_by_seed() {
        let a = NodeId::random(&mut ChaCha8Rng::seed_from_u64(1));
        let b = NodeId::random(&mut ChaCha8Rng::seed_from_u64(1));
        let c = NodeId::random(&mut ChaCha8Rng::seed_from_u64(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn log2_is_monotonic_and_exact_on_powers() {
        let one = {
            let mut b = [0u8; ID_LEN];
            b[ID_LEN - 1] = 1;
            Distance(b)
        };
        assert_eq!(one.log2(), 0.0);
        assert_eq!(Distance(id_with_first(0x80).0).log2(), 159.0);
        assert!(Distance(id_with_first(0x40).0).log2() < Distance(id_with_first(0x41).0).log2());
    }
}
