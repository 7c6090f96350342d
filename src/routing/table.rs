//! The routing table: 160 k-buckets, updated by the Kademlia rule.

use std::time::Duration;

use crate::contact::Contact;
use crate::id::{NodeId, ID_BITS};
use crate::routing::book::{Book, Directory, Slot};
use crate::routing::bucket::{Entry, KBucket, PendingPing, Stored};
use crate::time::Time;

/// Tunables of a [`RoutingTable`]. The defaults are the paper's and BEP 5's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingConfig {
    /// Bucket size k: contacts kept per bucket (the paper's replication
    /// parameter; 20 in the paper, 8 in BEP 5).
    pub k: usize,
    /// Replacement candidates remembered per bucket. Bounded so a flood of
    /// new ids costs a fixed amount of memory.
    pub replacement_cache: usize,
    /// Failed requests in a row after which a contact is *bad* (BEP 5: "fails
    /// to respond to multiple queries in a row"): it is never handed out in a
    /// reply, a full bucket replaces it first, and it is swapped for a
    /// replacement at once when one is cached.
    pub bad_after: u8,
    /// Silence after which a contact that answered is no longer *good* but
    /// *questionable* (BEP 5: 15 minutes). A full bucket pings its
    /// least-recently-seen questionable contact before evicting it.
    pub questionable_after: Duration,
    /// A bucket nobody touched for this long should be refreshed by a lookup
    /// of a random id in it (BEP 5: 15 minutes).
    pub refresh_interval: Duration,
    /// How long a full bucket waits for the answer to its eviction ping
    /// before asking again; keeps a bucket usable if the driver never reports.
    pub ping_timeout: Duration,
}

/// BEP 5's 15 minutes: how long a contact stays good without being heard
/// from, and how long a bucket may go untouched before it is refreshed.
pub const BEP5_FRESHNESS: Duration = Duration::from_secs(15 * 60);

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            k: 20,
            replacement_cache: 8,
            bad_after: 3,
            questionable_after: BEP5_FRESHNESS,
            refresh_interval: BEP5_FRESHNESS,
            ping_timeout: Duration::from_secs(10),
        }
    }
}

/// What the table knows of a contact's health, as BEP 5 defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeState {
    /// It answered one of our requests within
    /// [`RoutingConfig::questionable_after`], or it once answered and has
    /// sent us a message within that time.
    Good,
    /// Not heard from lately, or never answered a request of ours.
    Questionable,
    /// Failed [`RoutingConfig::bad_after`] requests in a row.
    Bad,
}

/// How a node was heard from: BEP 5 trusts a node that answered our request
/// more than one that only sent us a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// It answered a request of ours (or an oracle says it would have).
    Answered,
    /// It sent us a query.
    Queried,
}

/// What the table did with a contact it was told about, and what (if
/// anything) the caller must do next. The table never sends anything itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a full bucket asks the caller to ping its oldest contact"]
pub enum UpdateOutcome {
    /// Already known: moved to the tail (most recently seen).
    Refreshed,
    /// New, and its bucket had room: inserted at the tail.
    Inserted,
    /// New, its bucket is full and holds a questionable contact: ping
    /// `oldest` and report the answer with [`RoutingTable::on_ping_result`].
    /// The newcomer waits for that answer.
    PingOldest {
        /// The least-recently-seen questionable contact of the full bucket.
        oldest: Contact,
    },
    /// New, its bucket is full and held a bad contact: the newcomer took its
    /// place at once (BEP 5: bad nodes are replaced first, without a ping).
    ReplacedBad {
        /// The bad contact that left the bucket.
        evicted: Contact,
    },
    /// New, its bucket is full of good contacts or already waiting on a
    /// ping: the newcomer went to the replacement cache.
    Cached,
    /// The id is known under another address. Kept as it was: letting any
    /// datagram move a contact to a new address would let anyone hijack it.
    AddressConflict,
    /// The local node's own id: never stored.
    Ignored,
}

/// What a reported failure did to the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureOutcome {
    /// The id is not in the table.
    Unknown,
    /// Counted; the contact has failed this many times in a row.
    Counted(u8),
    /// The contact was stale and was replaced by this cached candidate.
    Replaced(Contact),
    /// The contact is bad but no replacement is cached, so it stays (never
    /// handed out in replies, replaced by the next newcomer): the paper
    /// keeps unresponsive contacts rather than empty a bucket.
    Bad,
}

/// A Kademlia routing table owned by one node.
///
/// A fixed array of 160 buckets (bucket `i` holds ids at distance
/// `[2^i, 2^(i+1))` from the local id) rather than the split-bucket tree: it
/// is simpler, as fast for lookups, and for uniformly random ids the
/// far buckets hold exactly what the tree would.
///
/// Entries refer to their contacts through the table's book (see
/// [`Directory`]): a UDP node's table keeps its contacts itself, a
/// simulated node's table refers to the network's shared directory, and
/// both follow the same rules, written once here.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    local: NodeId,
    config: RoutingConfig,
    /// Farthest bucket first: `buckets[j]` is bucket `159 - j`. Only as many
    /// as have been needed: a network of N nodes fills about log2(N) buckets,
    /// and 140 empty ones per table would dominate a 10⁵-node simulation.
    buckets: Vec<KBucket>,
    book: Book,
    /// When the table was made: the last touch of buckets never allocated.
    created: Time,
    len: usize,
}

/// The two thresholds of BEP 5's node states, copied out of a
/// [`RoutingConfig`] so a bucket can be classified while it is borrowed.
#[derive(Clone, Copy)]
struct StateRule {
    bad_after: u8,
    /// [`RoutingConfig::questionable_after`] in nanoseconds: an entry is
    /// classified against it with one multiplication instead of building a
    /// `Duration` (which divides by a million) for every entry a reply
    /// walks over.
    questionable_after_ns: u128,
}

impl StateRule {
    fn of(config: &RoutingConfig) -> StateRule {
        StateRule {
            bad_after: config.bad_after,
            questionable_after_ns: config.questionable_after.as_nanos(),
        }
    }

    /// BEP 5's node state at `now` of an entry with these `failures`, last
    /// heard from at `last_seen`, which has (or has not) ever `answered`:
    /// the one rule behind eviction and replies.
    fn classify(self, failures: u8, answered: bool, last_seen: Time, now: Time) -> NodeState {
        if failures >= self.bad_after {
            NodeState::Bad
        } else if answered && self.heard_recently(last_seen, now) {
            NodeState::Good
        } else {
            NodeState::Questionable
        }
    }

    /// Whether `last_seen` is less than `questionable_after` before `now`:
    /// what keeps a node that answered good.
    fn heard_recently(self, last_seen: Time, now: Time) -> bool {
        u128::from(now.micros_since(last_seen)) * 1000 < self.questionable_after_ns
    }

    fn state(self, entry: &Stored, now: Time) -> NodeState {
        self.classify(entry.failures, entry.answered, entry.last_seen, now)
    }
}

/// Position in `RoutingTable::buckets` of bucket `index` (< ID_BITS).
fn slot(index: usize) -> usize {
    ID_BITS - 1 - index
}

impl RoutingTable {
    /// An empty table for `local` that keeps its contacts itself (a UDP
    /// node's); every bucket counts as touched at `now`.
    pub fn new(local: NodeId, config: RoutingConfig, now: Time) -> RoutingTable {
        RoutingTable::with_book(local, config, now, Book::new(None))
    }

    /// An empty table for `local` whose contacts from `directory` are
    /// stored as 4-byte indices (a simulated node's); any other contact is
    /// kept by the table itself, so the rules and results are those of
    /// [`RoutingTable::new`].
    pub fn with_directory(
        local: NodeId,
        config: RoutingConfig,
        now: Time,
        directory: Directory,
    ) -> RoutingTable {
        RoutingTable::with_book(local, config, now, Book::new(Some(directory)))
    }

    fn with_book(local: NodeId, config: RoutingConfig, now: Time, book: Book) -> RoutingTable {
        RoutingTable {
            local,
            config,
            buckets: Vec::new(),
            book,
            created: now,
            len: 0,
        }
    }

    fn bucket(&self, index: usize) -> Option<&KBucket> {
        self.buckets.get(slot(index))
    }

    /// Bucket `index` (< ID_BITS), allocating it and every farther one,
    /// with the book beside it.
    fn bucket_mut(&mut self, index: usize) -> (&mut KBucket, &mut Book) {
        let j = slot(index);
        while self.buckets.len() <= j {
            self.buckets.push(KBucket {
                last_touched: self.created,
                ..KBucket::default()
            });
        }
        (&mut self.buckets[j], &mut self.book)
    }

    /// Bucket `index` if it exists, with the book beside it.
    fn existing_bucket_mut(&mut self, index: usize) -> Option<(&mut KBucket, &mut Book)> {
        let bucket = self.buckets.get_mut(slot(index))?;
        Some((bucket, &mut self.book))
    }

    /// The id this table is centred on.
    pub fn local_id(&self) -> &NodeId {
        &self.local
    }

    /// The table's tunables.
    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// Number of contacts in all buckets (replacements not included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no contact at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of contacts in bucket `index`.
    pub fn bucket_len(&self, index: usize) -> usize {
        self.bucket(index).map_or(0, |b| b.entries.len())
    }

    /// Replacement candidates cached for bucket `index`, oldest first.
    pub fn replacements(&self, index: usize) -> Vec<Contact> {
        self.bucket(index)
            .map(|b| {
                b.replacements
                    .iter()
                    .map(|&s| self.book.contact(s))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The entries of bucket `index`, least recently seen first.
    pub fn bucket_entries(&self, index: usize) -> impl Iterator<Item = Entry> + '_ {
        self.bucket(index)
            .into_iter()
            .flat_map(|b| b.entries.iter().map(|e| e.view(&self.book)))
    }

    /// Entry `pos` of bucket `index`, counted from the least recently
    /// seen, was heard from: what [`RoutingTable::update_heard`] does for a
    /// contact the bucket holds (it moves to the tail, healthy, and the
    /// bucket is touched), for a caller that picked the entry by place and
    /// need not look its contact up. Returns whether there was such an
    /// entry.
    pub fn heard_entry(&mut self, index: usize, pos: usize, heard: Heard, now: Time) -> bool {
        let Some((bucket, _)) = self.existing_bucket_mut(index) else {
            return false;
        };
        if pos >= bucket.entries.len() {
            return false;
        }
        bucket.last_touched = now;
        bucket.refresh_at(pos, heard == Heard::Answered, now);
        true
    }

    /// The entry for `id`, if the table holds it.
    pub fn get(&self, id: &NodeId) -> Option<Entry> {
        let bucket = self.bucket(self.local.bucket_index(id)?)?;
        let pos = bucket.position(&self.book, id, None)?;
        Some(bucket.entries[pos].view(&self.book))
    }

    /// Whether the table holds `id`.
    pub fn contains(&self, id: &NodeId) -> bool {
        self.get(id).is_some()
    }

    /// All entries, nearest bucket first and least-recently-seen first
    /// within a bucket: a deterministic order for dumps and warm-up.
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.buckets
            .iter()
            .rev()
            .flat_map(|b| b.entries.iter().map(|e| e.view(&self.book)))
    }

    /// The Kademlia update rule for a node that answered one of our requests
    /// (see [`RoutingTable::update_heard`]).
    pub fn update(&mut self, contact: Contact, now: Time) -> UpdateOutcome {
        self.update_heard(contact, Heard::Answered, now)
    }

    /// The state of an entry at `now`, by BEP 5's rules.
    pub fn state_of(&self, entry: &Entry, now: Time) -> NodeState {
        StateRule::of(&self.config).classify(entry.failures, entry.answered, entry.last_seen, now)
    }

    /// The Kademlia update rule, applied whenever a node is heard from, with
    /// BEP 5's node states deciding who leaves a full bucket.
    ///
    /// Known → tail; room → insert at tail; full → replace a bad contact
    /// at once if there is one ([`UpdateOutcome::ReplacedBad`]), else ask the
    /// caller to ping the least-recently-seen questionable contact
    /// ([`UpdateOutcome::PingOldest`]), else (every contact good) cache the
    /// newcomer: old, live nodes win, which is what makes Kademlia resist
    /// floods of new ids.
    pub fn update_heard(&mut self, contact: Contact, heard: Heard, now: Time) -> UpdateOutcome {
        let Some(index) = self.local.bucket_index(&contact.id) else {
            return UpdateOutcome::Ignored;
        };
        let answered = heard == Heard::Answered;
        let k = self.config.k;
        let cache_capacity = self.config.replacement_cache;
        let ping_timeout = self.config.ping_timeout;
        let rule = StateRule::of(&self.config);
        let (bucket, book) = self.bucket_mut(index);
        bucket.last_touched = now;
        let shared = book.shared(&contact);
        if let Some(pos) = bucket.position(book, &contact.id, shared) {
            let known = bucket.entries[pos].slot;
            if Some(known) != shared && book.contact(known).addr != contact.addr {
                return UpdateOutcome::AddressConflict;
            }
            bucket.refresh_at(pos, answered, now);
            return UpdateOutcome::Refreshed;
        }
        if bucket.entries.len() < k {
            bucket.make_room(k);
            let slot = book.admit(contact);
            bucket.push(book, slot, answered, now);
            self.len += 1;
            return UpdateOutcome::Inserted;
        }
        if let Some(pos) = bucket
            .entries
            .iter()
            .position(|e| rule.state(e, now) == NodeState::Bad)
        {
            let evicted = bucket.entries.remove(pos);
            let evicted_contact = book.contact(evicted.slot);
            book.release(evicted.slot);
            if bucket
                .pending
                .as_ref()
                .is_some_and(|p| p.oldest == evicted_contact.id)
            {
                if let Some(previous) = bucket.pending.take() {
                    bucket.cache(book, previous.candidate, cache_capacity);
                }
            }
            let slot = book.admit(contact);
            bucket.push(book, slot, answered, now);
            return UpdateOutcome::ReplacedBad {
                evicted: evicted_contact,
            };
        }
        let Some(oldest) = bucket
            .entries
            .iter()
            .find(|e| rule.state(e, now) == NodeState::Questionable)
            .map(|e| book.contact(e.slot))
        else {
            // Every contact is good (or k == 0: a table that keeps nothing).
            let slot = book.admit(contact);
            bucket.cache(book, slot, cache_capacity);
            return UpdateOutcome::Cached;
        };
        match bucket.pending.as_deref() {
            Some(pending) if book.holds(pending.candidate, &contact.id, shared) => {
                UpdateOutcome::Cached
            }
            Some(pending) if now.saturating_since(pending.asked_at) < ping_timeout => {
                let slot = book.admit(contact);
                bucket.cache(book, slot, cache_capacity);
                UpdateOutcome::Cached
            }
            _ => {
                // No ping outstanding, or the last one was never answered
                // within `ping_timeout`: ask again for this newcomer, keeping
                // any previous candidate as a replacement.
                if let Some(previous) = bucket.pending.take() {
                    bucket.cache(book, previous.candidate, cache_capacity);
                }
                bucket.pending = Some(Box::new(PendingPing {
                    oldest: oldest.id,
                    candidate: book.admit(contact),
                    asked_at: now,
                }));
                UpdateOutcome::PingOldest { oldest }
            }
        }
    }

    /// The answer to a [`UpdateOutcome::PingOldest`] request to `oldest`.
    ///
    /// Answered: the old contact is kept (moved to the tail) and the
    /// newcomer goes to the replacement cache — old, live nodes win, which is
    /// what makes Kademlia resist floods of new ids. Not answered: the old
    /// contact is evicted and the newcomer takes its place.
    pub fn on_ping_result(&mut self, oldest: &Contact, answered: bool, now: Time) {
        let Some(index) = self.local.bucket_index(&oldest.id) else {
            return;
        };
        let k = self.config.k;
        let cache_capacity = self.config.replacement_cache;
        let Some((bucket, book)) = self.existing_bucket_mut(index) else {
            return;
        };
        let pending = match bucket.pending.as_deref() {
            Some(p) if p.oldest == oldest.id => bucket.pending.take(),
            _ => None,
        };
        let pos = bucket.position(book, &oldest.id, book.shared(oldest));
        if answered {
            if let Some(pos) = pos {
                bucket.refresh_at(pos, true, now);
            }
            if let Some(p) = pending {
                bucket.cache(book, p.candidate, cache_capacity);
            }
            return;
        }
        if let Some(pos) = pos {
            book.release(bucket.entries.remove(pos).slot);
        }
        let mut added = false;
        if let Some(p) = pending {
            let candidate = book.id(p.candidate);
            if bucket.entries.len() < k
                && bucket
                    .position(book, &candidate, p.candidate.shared())
                    .is_none()
            {
                // The candidate was heard from; whether it ever answered is
                // not known here, so it starts questionable.
                bucket.push(book, p.candidate, false, now);
                added = true;
            } else {
                book.release(p.candidate);
            }
        }
        self.len = self.len - usize::from(pos.is_some()) + usize::from(added);
    }

    /// A request to `contact` failed (error or timeout). After
    /// [`RoutingConfig::bad_after`] failures in a row the entry with its id
    /// is bad and is replaced by the newest cached candidate, if there is
    /// one.
    pub fn on_failure(&mut self, contact: &Contact, now: Time) -> FailureOutcome {
        let Some(index) = self.local.bucket_index(&contact.id) else {
            return FailureOutcome::Unknown;
        };
        let bad_after = self.config.bad_after;
        let Some((bucket, book)) = self.existing_bucket_mut(index) else {
            return FailureOutcome::Unknown;
        };
        let Some(pos) = bucket.position(book, &contact.id, book.shared(contact)) else {
            return FailureOutcome::Unknown;
        };
        let entry = &mut bucket.entries[pos];
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures < bad_after {
            return FailureOutcome::Counted(entry.failures);
        }
        match bucket.take_replacement() {
            Some(replacement) => {
                book.release(bucket.entries.remove(pos).slot);
                // A replacement was heard from but may never have answered.
                let contact = book.contact(replacement);
                bucket.push(book, replacement, false, now);
                FailureOutcome::Replaced(contact)
            }
            None => FailureOutcome::Bad,
        }
    }

    /// The `count` least-recently-seen questionable contacts of bucket
    /// `index` each answered a ping at `now`: they move to the tail, in
    /// their order, and are good again, exactly as `count` rounds of
    /// [`UpdateOutcome::PingOldest`] answered by [`RoutingTable::on_ping_result`]
    /// would leave them, minus the newcomers those rounds were for.
    ///
    /// The simulator's refresh of a full bucket on a network where every
    /// node always answers comes to this (see `sim::upkeep`); one pass over
    /// the bucket instead of `count` lookups of random newcomers.
    pub fn confirm_questionable(&mut self, index: usize, count: usize, now: Time) {
        let rule = StateRule::of(&self.config);
        let Some((bucket, _)) = self.existing_bucket_mut(index) else {
            return;
        };
        if count == 0 {
            return;
        }
        // A stable partition in one pass: each pick moves to the tail,
        // after the picks before it, as `count` separate answered pings
        // would leave them.
        let (mut i, mut unseen, mut picked) = (0, bucket.entries.len(), 0);
        while i < unseen && picked < count {
            if rule.state(&bucket.entries[i], now) == NodeState::Questionable {
                let mut e = bucket.entries.remove(i);
                e.last_seen = now;
                e.failures = 0;
                e.answered = true;
                bucket.append(e);
                unseen -= 1;
                picked += 1;
            } else {
                i += 1;
            }
        }
    }

    /// Remove `id` outright (for example when it proved to be hostile).
    pub fn remove(&mut self, id: &NodeId) -> Option<Entry> {
        let index = self.local.bucket_index(id)?;
        let (bucket, book) = self.existing_bucket_mut(index)?;
        let pos = bucket.position(book, id, None)?;
        let stored = bucket.entries.remove(pos);
        let entry = stored.view(book);
        book.release(stored.slot);
        self.len -= 1;
        Some(entry)
    }

    /// The `n` contacts closest to `target`, closest first, never the local
    /// node, whatever their state: where a lookup starts.
    pub fn closest(&self, target: &NodeId, n: usize) -> Vec<Contact> {
        // `n` may be "all of them" (usize::MAX); no more than the table holds.
        let mut all = Vec::with_capacity(n.min(self.len).saturating_add(self.config.k));
        let head = target.head();
        for group in self.groups_by_distance(target) {
            all.extend(
                self.buckets_in(group)
                    .flat_map(|b| &b.entries)
                    .map(|e| (u128::from(self.book.head(e.slot) ^ head), e.slot)),
            );
            if all.len() >= n {
                break;
            }
        }
        self.contacts_by_distance(all, n, target)
    }

    /// What a node hands out when asked for the `n` closest to `target` at
    /// `now` (a `find_node` or `get` reply): BEP 5's "K closest good nodes",
    /// topped up with the closest questionable ones when fewer than `n` are
    /// good, good ones first; never a bad one.
    ///
    /// One walk outwards collects both kinds. It stops once `n` good ones
    /// are found, for no farther good node could displace them, but not
    /// before, for a far good node outranks a near questionable one; once
    /// `n` questionable ones are in, farther questionable ones can never be
    /// needed and are passed over without looking their ids up.
    pub fn closest_for_reply(&self, target: &NodeId, n: usize, now: Time) -> Vec<Contact> {
        let rule = StateRule::of(&self.config);
        // `n` may be "all of them" (usize::MAX); no more than the table holds.
        let room = n.min(self.len);
        // Both kinds in one list, a questionable one ranked after every
        // good one: the n first of it are the reply.
        let mut found = Vec::with_capacity(room.saturating_mul(2).saturating_add(self.config.k));
        let (mut good, mut questionable) = (0, 0);
        let head = target.head();
        self.touch_nearest(target, n);
        for group in self.groups_by_distance(target) {
            let want_questionable = questionable < n;
            // A bucket whose newest answer is not recent holds no good
            // entry ([`KBucket::newest_answer`] is an upper bound).
            let worth_reading =
                |b: &&KBucket| want_questionable || rule.heard_recently(b.newest_answer, now);
            for e in self
                .buckets_in(group)
                .filter(worth_reading)
                .flat_map(|b| &b.entries)
            {
                let is_questionable = match rule.state(e, now) {
                    NodeState::Good => false,
                    NodeState::Questionable if want_questionable => true,
                    NodeState::Questionable | NodeState::Bad => continue,
                };
                good += usize::from(!is_questionable);
                questionable += usize::from(is_questionable);
                let rank =
                    u128::from(is_questionable) << 64 | u128::from(self.book.head(e.slot) ^ head);
                found.push((rank, e.slot));
            }
            if good >= n {
                break;
            }
        }
        self.contacts_by_distance(found, n, target)
    }

    /// Read, ahead of a walk outwards from `target` that wants `n`
    /// contacts, the bucket headers and entries it will read first: the
    /// buckets nearest `target` until they hold `n` entries between them.
    ///
    /// A simulated reply lands on a random node's table, so each bucket the
    /// walk reads is a cache miss, and each miss waits for the one before
    /// it (the walk needs a bucket's entries to know whether to go on).
    /// These reads depend on nothing but the table, so the processor issues
    /// them together and the walk then finds them in cache. The values are
    /// not used; [`std::hint::black_box`] keeps the reads from being
    /// optimised away. Only the order of memory reads changes, never a
    /// result.
    fn touch_nearest(&self, target: &NodeId, n: usize) {
        let mut held = 0;
        for bucket in self
            .groups_by_distance(target)
            .flat_map(|g| self.buckets_in(g))
        {
            if held >= n {
                break;
            }
            held += bucket.entries.len();
            // One read per 64-byte line of 16-byte entries.
            for entry in bucket.entries.iter().step_by(4) {
                std::hint::black_box(entry.last_seen);
            }
        }
    }

    /// The `n` first of `found` in rank order, as contacts. A candidate's
    /// rank is whether it is questionable (good ones first) above the
    /// first 64 bits of its distance to `target` (from [`Book::head`]);
    /// where ranks tie, the whole distance decides: the same order as by
    /// the whole distance within each kind, reading ids from the book only
    /// for ties (forged ids near a target can share 64 bits) and for the
    /// contacts returned. `found` may be in any order.
    fn contacts_by_distance(
        &self,
        mut found: Vec<(u128, Slot)>,
        n: usize,
        target: &NodeId,
    ) -> Vec<Contact> {
        let whole = |s: Slot| self.book.id(s).distance(target);
        let order = |a: &(u128, Slot), b: &(u128, Slot)| {
            a.0.cmp(&b.0).then_with(|| whole(a.1).cmp(&whole(b.1)))
        };
        if found.len() > n && n > 0 {
            found.select_nth_unstable_by_key(n - 1, |&(rank, _)| rank);
            let cut = found[n - 1].0;
            if found[n..].iter().any(|&(rank, _)| rank == cut) {
                // A tie across the cut: the whole distance decides the side.
                found.select_nth_unstable_by(n - 1, order);
            }
        }
        found.truncate(n);
        found.sort_unstable_by(order);
        found
            .into_iter()
            .map(|(_, s)| self.book.contact(s))
            .collect()
    }

    /// The allocated buckets among `group`.
    fn buckets_in(&self, group: std::ops::Range<usize>) -> impl Iterator<Item = &KBucket> {
        group.filter_map(|i| self.bucket(i))
    }

    /// The buckets in increasing distance to `target`, each as a group of
    /// its own: every entry of a bucket is closer than every entry of a
    /// later one, so a caller may stop once a bucket brings what it needs,
    /// without sorting the table.
    ///
    /// With `x` the distance from the local id to `target`, a contact of
    /// bucket `j` differs from the local id first at bit `j`, so its
    /// distance to `target` agrees with `x` above bit `j` and differs from
    /// it at bit `j`. Where `x` has bit `j` set, that makes bucket `j`
    /// closer than every bucket below it; where it is clear, farther. The
    /// order is therefore: the buckets of `x`'s set bits from the top down,
    /// then those of its clear bits from the bottom up.
    ///
    /// Only allocated buckets are named: those nearer than every allocated
    /// one have never held a contact.
    fn groups_by_distance(&self, target: &NodeId) -> impl Iterator<Item = std::ops::Range<usize>> {
        let nearest = ID_BITS - self.buckets.len();
        let x = self.local.distance(target);
        let set = (nearest..ID_BITS).rev().filter(move |&j| x.bit(j));
        let clear = (nearest..ID_BITS).filter(move |&j| !x.bit(j));
        set.chain(clear).map(|j| j..j + 1)
    }

    /// Give back the spare capacity of the table's list of buckets. A
    /// table that is filled far bucket first grows that list one bucket at
    /// a time, so by doubling: about 17 buckets at 10⁵ nodes sit in room
    /// for 32, 1.5 KB of each table. A shell that fills many tables at once
    /// calls this when it is done with one; later growth is as before.
    pub fn shrink_to_fit(&mut self) {
        self.buckets.shrink_to_fit();
    }

    /// Record that a lookup targeted bucket `index`, which refreshes it.
    pub fn touch_bucket(&mut self, index: usize, now: Time) {
        if index < ID_BITS {
            self.bucket_mut(index).0.last_touched = now;
        }
    }

    /// Buckets that need a refresh lookup at `now`: those untouched for
    /// [`RoutingConfig::refresh_interval`], from the nearest non-empty bucket
    /// outwards.
    ///
    /// Buckets nearer than every contact stay empty in any network much
    /// smaller than 2^160 and are not reported: refreshing them would only
    /// repeat the self-lookup.
    pub fn buckets_to_refresh(&self, now: Time) -> Vec<usize> {
        self.worth_refreshing()
            .filter(|&i| {
                let touched = self.bucket(i).map_or(self.created, |b| b.last_touched);
                now.saturating_since(touched) >= self.config.refresh_interval
            })
            .collect()
    }

    /// When the first of the buckets [`RoutingTable::buckets_to_refresh`]
    /// looks at next falls due, if the table has any: lets a maintenance
    /// loop sleep until then instead of scanning the table every tick.
    /// Touches only push this later; a contact in a new nearest bucket can
    /// bring it forward.
    pub fn next_refresh_due(&self) -> Option<Time> {
        self.worth_refreshing()
            .map(|i| self.bucket(i).map_or(self.created, |b| b.last_touched))
            .min()
            .map(|touched| touched + self.config.refresh_interval)
    }

    /// The buckets a joining node looks into: those holding fewer than k
    /// contacts, from the nearest non-empty one outwards.
    pub fn buckets_to_fill(&self) -> Vec<usize> {
        self.worth_refreshing()
            .filter(|&i| self.bucket_len(i) < self.config.k)
            .collect()
    }

    /// The buckets a refresh lookup could fill: from the nearest non-empty
    /// one outwards (none for an empty table). Nearer buckets stay empty in
    /// any network much smaller than 2^160.
    pub fn worth_refreshing(&self) -> std::ops::Range<usize> {
        let nearest = (0..ID_BITS).find(|&i| self.bucket_len(i) > 0);
        nearest.unwrap_or(ID_BITS)..ID_BITS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The bucket most tests fill: far from the local id, so random ids in
    /// it are plentiful.
    const B: usize = 150;

    fn ms(t: u64) -> Time {
        Time::from_millis(t)
    }

    fn config(k: usize) -> RoutingConfig {
        RoutingConfig {
            k,
            replacement_cache: 8,
            bad_after: 5,
            // Every contact questionable at once: the tests of the ping and
            // eviction flow below predate node states; the states have
            // tests of their own.
            questionable_after: Duration::ZERO,
            refresh_interval: Duration::from_secs(100),
            ping_timeout: Duration::from_secs(10),
        }
    }

    struct Fixture {
        rng: ChaCha8Rng,
        table: RoutingTable,
        next_index: u32,
    }

    impl Fixture {
        fn new(seed: u64, config: RoutingConfig) -> Fixture {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let local = NodeId::random(&mut rng);
            Fixture {
                rng,
                table: RoutingTable::new(local, config, Time::ZERO),
                next_index: 1,
            }
        }

        fn local(&self) -> NodeId {
            *self.table.local_id()
        }

        /// A new contact in bucket `index`, not added to the table.
        fn contact_in(&mut self, index: usize) -> Contact {
            let id = self.local().random_in_bucket(index, &mut self.rng);
            self.next_index += 1;
            Contact::simulated(id, self.next_index)
        }

        /// `n` new contacts in bucket `index`, each inserted at time `i` ms.
        fn fill(&mut self, index: usize, n: usize) -> Vec<Contact> {
            (0..n)
                .map(|i| {
                    let c = self.contact_in(index);
                    assert_eq!(self.table.update(c, ms(i as u64)), UpdateOutcome::Inserted);
                    c
                })
                .collect()
        }

        /// The ids of bucket `index`, least recently seen first.
        fn bucket_ids(&self, index: usize) -> Vec<NodeId> {
            self.table
                .bucket(index)
                .map(|b| b.entries.iter().map(|e| table_id(&self.table, e)).collect())
                .unwrap_or_default()
        }

        fn replacement_ids(&self, index: usize) -> Vec<NodeId> {
            self.table
                .replacements(index)
                .iter()
                .map(|c| c.id)
                .collect()
        }
    }

    fn ids(contacts: &[Contact]) -> Vec<NodeId> {
        contacts.iter().map(|c| c.id).collect()
    }

    fn table_id(table: &RoutingTable, e: &Stored) -> NodeId {
        table.book.id(e.slot)
    }

    /// No id appears twice in the table, `len` counts the entries, and the
    /// book keeps exactly what the buckets refer to.
    fn assert_consistent(table: &RoutingTable) {
        let all: Vec<NodeId> = table.iter().map(|e| e.contact.id).collect();
        let mut distinct = all.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), all.len(), "an id is stored twice");
        assert_eq!(table.len(), all.len(), "len does not count the entries");
        for (j, bucket) in table.buckets.iter().enumerate() {
            assert!(bucket.entries.len() <= table.config.k);
            for e in &bucket.entries {
                assert_eq!(table.local.bucket_index(&table_id(table, e)), Some(slot(j)));
            }
        }
        let referred: usize = table
            .buckets
            .iter()
            .map(|b| {
                let slots = b
                    .entries
                    .iter()
                    .map(|e| e.slot)
                    .chain(b.replacements.iter().copied());
                let candidate = b.pending.as_ref().map(|p| p.candidate);
                slots
                    .chain(candidate)
                    .filter(|s| s.shared().is_none())
                    .count()
            })
            .sum();
        assert_eq!(
            table.book.own_in_use(),
            referred,
            "the book leaks or shares a slot"
        );
    }

    // ---- update ----------------------------------------------------------

    #[test]
    fn update_of_known_contact_moves_it_to_the_tail() {
        let mut f = Fixture::new(1, config(4));
        let c = f.fill(B, 3);
        assert_eq!(
            f.table.on_failure(&c[0], ms(10)),
            FailureOutcome::Counted(1)
        );
        assert_eq!(f.table.update(c[0], ms(20)), UpdateOutcome::Refreshed);
        assert_eq!(f.bucket_ids(B), vec![c[1].id, c[2].id, c[0].id]);
        let entry = f.table.get(&c[0].id).unwrap();
        assert_eq!(entry.last_seen, ms(20));
        assert_eq!(entry.failures, 0);
        assert_eq!(f.table.len(), 3);
        assert_consistent(&f.table);
    }

    #[test]
    fn update_with_room_inserts_at_the_tail() {
        let mut f = Fixture::new(2, config(4));
        assert!(f.table.is_empty());
        let c = f.fill(B, 3);
        assert_eq!(f.bucket_ids(B), ids(&c));
        assert_eq!(f.table.len(), 3);
        assert_eq!(f.table.bucket_len(B), 3);
        assert_eq!(f.table.get(&c[2].id).unwrap().last_seen, ms(2));
        let other = f.contact_in(B - 1);
        assert_eq!(f.table.update(other, ms(5)), UpdateOutcome::Inserted);
        assert_eq!(f.table.bucket_len(B - 1), 1);
        assert_eq!(f.table.len(), 4);
        assert_consistent(&f.table);
    }

    #[test]
    fn buckets_hold_no_more_room_than_their_bound_needs() {
        let mut f = Fixture::new(9, config(20));
        let capacity = |f: &Fixture, index: usize| f.table.buckets[slot(index)].entries.capacity();
        f.fill(B, 3);
        assert_eq!(capacity(&f, B), 5, "a sparse bucket");
        f.fill(B, 4);
        assert_eq!(capacity(&f, B), 10);
        f.fill(B, 13);
        assert_eq!(f.table.bucket_len(B), 20);
        assert_eq!(capacity(&f, B), 20, "a full bucket holds exactly k");
        // The list of buckets, grown one at a time, gives back its room.
        for index in (B - 16..B).rev() {
            f.fill(index, 1);
        }
        f.table.shrink_to_fit();
        assert_eq!(f.table.buckets.capacity(), f.table.buckets.len());
        assert_consistent(&f.table);
    }

    #[test]
    fn full_bucket_asks_to_ping_the_least_recently_seen() {
        let mut f = Fixture::new(3, config(3));
        let c = f.fill(B, 3);
        // c[0] is heard from again, so c[1] becomes the oldest.
        assert_eq!(f.table.update(c[0], ms(10)), UpdateOutcome::Refreshed);
        let newcomer = f.contact_in(B);
        assert_eq!(
            f.table.update(newcomer, ms(11)),
            UpdateOutcome::PingOldest { oldest: c[1] }
        );
        assert!(!f.table.contains(&newcomer.id));
        assert_eq!(f.table.len(), 3);
        assert_eq!(f.bucket_ids(B), vec![c[1].id, c[2].id, c[0].id]);
        assert!(f.table.replacements(B).is_empty());
        assert_consistent(&f.table);
    }

    #[test]
    fn full_bucket_with_a_ping_pending_caches_the_newcomer() {
        let mut f = Fixture::new(4, config(2));
        let c = f.fill(B, 2);
        let first = f.contact_in(B);
        let second = f.contact_in(B);
        assert_eq!(
            f.table.update(first, ms(10)),
            UpdateOutcome::PingOldest { oldest: c[0] }
        );
        assert_eq!(f.table.update(second, ms(11)), UpdateOutcome::Cached);
        assert_eq!(f.replacement_ids(B), vec![second.id]);
        // The candidate waiting on the ping is not cached twice.
        assert_eq!(f.table.update(first, ms(12)), UpdateOutcome::Cached);
        assert_eq!(f.replacement_ids(B), vec![second.id]);
        assert!(!f.table.contains(&second.id));
        assert_eq!(f.bucket_ids(B), ids(&c));
        assert_consistent(&f.table);
    }

    #[test]
    fn a_ping_unanswered_for_ping_timeout_is_asked_again() {
        let mut f = Fixture::new(5, config(2));
        let c = f.fill(B, 2);
        let first = f.contact_in(B);
        let second = f.contact_in(B);
        assert_eq!(
            f.table.update(first, ms(1_000)),
            UpdateOutcome::PingOldest { oldest: c[0] }
        );
        // Just before the ping timeout: still waiting.
        assert_eq!(f.table.update(second, ms(10_999)), UpdateOutcome::Cached);
        // At the ping timeout: ask again, for the newcomer; the previous
        // candidate is kept as a replacement.
        assert_eq!(
            f.table.update(second, ms(11_000)),
            UpdateOutcome::PingOldest { oldest: c[0] }
        );
        assert!(f.replacement_ids(B).contains(&first.id));
        // The new ping is pending: the next newcomer is cached.
        let third = f.contact_in(B);
        assert_eq!(f.table.update(third, ms(11_001)), UpdateOutcome::Cached);
        // Its answer is about the second candidate.
        f.table.on_ping_result(&c[0], false, ms(11_002));
        assert!(f.table.contains(&second.id));
        assert!(!f.table.contains(&first.id));
        assert_consistent(&f.table);
    }

    #[test]
    fn same_id_from_another_address_is_a_conflict() {
        let mut f = Fixture::new(6, config(4));
        let c = f.fill(B, 2);
        let impostor = Contact::simulated(c[0].id, 9_999);
        assert_ne!(impostor.addr, c[0].addr);
        assert_eq!(
            f.table.update(impostor, ms(50)),
            UpdateOutcome::AddressConflict
        );
        let entry = f.table.get(&c[0].id).unwrap();
        assert_eq!(entry.contact.addr, c[0].addr);
        assert_eq!(entry.last_seen, ms(0));
        // Not moved to the tail either.
        assert_eq!(f.bucket_ids(B), ids(&c));
        assert_eq!(f.table.len(), 2);
    }

    #[test]
    fn the_local_id_is_ignored() {
        let mut f = Fixture::new(7, config(4));
        let me = Contact::simulated(f.local(), 1);
        assert_eq!(f.table.update(me, ms(1)), UpdateOutcome::Ignored);
        assert!(f.table.is_empty());
        assert!(!f.table.contains(&f.local()));
        assert!(f.table.closest(&f.local(), 10).is_empty());
        assert_eq!(f.table.on_failure(&me, ms(2)), FailureOutcome::Unknown);
    }

    // ---- node states (BEP 5) ---------------------------------------------

    /// BEP 5's thresholds: good for 15 minutes after an answer, bad after
    /// three failures in a row.
    fn bep5(k: usize) -> RoutingConfig {
        RoutingConfig {
            k,
            ..RoutingConfig::default()
        }
    }

    const QUARTER: u64 = 15 * 60 * 1000;

    fn state(f: &Fixture, id: &NodeId, at: Time) -> NodeState {
        f.table
            .state_of(&f.table.get(id).expect("in the table"), at)
    }

    #[test]
    fn a_node_that_answered_is_good_for_fifteen_minutes_then_questionable() {
        let mut f = Fixture::new(30, bep5(4));
        let c = f.contact_in(B);
        assert_eq!(f.table.update(c, ms(0)), UpdateOutcome::Inserted);
        assert_eq!(state(&f, &c.id, ms(0)), NodeState::Good);
        assert_eq!(state(&f, &c.id, ms(QUARTER - 1)), NodeState::Good);
        assert_eq!(state(&f, &c.id, ms(QUARTER)), NodeState::Questionable);
        // Heard from again, as an answer: good again.
        let _ = f.table.update(c, ms(QUARTER + 5));
        assert_eq!(state(&f, &c.id, ms(QUARTER + 5)), NodeState::Good);
    }

    #[test]
    fn a_query_keeps_a_node_good_only_if_it_once_answered() {
        let mut f = Fixture::new(31, bep5(4));
        let querier = f.contact_in(B);
        let answerer = f.contact_in(B);
        let heard = f.table.update_heard(querier, Heard::Queried, ms(0));
        assert_eq!(heard, UpdateOutcome::Inserted);
        // Never answered: questionable from the start, however often it asks.
        assert_eq!(state(&f, &querier.id, ms(0)), NodeState::Questionable);
        let _ = f.table.update_heard(querier, Heard::Queried, ms(10));
        assert_eq!(state(&f, &querier.id, ms(10)), NodeState::Questionable);
        // Once it answered, a later query keeps it good.
        let _ = f.table.update(answerer, ms(0));
        let _ = f.table.update_heard(answerer, Heard::Queried, ms(QUARTER));
        assert_eq!(
            state(&f, &answerer.id, ms(2 * QUARTER - 1)),
            NodeState::Good
        );
        assert_eq!(
            state(&f, &answerer.id, ms(2 * QUARTER)),
            NodeState::Questionable
        );
    }

    #[test]
    fn repeated_failures_make_a_node_bad_and_an_answer_makes_it_good() {
        let mut f = Fixture::new(32, bep5(4));
        let c = f.contact_in(B);
        let _ = f.table.update(c, ms(0));
        assert_eq!(f.table.on_failure(&c, ms(1)), FailureOutcome::Counted(1));
        assert_eq!(f.table.on_failure(&c, ms(2)), FailureOutcome::Counted(2));
        // Still within its fifteen minutes, but two failures do not make it
        // bad yet.
        assert_eq!(state(&f, &c.id, ms(2)), NodeState::Good);
        assert_eq!(f.table.on_failure(&c, ms(3)), FailureOutcome::Bad);
        assert_eq!(state(&f, &c.id, ms(3)), NodeState::Bad);
        assert!(f.table.contains(&c.id), "kept: nothing to replace it with");
        let _ = f.table.update(c, ms(4));
        assert_eq!(state(&f, &c.id, ms(4)), NodeState::Good);
    }

    #[test]
    fn a_full_bucket_replaces_a_bad_node_first_without_a_ping() {
        let mut f = Fixture::new(33, bep5(3));
        let c = f.fill(B, 3);
        // c[0] is the least recently seen; c[1] goes bad.
        for t in 0..3 {
            let _ = f.table.on_failure(&c[1], ms(10 + t));
        }
        let newcomer = f.contact_in(B);
        assert_eq!(
            f.table.update(newcomer, ms(20)),
            UpdateOutcome::ReplacedBad { evicted: c[1] }
        );
        assert_eq!(f.bucket_ids(B), vec![c[0].id, c[2].id, newcomer.id]);
        assert_eq!(f.table.len(), 3);
        assert_consistent(&f.table);
    }

    #[test]
    fn a_full_bucket_pings_its_oldest_questionable_node_and_keeps_good_ones() {
        let mut f = Fixture::new(34, bep5(3));
        let c = f.fill(B, 3);
        // All three answered within fifteen minutes: a newcomer is cached.
        let early = f.contact_in(B);
        assert_eq!(f.table.update(early, ms(100)), UpdateOutcome::Cached);
        assert_eq!(f.replacement_ids(B), vec![early.id]);
        // c[0] and c[2] are heard from again later; c[1] falls silent and is
        // the only questionable one when the next newcomer comes.
        let _ = f.table.update(c[0], ms(QUARTER));
        let _ = f.table.update(c[2], ms(QUARTER));
        let late = f.contact_in(B);
        assert_eq!(
            f.table.update(late, ms(QUARTER + 1)),
            UpdateOutcome::PingOldest { oldest: c[1] }
        );
        f.table.on_ping_result(&c[1], false, ms(QUARTER + 2));
        assert!(!f.table.contains(&c[1].id));
        assert!(f.table.contains(&late.id));
        assert_consistent(&f.table);
    }

    #[test]
    fn replies_list_good_nodes_first_and_never_bad_ones() {
        let mut f = Fixture::new(35, bep5(8));
        let local = f.local();
        let c = f.fill(B, 6);
        // c[0], c[1]: bad; c[2]: questionable (only ever queried us);
        // c[3..]: good.
        for bad in [c[0], c[1]] {
            for t in 0..3 {
                let _ = f.table.on_failure(&bad, ms(10 + t));
            }
        }
        assert!(f.table.remove(&c[2].id).is_some());
        let _ = f.table.update_heard(c[2], Heard::Queried, ms(20));
        let target = local.random_in_bucket(B, &mut f.rng);
        let reply = f.table.closest_for_reply(&target, 8, ms(30));
        assert_eq!(reply.len(), 4);
        assert!(reply.iter().all(|r| r.id != c[0].id && r.id != c[1].id));
        let mut good: Vec<Contact> = c[3..].to_vec();
        good.sort_by_key(|g| g.id.distance(&target));
        assert_eq!(&reply[..3], &good[..]);
        assert_eq!(reply[3], c[2]);
        // Asked for fewer, the good ones win even when the questionable one
        // is closer.
        let two = f.table.closest_for_reply(&c[2].id, 2, ms(30));
        assert!(two.iter().all(|r| r.id != c[2].id));
        // Everything is still a lookup seed.
        assert_eq!(f.table.closest(&target, 8).len(), 6);
    }

    // ---- on_ping_result --------------------------------------------------

    #[test]
    fn answered_ping_keeps_the_old_contact_and_caches_the_newcomer() {
        let mut f = Fixture::new(8, config(3));
        let c = f.fill(B, 3);
        let newcomer = f.contact_in(B);
        assert_eq!(
            f.table.update(newcomer, ms(10)),
            UpdateOutcome::PingOldest { oldest: c[0] }
        );
        f.table.on_failure(&c[0], ms(11));
        f.table.on_ping_result(&c[0], true, ms(20));
        assert_eq!(f.bucket_ids(B), vec![c[1].id, c[2].id, c[0].id]);
        let entry = f.table.get(&c[0].id).unwrap();
        assert_eq!(entry.last_seen, ms(20));
        assert_eq!(entry.failures, 0);
        assert!(!f.table.contains(&newcomer.id));
        assert_eq!(f.replacement_ids(B), vec![newcomer.id]);
        assert_eq!(f.table.len(), 3);
        // The ping is no longer pending: the next newcomer asks again, about
        // the new oldest.
        let next = f.contact_in(B);
        assert_eq!(
            f.table.update(next, ms(21)),
            UpdateOutcome::PingOldest { oldest: c[1] }
        );
        assert_consistent(&f.table);
    }

    #[test]
    fn unanswered_ping_evicts_the_old_contact_for_the_newcomer() {
        let mut f = Fixture::new(9, config(3));
        let c = f.fill(B, 3);
        let newcomer = f.contact_in(B);
        assert_eq!(
            f.table.update(newcomer, ms(10)),
            UpdateOutcome::PingOldest { oldest: c[0] }
        );
        f.table.on_ping_result(&c[0], false, ms(20));
        assert!(!f.table.contains(&c[0].id));
        assert_eq!(f.bucket_ids(B), vec![c[1].id, c[2].id, newcomer.id]);
        assert_eq!(f.table.get(&newcomer.id).unwrap().last_seen, ms(20));
        assert_eq!(f.table.len(), 3);
        assert!(f.table.replacements(B).is_empty());
        assert_consistent(&f.table);
    }

    // ---- replacement cache -----------------------------------------------

    #[test]
    fn replacement_cache_is_bounded_and_promotes_the_newest_first() {
        let mut cfg = config(2);
        cfg.replacement_cache = 3;
        let mut f = Fixture::new(10, cfg);
        let c = f.fill(B, 2);
        let pinged = f.contact_in(B);
        assert!(matches!(
            f.table.update(pinged, ms(10)),
            UpdateOutcome::PingOldest { .. }
        ));
        let cached: Vec<Contact> = (0..5).map(|_| f.contact_in(B)).collect();
        for (i, &x) in cached.iter().enumerate() {
            assert_eq!(f.table.update(x, ms(11 + i as u64)), UpdateOutcome::Cached);
        }
        // Capacity respected, the two oldest dropped, oldest first.
        assert_eq!(f.replacement_ids(B), ids(&cached[2..]));
        // A cached candidate heard again moves to the newest position.
        assert_eq!(f.table.update(cached[2], ms(20)), UpdateOutcome::Cached);
        assert_eq!(
            f.replacement_ids(B),
            vec![cached[3].id, cached[4].id, cached[2].id]
        );
        // Stale contacts are replaced by the newest candidate first.
        for _ in 0..5 {
            let _ = f.table.on_failure(&c[0], ms(30));
        }
        assert!(f.table.contains(&cached[2].id));
        assert!(!f.table.contains(&c[0].id));
        for _ in 0..4 {
            let _ = f.table.on_failure(&c[1], ms(31));
        }
        assert_eq!(
            f.table.on_failure(&c[1], ms(32)),
            FailureOutcome::Replaced(cached[4])
        );
        assert_eq!(f.replacement_ids(B), vec![cached[3].id]);
        assert_consistent(&f.table);
    }

    #[test]
    fn zero_capacity_cache_keeps_nothing() {
        let mut cfg = config(1);
        cfg.replacement_cache = 0;
        let mut f = Fixture::new(11, cfg);
        let c = f.fill(B, 1);
        let a = f.contact_in(B);
        let b = f.contact_in(B);
        assert!(matches!(
            f.table.update(a, ms(1)),
            UpdateOutcome::PingOldest { .. }
        ));
        assert_eq!(f.table.update(b, ms(2)), UpdateOutcome::Cached);
        assert!(f.table.replacements(B).is_empty());
        f.table.on_ping_result(&c[0], true, ms(3));
        assert!(f.table.replacements(B).is_empty());
    }

    // ---- stale eviction --------------------------------------------------

    #[test]
    fn five_failures_in_a_row_replace_a_contact_from_the_cache() {
        let mut f = Fixture::new(12, config(2));
        let c = f.fill(B, 2);
        let pinged = f.contact_in(B);
        let spare = f.contact_in(B);
        assert!(matches!(
            f.table.update(pinged, ms(5)),
            UpdateOutcome::PingOldest { .. }
        ));
        assert_eq!(f.table.update(spare, ms(6)), UpdateOutcome::Cached);
        for n in 1..=4 {
            assert_eq!(
                f.table.on_failure(&c[1], ms(10 + n as u64)),
                FailureOutcome::Counted(n)
            );
            assert!(f.table.contains(&c[1].id));
        }
        assert_eq!(
            f.table.on_failure(&c[1], ms(20)),
            FailureOutcome::Replaced(spare)
        );
        assert!(!f.table.contains(&c[1].id));
        assert_eq!(f.bucket_ids(B), vec![c[0].id, spare.id]);
        let entry = f.table.get(&spare.id).unwrap();
        assert_eq!((entry.last_seen, entry.failures), (ms(20), 0));
        assert_eq!(f.table.len(), 2);
        assert!(f.table.replacements(B).is_empty());
        assert_eq!(f.table.on_failure(&c[1], ms(21)), FailureOutcome::Unknown);
        assert_consistent(&f.table);
    }

    #[test]
    fn a_stale_contact_without_replacement_is_kept() {
        let mut f = Fixture::new(13, config(4));
        let c = f.fill(B, 2);
        for _ in 0..4 {
            let _ = f.table.on_failure(&c[0], ms(10));
        }
        assert_eq!(f.table.on_failure(&c[0], ms(11)), FailureOutcome::Bad);
        assert_eq!(f.table.on_failure(&c[0], ms(12)), FailureOutcome::Bad);
        assert!(f.table.contains(&c[0].id));
        assert_eq!(f.table.len(), 2);
        assert_eq!(f.bucket_ids(B), ids(&c));
        // Heard from again: healthy.
        assert_eq!(f.table.update(c[0], ms(13)), UpdateOutcome::Refreshed);
        assert_eq!(
            f.table.on_failure(&c[0], ms(14)),
            FailureOutcome::Counted(1)
        );
    }

    #[test]
    fn a_success_in_between_resets_the_failure_count() {
        let mut f = Fixture::new(14, config(2));
        let c = f.fill(B, 2);
        let pinged = f.contact_in(B);
        let spare = f.contact_in(B);
        assert!(matches!(
            f.table.update(pinged, ms(5)),
            UpdateOutcome::PingOldest { .. }
        ));
        assert_eq!(f.table.update(spare, ms(6)), UpdateOutcome::Cached);
        for _ in 0..4 {
            let _ = f.table.on_failure(&c[1], ms(10));
        }
        assert_eq!(f.table.update(c[1], ms(11)), UpdateOutcome::Refreshed);
        for n in 1..=4 {
            assert_eq!(
                f.table.on_failure(&c[1], ms(12)),
                FailureOutcome::Counted(n)
            );
        }
        assert!(f.table.contains(&c[1].id));
        // An answered ping is a success too.
        f.table.on_ping_result(&c[1], true, ms(13));
        assert_eq!(
            f.table.on_failure(&c[1], ms(14)),
            FailureOutcome::Counted(1)
        );
        assert!(f.table.contains(&c[1].id));
        assert_eq!(f.replacement_ids(B), vec![spare.id]);
    }

    #[test]
    fn a_cached_candidate_that_got_in_is_never_stored_twice() {
        // c[0] is pinged for `first`; `second` is cached; the ping goes
        // unanswered past `ping_timeout`, so `second` is pinged for and
        // `first` cached; the ping is then reported unanswered and `second`
        // takes c[0]'s place while it is still in the cache.
        let mut f = Fixture::new(15, config(2));
        let c = f.fill(B, 2);
        let first = f.contact_in(B);
        let second = f.contact_in(B);
        assert!(matches!(
            f.table.update(first, ms(0)),
            UpdateOutcome::PingOldest { .. }
        ));
        assert_eq!(f.table.update(second, ms(1)), UpdateOutcome::Cached);
        assert!(matches!(
            f.table.update(second, ms(20_000)),
            UpdateOutcome::PingOldest { .. }
        ));
        f.table.on_ping_result(&c[0], false, ms(20_001));
        assert!(f.table.contains(&second.id));
        assert_consistent(&f.table);
        // Every stale contact is replaced by a node not already stored.
        for stale in [c[1], first, second] {
            for _ in 0..5 {
                let outcome = f.table.on_failure(&stale, ms(30_000));
                if let FailureOutcome::Replaced(r) = outcome {
                    assert_ne!(r.id, stale.id, "a stale contact was replaced by itself");
                }
            }
            assert_consistent(&f.table);
        }
        // A candidate that got in some other way is not cached afterwards.
        let mut f = Fixture::new(16, config(2));
        let c = f.fill(B, 2);
        let newcomer = f.contact_in(B);
        assert!(matches!(
            f.table.update(newcomer, ms(0)),
            UpdateOutcome::PingOldest { .. }
        ));
        assert!(f.table.remove(&c[1].id).is_some());
        assert_eq!(f.table.update(newcomer, ms(1)), UpdateOutcome::Inserted);
        f.table.on_ping_result(&c[0], true, ms(2));
        assert!(!f.replacement_ids(B).contains(&newcomer.id));
        for _ in 0..5 {
            let _ = f.table.on_failure(&c[0], ms(3));
        }
        assert_consistent(&f.table);
    }

    // ---- closest ---------------------------------------------------------

    fn brute_force_closest(table: &RoutingTable, target: &NodeId, n: usize) -> Vec<Contact> {
        let mut all: Vec<Contact> = table.iter().map(|e| e.contact).collect();
        all.sort_by_key(|c| c.id.distance(target));
        all.truncate(n);
        all
    }

    /// A table with contacts spread over many buckets, near ones included,
    /// some of them full.
    fn random_table(seed: u64) -> (RoutingTable, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let local = NodeId::random(&mut rng);
        let k = rng.gen_range(1..=20);
        let mut table = RoutingTable::new(local, config(k), Time::ZERO);
        let uniform = rng.gen_range(0..300);
        let near = rng.gen_range(0..60);
        for i in 0..uniform + near {
            let id = if i < uniform {
                NodeId::random(&mut rng)
            } else {
                local.random_in_bucket(rng.gen_range(0..ID_BITS), &mut rng)
            };
            let _ = table.update(Contact::simulated(id, i as u32), ms(i as u64));
        }
        (table, rng)
    }

    #[test]
    fn closest_matches_a_brute_force_sort() {
        let mut checked = 0;
        for seed in 0..60 {
            let (table, mut rng) = random_table(seed);
            assert_consistent(&table);
            let local = *table.local_id();
            let mut targets = vec![local, NodeId::random(&mut rng), NodeId::ZERO];
            for _ in 0..8 {
                targets.push(local.random_in_bucket(rng.gen_range(0..ID_BITS), &mut rng));
            }
            if let Some(e) = table.iter().nth(rng.gen_range(0..table.len().max(1))) {
                targets.push(e.contact.id);
            }
            let len = table.len();
            for target in &targets {
                let ns = [0, 1, 2, 3, 8, 20, rng.gen_range(0..=len + 5), len, len + 10];
                for n in ns {
                    let got = table.closest(target, n);
                    let want = brute_force_closest(&table, target, n);
                    assert_eq!(got, want, "seed {seed}, target {target}, n {n}");
                    assert_eq!(got.len(), n.min(len));
                    assert!(got.iter().all(|c| c.id != local));
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000);
    }

    #[test]
    fn closest_on_an_empty_table_is_empty() {
        let f = Fixture::new(17, config(20));
        assert!(f.table.closest(&NodeId::ZERO, 20).is_empty());
        assert!(f.table.closest(&f.local(), 20).is_empty());
    }

    // ---- refresh ---------------------------------------------------------

    #[test]
    fn buckets_to_refresh_are_those_untouched_for_the_interval() {
        let mut f = Fixture::new(18, config(4));
        // An empty table has nothing to refresh.
        assert!(f.table.buckets_to_refresh(ms(1_000_000)).is_empty());
        let a = f.contact_in(150);
        let b = f.contact_in(155);
        assert_eq!(f.table.update(a, ms(10_000)), UpdateOutcome::Inserted);
        assert_eq!(f.table.update(b, ms(10_000)), UpdateOutcome::Inserted);
        // Before the interval has passed since the table was created: none.
        assert!(f.table.buckets_to_refresh(ms(99_999)).is_empty());
        // From the nearest non-empty bucket (150) out, except the two
        // touched at 10 s.
        let due: Vec<usize> = (151..=154).chain(156..ID_BITS).collect();
        assert_eq!(f.table.buckets_to_refresh(ms(100_000)), due);
        f.table.touch_bucket(151, ms(100_000));
        f.table.touch_bucket(ID_BITS, ms(100_000)); // out of range: ignored
        let due: Vec<usize> = (152..=154).chain(156..ID_BITS).collect();
        assert_eq!(f.table.buckets_to_refresh(ms(100_000)), due);
        // Later, the buckets touched at 10 s are due as well.
        let due: Vec<usize> = (150..ID_BITS).filter(|&i| i != 151).collect();
        assert_eq!(f.table.buckets_to_refresh(ms(110_000)), due);
        // A failed request does not count as a touch; hearing from a node does.
        let _ = f.table.on_failure(&a, ms(110_000));
        assert!(f.table.buckets_to_refresh(ms(110_000)).contains(&150));
        assert_eq!(f.table.update(a, ms(110_000)), UpdateOutcome::Refreshed);
        assert!(!f.table.buckets_to_refresh(ms(110_000)).contains(&150));
    }
}
