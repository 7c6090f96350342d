//! Property tests of the bencode and KRPC decoders against hostile input.
//!
//! - No input makes `bencode::Value::decode` or `krpc::Message::decode`
//!   panic: arbitrary bytes, bytes drawn from bencode's own alphabet, and
//!   valid datagrams with bytes flipped, inserted, deleted, truncated or
//!   duplicated.
//! - Decoding `n` bytes allocates at most `64 n + 1024` bytes, measured by
//!   a counting global allocator in this test binary (see
//!   [`allocation_bound`] for why that bound holds), including the worst
//!   shapes: nesting up to `MAX_DEPTH`, long lists of the smallest element,
//!   dictionaries of many tiny keys, and lengths that claim gigabytes.
//! - Bencode round-trips canonically: a decoded value re-encodes to bytes
//!   that decode to the same value, byte-identical to the input when its
//!   dictionaries were sorted; a decoded KRPC message re-encodes to a fixed
//!   point.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use kadlab::contact::Contact;
use kadlab::id::NodeId;
use kadlab::protocol::MutableItem;
use kadlab::wire::bencode::{BencodeError, Value, MAX_DEPTH, MAX_DICT_ENTRIES};
use kadlab::wire::krpc::{
    Body, KrpcError, Malformed, Message, Method, MutableFields, Query, ResponseBody,
    ERROR_METHOD_UNKNOWN, ERROR_PROTOCOL,
};
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------

/// Forwards to the system allocator and adds every requested size to a
/// per-thread counter. `realloc` counts the whole new size (not the growth),
/// so a `Vec` growing 4 → 8 → 16 slots counts 4 + 8 + 16: the total the
/// decoder asked for, an upper bound on what it held at any moment.
///
/// Per thread, because the test harness runs tests on parallel threads and
/// proptest runs every case of a test on that test's thread.
struct CountingAllocator;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn record(bytes: usize) {
    // `try_with`: allocations during thread teardown are simply not counted.
    let _ = ALLOCATED.try_with(|total| total.set(total.get().saturating_add(bytes)));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the counter is a thread-local `Cell` with a const initializer,
// so touching it never allocates nor re-enters the allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the bytes this thread allocated
/// while it ran (the result's drop is not inside the window, nor counted
/// anyway: frees are free).
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    let after = ALLOCATED.with(Cell::get);
    (out, after - before)
}

/// The most decoding `n` input bytes may allocate, in total.
///
/// Why `64 n` suffices:
///
/// - Every element of a list or dictionary consumes at least 2 input bytes
///   of its own (`0:`, `le`, `de`; `i0e` is 3), disjoint from its siblings'
///   and its parent's bytes; a dictionary entry consumes at least 4 (key
///   `0:` and value).
/// - An element costs one slot in its parent's `Vec`: `size_of::<Value>()`
///   (32 bytes on 64-bit targets) for a list item, 16 + 32 = 48 for a
///   dictionary entry.
/// - A `Vec` that grows by doubling from 4 slots requests 4 + 8 + … + C
///   < 2 C slots in total, and C < 2 len (C = 4 when len ≤ 4), so fewer
///   than 4 slots per element: 4 × 32 = 128 bytes per list item (64 per
///   input byte), 4 × 48 = 192 per dictionary entry (48 per input byte).
/// - `Message::decode` adds copies of byte strings it keeps (at most the
///   string's own length, ×3 for the lossy UTF-8 of an error message, plus
///   growth), contacts (a 26-byte `Contact` per 26 input bytes) and peer
///   addresses (6 bytes per 8 input bytes): each a small fraction of the
///   64 bytes per input byte its element is allowed, on top of the 128
///   bytes of its slot (128 + c·L ≤ 64 (L + 2) for c ≤ 64).
///
/// The worst case is a list of empty strings, `l0:0:…e`, which reaches
/// about 64 n just after its `Vec` doubles (checked below); the 1024 covers
/// fixed costs of tiny inputs. A regression that stores more per element
/// (a bigger `Value`, a copy of every string, an up-front allocation sized
/// from a claimed length) breaks the bound.
fn allocation_bound(n: usize) -> usize {
    64 * n + 1024
}

fn assert_bounded_bencode(input: &[u8]) -> usize {
    let (result, bytes) = allocated_by(|| Value::decode(input));
    drop(result);
    assert!(
        bytes <= allocation_bound(input.len()),
        "Value::decode of {} bytes allocated {bytes} bytes (bound {})",
        input.len(),
        allocation_bound(input.len())
    );
    bytes
}

fn assert_bounded_krpc(input: &[u8]) -> usize {
    let (result, bytes) = allocated_by(|| Message::decode(input));
    drop(result);
    assert!(
        bytes <= allocation_bound(input.len()),
        "Message::decode of {} bytes allocated {bytes} bytes (bound {})",
        input.len(),
        allocation_bound(input.len())
    );
    bytes
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn node_id() -> impl Strategy<Value = NodeId> {
    any::<[u8; 20]>().prop_map(NodeId)
}

/// Addresses that survive decoding (not 0.0.0.0, not port 0).
fn routable_addr() -> impl Strategy<Value = SocketAddrV4> {
    (1u32.., 1u16..).prop_map(|(ip, port)| SocketAddrV4::new(Ipv4Addr::from(ip), port))
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..=max)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Ping),
        node_id().prop_map(|target| Method::FindNode { target }),
        node_id().prop_map(|info_hash| Method::GetPeers { info_hash }),
        (node_id(), any::<u16>(), any::<bool>(), bytes(12)).prop_map(
            |(info_hash, port, implied_port, token)| Method::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            }
        ),
        node_id().prop_map(|target| Method::Get { target }),
        (bytes(64), bytes(12), proptest::option::of(node_id())).prop_map(
            |(value, token, target)| Method::Put {
                value,
                token,
                target,
            }
        ),
        (
            any::<[u8; 32]>(),
            bytes(64),
            any::<i64>(),
            bytes(64),
            bytes(12),
            proptest::option::of(any::<i64>()),
        )
            .prop_map(|(seed, salt, seq, value, token, cas)| Method::PutMutable {
                item: MutableItem::sign(&seed, &salt, seq, &value),
                token,
                cas,
            }),
    ]
}

fn mutable_fields() -> impl Strategy<Value = MutableFields> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<i64>(),
    )
        .prop_map(|(key, sig_a, sig_b, seq)| {
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&sig_a);
            signature[32..].copy_from_slice(&sig_b);
            MutableFields {
                key,
                signature,
                seq,
            }
        })
}

fn body() -> impl Strategy<Value = Body> {
    let contact = (node_id(), routable_addr()).prop_map(|(id, addr)| Contact::new(id, addr));
    prop_oneof![
        (node_id(), method()).prop_map(|(id, method)| Body::Query(Query { id, method })),
        (
            node_id(),
            proptest::collection::vec(contact, 0..8),
            proptest::collection::vec(routable_addr(), 0..8),
            proptest::option::of(bytes(12)),
            proptest::option::of(bytes(64)),
            proptest::option::of(mutable_fields()),
        )
            .prop_map(|(id, nodes, values, token, value, mutable)| {
                Body::Response(ResponseBody {
                    id,
                    nodes,
                    values,
                    token,
                    value,
                    mutable,
                })
            }),
        (any::<i64>(), "\\PC{0,24}")
            .prop_map(|(code, message)| Body::Error(KrpcError { code, message })),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (
        proptest::collection::vec(any::<u8>(), 1..=16),
        proptest::option::of(bytes(6)),
        any::<bool>(),
        proptest::option::of(routable_addr()),
        body(),
    )
        .prop_map(
            |(transaction, version, read_only, requester, body)| Message {
                transaction,
                version,
                read_only,
                requester,
                body,
            },
        )
}

/// An owned bencode tree, written by this test's own encoder (not the
/// crate's), in the dictionary order it was generated in.
#[derive(Clone, Debug)]
enum Tree {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Tree>),
    Dict(Vec<(Vec<u8>, Tree)>),
}

impl Tree {
    fn write(&self, out: &mut Vec<u8>) {
        fn string(b: &[u8], out: &mut Vec<u8>) {
            out.extend_from_slice(format!("{}:", b.len()).as_bytes());
            out.extend_from_slice(b);
        }
        match self {
            Tree::Int(n) => out.extend_from_slice(format!("i{n}e").as_bytes()),
            Tree::Bytes(b) => string(b, out),
            Tree::List(items) => {
                out.push(b'l');
                items.iter().for_each(|t| t.write(out));
                out.push(b'e');
            }
            Tree::Dict(entries) => {
                out.push(b'd');
                for (k, v) in entries {
                    string(k, out);
                    v.write(out);
                }
                out.push(b'e');
            }
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Whether `value` is this tree, dictionary order included.
    fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Tree::Int(a), Value::Int(b)) => a == b,
            (Tree::Bytes(a), Value::Bytes(b)) => a == b,
            (Tree::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(t, v)| t.matches(v))
            }
            (Tree::Dict(a), Value::Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((tk, tv), (vk, vv))| tk == vk && tv.matches(vv))
            }
            _ => false,
        }
    }
}

/// Trees with distinct keys per dictionary, dictionaries either sorted or
/// shuffled, at most 5 levels deep (the `MAX_DEPTH` edge has its own test).
fn tree(sorted: bool) -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Tree::Int),
        (-3i64..300).prop_map(Tree::Int),
        bytes(8).prop_map(Tree::Bytes),
    ];
    leaf.prop_recursive(5, 96, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Tree::List),
            proptest::collection::btree_map(bytes(3), inner, 0..8)
                .prop_map(|map: BTreeMap<Vec<u8>, Tree>| map.into_iter().collect::<Vec<_>>())
                .prop_flat_map(move |entries| {
                    if sorted {
                        Just(entries).boxed()
                    } else {
                        Just(entries).prop_shuffle().boxed()
                    }
                })
                .prop_map(Tree::Dict),
        ]
    })
}

/// One edit of a byte string; positions are resolved against its length
/// when applied.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
    /// Copy `len` bytes from `from` and insert them at `to`.
    Duplicate {
        from: Index,
        len: usize,
        to: Index,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to bencode are likelier than others.
    let byte = prop_oneof![
        any::<u8>(),
        proptest::sample::select(b"ilde0123456789:-".to_vec()),
    ];
    prop_oneof![
        (any::<Index>(), 1u8..).prop_map(|(at, x)| Mutation::Flip(at, x)),
        (any::<Index>(), byte.clone()).prop_map(|(at, b)| Mutation::Set(at, b)),
        (any::<Index>(), byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..64, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
    ]
}

fn apply(mutation: &Mutation, data: &mut Vec<u8>) {
    let n = data.len();
    match mutation {
        Mutation::Flip(at, x) if n > 0 => data[at.index(n)] ^= x,
        Mutation::Set(at, b) if n > 0 => data[at.index(n)] = *b,
        Mutation::Insert(at, b) => data.insert(at.index(n + 1), *b),
        Mutation::Delete(at) if n > 0 => {
            data.remove(at.index(n));
        }
        Mutation::Truncate(at) => data.truncate(at.index(n + 1)),
        Mutation::Duplicate { from, len, to } if n > 0 => {
            let start = from.index(n);
            let end = (start + len).min(n);
            let copy = data[start..end].to_vec();
            let at = to.index(n + 1);
            data.splice(at..at, copy);
        }
        _ => {}
    }
}

/// Hand-written datagrams (BEP 5 / BEP 44 shapes) to mutate besides the
/// generated ones.
const SEEDS: &[&[u8]] = &[
    b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
    b"d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
    b"d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
    b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
    b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
    b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
    b"d1:ad2:id20:abcdefghij01234567895:token4:tok11:v12:Hello World!e1:q3:put1:t2:aa1:y1:qe",
    b"d2:ip6:\x7f\x00\x00\x01\x99\xa51:rd2:id20:mnopqrstuvwxyz1234565:nodes26:abcdefghij0123456789\x7f\x00\x00\x01\x1a\xe15:token4:tok11:v12:Hello World!e2:roi0e1:t4:aa\x00\x081:v4:RS\x00\x051:y1:re",
];

/// Valid encodings: generated messages, seeds, and generated bencode trees.
fn valid_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => message().prop_map(|m| m.encode()),
        2 => proptest::sample::select(SEEDS).prop_map(<[u8]>::to_vec),
        1 => tree(true).prop_map(|t| t.to_bytes()),
        1 => tree(false).prop_map(|t| t.to_bytes()),
    ]
}

fn mutated_input() -> impl Strategy<Value = Vec<u8>> {
    (valid_input(), proptest::collection::vec(mutation(), 1..5)).prop_map(
        |(mut data, mutations)| {
            for m in &mutations {
                apply(m, &mut data);
            }
            data
        },
    )
}

/// Everything the decoders are thrown: arbitrary bytes, bytes from the
/// bencode alphabet (which get much deeper into the parser), valid and
/// mutated encodings.
fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..2048),
        2 => proptest::collection::vec(
            proptest::sample::select(b"ilde0123456789:-".to_vec()),
            0..2048
        ),
        1 => valid_input(),
        3 => mutated_input(),
    ]
}

// ---------------------------------------------------------------------------
// Canonical order
// ---------------------------------------------------------------------------

/// `value` with every dictionary's entries sorted by key, which is what the
/// canonical encoding writes.
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

/// The canonical round trip for any input that decodes.
fn check_canonical(input: &[u8]) {
    let Ok(value) = Value::decode(input) else {
        return;
    };
    let encoded = value.to_bytes();
    let again = Value::decode(&encoded).expect("the canonical encoding decodes");
    if is_sorted(&value) {
        // The decoder refuses every other ambiguity (leading zeros, -0,
        // duplicate keys, trailing bytes), so sorted input is canonical.
        assert_eq!(again, value);
        assert_eq!(encoded, input);
    } else {
        assert_eq!(again, sorted(&value));
    }
    assert_eq!(again.to_bytes(), encoded, "encoding is not idempotent");
}

/// A decoded message re-encodes to bytes that decode to the same message,
/// and a decoding error's reply (if any) is a well-formed error.
fn check_message(input: &[u8]) {
    match Message::decode(input) {
        Ok(message) => {
            let encoded = message.encode();
            let again = Message::decode(&encoded).expect("a re-encoded message decodes");
            assert_eq!(again, message);
            assert_eq!(again.encode(), encoded);
        }
        Err(err) => {
            if let Some(reply) = err.reply() {
                assert!(err.query);
                assert_eq!(Some(&reply.transaction), err.transaction.as_ref());
                let Ok(Message {
                    body: Body::Error(KrpcError { code, .. }),
                    ..
                }) = Message::decode(&reply.encode())
                else {
                    panic!("the reply to {err:?} does not decode as an error");
                };
                let expected = if err.reason == Malformed::UnknownMethod {
                    ERROR_METHOD_UNKNOWN
                } else {
                    ERROR_PROTOCOL
                };
                assert_eq!(code, expected);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Value::decode(&input);
        let _ = Message::decode(&input);
    }

    #[test]
    fn bencode_alphabet_never_panics(
        input in proptest::collection::vec(
            proptest::sample::select(b"ilde0123456789:-".to_vec()),
            0..2048,
        )
    ) {
        let _ = Value::decode(&input);
        let _ = Message::decode(&input);
    }

    #[test]
    fn mutated_messages_never_panic(input in mutated_input()) {
        let _ = Value::decode(&input);
        let _ = Message::decode(&input);
        check_message(&input);
    }

    #[test]
    fn decoding_allocates_at_most_64_bytes_per_input_byte(input in any_input()) {
        assert_bounded_bencode(&input);
        assert_bounded_krpc(&input);
    }

    #[test]
    fn decoded_bencode_round_trips_canonically(input in any_input()) {
        check_canonical(&input);
    }

    #[test]
    fn generated_trees_decode_and_round_trip(t in tree(true)) {
        let bytes = t.to_bytes();
        let value = Value::decode(&bytes).expect("a generated tree decodes");
        prop_assert!(t.matches(&value));
        prop_assert_eq!(value.to_bytes(), bytes);
    }

    #[test]
    fn unsorted_trees_decode_in_input_order_and_encode_sorted(t in tree(false)) {
        let bytes = t.to_bytes();
        let value = Value::decode(&bytes).expect("a generated tree decodes");
        prop_assert!(t.matches(&value));
        check_canonical(&bytes);
    }

    #[test]
    fn messages_round_trip(m in message()) {
        let bytes = m.encode();
        let back = Message::decode(&bytes).expect("an encoded message decodes");
        prop_assert_eq!(&back, &m);
        check_canonical(&bytes);
        assert_bounded_krpc(&bytes);
    }
}

// ---------------------------------------------------------------------------
// Worst cases, explicitly
// ---------------------------------------------------------------------------

fn repeat(part: &[u8], times: usize) -> Vec<u8> {
    part.repeat(times)
}

fn wrap(open: &[u8], middle: &[u8], close: &[u8]) -> Vec<u8> {
    [open, middle, close].concat()
}

/// A KRPC-shaped datagram carrying `extra` as the value of an unknown
/// top-level key, so the whole message is decoded as bencode first.
fn in_message(extra: &[u8]) -> Vec<u8> {
    wrap(
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:x",
        extra,
        b"1:y1:qe",
    )
}

#[test]
fn value_is_no_bigger_than_the_bound_assumes() {
    // The bound's arithmetic assumes 32-byte values; a bigger Value needs a
    // new justification, not a silently larger constant.
    assert!(
        std::mem::size_of::<Value>() <= 32,
        "{}",
        std::mem::size_of::<Value>()
    );
}

#[test]
fn nesting_up_to_max_depth() {
    for depth in 1..=MAX_DEPTH {
        for inner in [&b""[..], b"0:", b"i0e", b"0:0:0:0:0:"] {
            let lists = wrap(&repeat(b"l", depth), inner, &repeat(b"e", depth));
            assert!(Value::decode(&lists).is_ok());
            assert_bounded_bencode(&lists);
            let dicts = wrap(&repeat(b"d0:", depth), b"0:", &repeat(b"e", depth));
            assert!(Value::decode(&dicts).is_ok());
            assert_bounded_bencode(&dicts);
        }
    }
    // One level more is refused, inside a message too (where the root dict
    // is level 1).
    let too_deep = wrap(
        &repeat(b"l", MAX_DEPTH + 1),
        b"0:",
        &repeat(b"e", MAX_DEPTH + 1),
    );
    assert_eq!(Value::decode(&too_deep), Err(BencodeError::TooDeep));
    assert_bounded_bencode(&too_deep);
    let deepest_in_message = in_message(&wrap(
        &repeat(b"l", MAX_DEPTH - 1),
        b"0:",
        &repeat(b"e", MAX_DEPTH - 1),
    ));
    assert!(Message::decode(&deepest_in_message).is_ok());
    assert_bounded_krpc(&deepest_in_message);
    let too_deep_in_message = in_message(&wrap(
        &repeat(b"l", MAX_DEPTH),
        b"0:",
        &repeat(b"e", MAX_DEPTH),
    ));
    assert_eq!(
        Message::decode(&too_deep_in_message).unwrap_err().reason,
        Malformed::Bencode(BencodeError::TooDeep)
    );
    // Unbalanced nesting far past the limit stops at the limit.
    let hostile = repeat(b"l", 60_000);
    assert_eq!(Value::decode(&hostile), Err(BencodeError::TooDeep));
    assert_bounded_bencode(&hostile);
}

#[test]
fn long_lists_of_tiny_elements() {
    // `i0e` (3 bytes) and `0:` (2 bytes, the smallest element), with counts
    // just past a doubling of the Vec, where the ratio peaks.
    let mut worst_ratio = 0.0f64;
    for count in [1, 4, 5, 1025, 4097, 16_385, 32_000] {
        for element in [&b"i0e"[..], b"0:", b"le", b"de"] {
            let list = wrap(b"l", &repeat(element, count), b"e");
            assert!(Value::decode(&list).is_ok());
            let bytes = assert_bounded_bencode(&list);
            worst_ratio = worst_ratio.max(bytes as f64 / list.len() as f64);
            let message = in_message(&list);
            assert!(Message::decode(&message).is_ok());
            assert_bounded_krpc(&message);
        }
    }
    // The bound is tight: this shape gets within a few percent of it.
    assert!(worst_ratio > 55.0, "worst ratio {worst_ratio}");
    // A truncated long list (the error path) is bounded too.
    let truncated = wrap(b"l", &repeat(b"0:", 20_000), b"");
    assert_eq!(Value::decode(&truncated), Err(BencodeError::Truncated));
    assert_bounded_bencode(&truncated);
    assert_bounded_krpc(&truncated);
}

/// `count` distinct keys, each as short as possible (the empty key, the
/// 256 one-byte keys, then two-byte keys), in sorted order.
fn tiny_keys(count: usize) -> Vec<Vec<u8>> {
    let mut keys = vec![Vec::new()];
    keys.extend((0..=255u8).map(|b| vec![b]));
    keys.extend((0..=u16::MAX).map(|k| k.to_be_bytes().to_vec()));
    keys.truncate(count);
    keys.sort();
    keys
}

fn dict_of(keys: &[Vec<u8>], value: &[u8]) -> Vec<u8> {
    let mut out = vec![b'd'];
    for key in keys {
        out.extend_from_slice(format!("{}:", key.len()).as_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(value);
    }
    out.push(b'e');
    out
}

#[test]
fn dicts_of_many_tiny_keys() {
    for count in [1, 5, 200, MAX_DICT_ENTRIES] {
        let keys = tiny_keys(count);
        for value in [&b"0:"[..], b"i0e", b"le"] {
            let dict = dict_of(&keys, value);
            let decoded = Value::decode(&dict).expect("distinct keys decode");
            assert!(is_sorted(&decoded));
            assert_eq!(decoded.to_bytes(), dict);
            assert_bounded_bencode(&dict);
            let message = in_message(&dict);
            assert!(Message::decode(&message).is_ok());
            assert_bounded_krpc(&message);
        }
    }
    // Past the cap, dictionaries are refused (this keeps the duplicate-key
    // check cheap), still within the allocation bound.
    for count in [MAX_DICT_ENTRIES + 1, 1025, 3000, 10_000] {
        let dict = dict_of(&tiny_keys(count), b"0:");
        assert!(matches!(
            Value::decode(&dict),
            Err(BencodeError::TooManyEntries(_))
        ));
        assert_bounded_bencode(&dict);
        assert_bounded_krpc(&in_message(&dict));
    }
    // A duplicate at the very end is found, in order or not.
    let mut keys = tiny_keys(200);
    keys.push(keys[100].clone());
    let dup = dict_of(&keys, b"0:");
    assert!(matches!(Value::decode(&dup), Err(BencodeError::BadKey(_))));
    assert_bounded_bencode(&dup);
    let mut reversed = tiny_keys(200);
    reversed.reverse();
    reversed.push(reversed[0].clone());
    let dup = dict_of(&reversed, b"0:");
    assert!(matches!(Value::decode(&dup), Err(BencodeError::BadKey(_))));
}

#[test]
fn huge_claimed_lengths_allocate_nothing() {
    let cases: &[(&[u8], BencodeError)] = &[
        (b"4294967295:x", BencodeError::Truncated),
        (b"9223372036854775807:x", BencodeError::Truncated),
        (b"9223372036854775808:x", BencodeError::BadNumber(0)),
        (b"18446744073709551615:x", BencodeError::BadNumber(0)),
        (b"l4294967295:xe", BencodeError::Truncated),
        (b"d4294967295:xe", BencodeError::Truncated),
        (b"d1:a4294967295:xe", BencodeError::Truncated),
    ];
    for (input, expected) in cases {
        let (result, bytes) = allocated_by(|| Value::decode(input));
        assert_eq!(result, Err(*expected), "{}", input.escape_ascii());
        assert_eq!(bytes, 0, "{}", input.escape_ascii());
    }
    // In a message: the transaction, the id, the version claiming 4 GB.
    for input in [
        &b"d1:t4294967295:xe"[..],
        b"d1:ad2:id4294967295:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:v4294967295:KL1:y1:qe",
    ] {
        let (result, bytes) = allocated_by(|| Message::decode(input));
        assert_eq!(
            result.unwrap_err().reason,
            Malformed::Bencode(BencodeError::Truncated)
        );
        assert!(bytes <= allocation_bound(input.len()), "{bytes}");
    }
}

#[test]
fn largest_datagram_stays_bounded() {
    // A full-size UDP datagram (65 507 bytes) of the worst shape, inside a
    // message.
    let filler = 65_507 - in_message(b"le").len();
    let list = wrap(b"l", &repeat(b"0:", filler / 2), b"e");
    let message = in_message(&list);
    assert!(message.len() <= 65_507);
    assert!(Message::decode(&message).is_ok());
    let bytes = assert_bounded_krpc(&message);
    assert!(bytes > 16 * message.len(), "{bytes}");
}
