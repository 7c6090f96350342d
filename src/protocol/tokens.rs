//! BEP 5 write tokens.
//!
//! A node hands a token to whoever asks it `get_peers` (or a BEP 44 `get`),
//! and accepts an `announce_peer` (or `put`) only with a token it handed to
//! the same IP recently. That proves the writer can receive datagrams at the
//! address it claims, so nobody can store data "from" an address they spoofed.
//!
//! Tokens are not stored: a token is `SHA-1(ip octets ++ secret)`, so the
//! node only remembers a secret and recomputes. The secret changes every
//! [`TOKEN_ROTATION`] and the previous one is still accepted, which is the
//! scheme BEP 5 suggests: a token is good for at least five and at most ten
//! minutes.
//!
//! Secrets are a pure function of the seed and the rotation epoch (epoch `e`
//! is the ChaCha8 stream `e` of the seed), so the tokens a run issues depend
//! only on the seed and the times it is asked at, never on how often it was
//! asked in between.

use std::net::Ipv4Addr;
use std::time::Duration;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha1::{Digest, Sha1};

use crate::time::Time;

/// How long a secret stays current. A token is accepted while the secret it
/// was made with is current or previous, so for 5 to 10 minutes (BEP 5).
pub const TOKEN_ROTATION: Duration = Duration::from_secs(5 * 60);

/// Length of a token in bytes: a whole SHA-1 digest. Longer than the 4–8
/// bytes some implementations send, but still small, and it leaves no room
/// for guessing.
pub const TOKEN_LEN: usize = 20;

/// Length of a secret in bytes.
const SECRET_LEN: usize = 32;

/// Issues and checks BEP 5 write tokens, rotating its secret every
/// [`TOKEN_ROTATION`].
///
/// Rotation is lazy: [`issue`](TokenIssuer::issue) and
/// [`check`](TokenIssuer::check) work out from `now` which epoch they are in,
/// so the issuer needs no timer. Epochs count from the `now` given to
/// [`new`](TokenIssuer::new).
pub struct TokenIssuer {
    /// Where secrets come from; kept so any epoch's secret can be derived.
    seed: [u8; 32],
    /// When epoch 0 began.
    start: Time,
    /// The epoch `current` belongs to.
    epoch: u64,
    /// Secret of `epoch`.
    current: [u8; SECRET_LEN],
    /// Secret of `epoch - 1`; `None` in epoch 0, before which nothing was
    /// issued.
    previous: Option<[u8; SECRET_LEN]>,
}

impl std::fmt::Debug for TokenIssuer {
    /// Shows the epoch only: secrets and seed must not end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("start", &self.start)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer whose secrets derive from `seed`, with its first secret
    /// current from `now`.
    ///
    /// Simulations pass a seed from their own generator so runs reproduce;
    /// real nodes must pass OS randomness, or anyone who knows the seed can
    /// forge tokens.
    pub fn new(seed: [u8; 32], now: Time) -> Self {
        TokenIssuer {
            seed,
            start: now,
            epoch: 0,
            current: secret(&seed, 0),
            previous: None,
        }
    }

    /// The token for `ip`, made with the current secret.
    ///
    /// Only the IP goes in, not the port: BEP 5 binds tokens to the IP, and
    /// clients behind NAT may announce from another port than they asked on.
    pub fn issue(&mut self, ip: Ipv4Addr, now: Time) -> Vec<u8> {
        self.rotate(now);
        make_token(ip, &self.current).to_vec()
    }

    /// Whether `token` was issued to `ip` under the current or the previous
    /// secret. Anything of the wrong length is refused.
    ///
    /// Comparison takes the same time wherever the bytes differ, so timing
    /// tells an attacker nothing about how close a guess was.
    pub fn check(&mut self, ip: Ipv4Addr, token: &[u8], now: Time) -> bool {
        self.rotate(now);
        if token.len() != TOKEN_LEN {
            return false;
        }
        let current = constant_time_eq(token, &make_token(ip, &self.current));
        let previous = self
            .previous
            .is_some_and(|prev| constant_time_eq(token, &make_token(ip, &prev)));
        current | previous
    }

    /// Brings the secrets up to the epoch `now` falls in.
    ///
    /// After one rotation the current secret becomes the previous one; after
    /// two or more, every secret a token could have been made with is gone.
    /// A `now` before the epoch-0 start counts as epoch 0.
    fn rotate(&mut self, now: Time) {
        let rotation = TOKEN_ROTATION.as_micros();
        let elapsed = now.saturating_since(self.start).as_micros();
        let epoch = u64::try_from(elapsed / rotation).unwrap_or(u64::MAX);
        if epoch == self.epoch {
            return;
        }
        self.previous = if epoch.checked_sub(1) == Some(self.epoch) {
            Some(self.current)
        } else {
            epoch.checked_sub(1).map(|e| secret(&self.seed, e))
        };
        self.current = secret(&self.seed, epoch);
        self.epoch = epoch;
    }
}

/// Secret of `epoch`: the first bytes of ChaCha8 stream `epoch` of `seed`.
fn secret(seed: &[u8; 32], epoch: u64) -> [u8; SECRET_LEN] {
    let mut rng = ChaCha8Rng::from_seed(*seed);
    rng.set_stream(epoch);
    let mut out = [0u8; SECRET_LEN];
    rng.fill_bytes(&mut out);
    out
}

/// `SHA-1(ip octets ++ secret)`.
fn make_token(ip: Ipv4Addr, secret: &[u8; SECRET_LEN]) -> [u8; TOKEN_LEN] {
    let mut hasher = Sha1::new();
    hasher.update(ip.octets());
    hasher.update(secret);
    hasher.finalize().into()
}

/// Equality of two equally long byte strings without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: [u8; 32] = [7; 32];
    const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const T0: Time = Time::from_millis(1_000);

    #[test]
    fn token_is_valid_right_away() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(issuer.check(IP, &token, T0));
    }

    #[test]
    fn token_survives_one_rotation() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert!(issuer.check(IP, &token, T0 + TOKEN_ROTATION));
        let last = T0 + (2 * TOKEN_ROTATION - Duration::from_micros(1));
        assert!(issuer.check(IP, &token, last));
        // A token issued late in an epoch lives on through the next one.
        let late = T0 + (TOKEN_ROTATION - Duration::from_micros(1));
        let token = issuer.issue(IP, late);
        assert!(issuer.check(IP, &token, T0 + TOKEN_ROTATION));
    }

    #[test]
    fn token_dies_after_two_rotations() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert!(!issuer.check(IP, &token, T0 + 2 * TOKEN_ROTATION));
        // Also when the issuer was consulted in between.
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert!(issuer.check(IP, &token, T0 + TOKEN_ROTATION));
        assert!(!issuer.check(IP, &token, T0 + 2 * TOKEN_ROTATION));
        // And much later.
        assert!(!issuer.check(IP, &token, T0 + 100 * TOKEN_ROTATION));
    }

    #[test]
    fn token_for_another_ip_is_refused() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert!(!issuer.check(Ipv4Addr::new(192, 0, 2, 2), &token, T0));
        assert_ne!(token, issuer.issue(Ipv4Addr::new(192, 0, 2, 2), T0));
    }

    #[test]
    fn token_of_wrong_length_is_refused() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let token = issuer.issue(IP, T0);
        assert!(!issuer.check(IP, &token[..8], T0));
        assert!(!issuer.check(IP, &[], T0));
        let mut longer = token.clone();
        longer.push(0);
        assert!(!issuer.check(IP, &longer, T0));
        let mut flipped = token;
        flipped[TOKEN_LEN - 1] ^= 1;
        assert!(!issuer.check(IP, &flipped, T0));
    }

    #[test]
    fn tokens_are_deterministic_given_the_seed() {
        let mut a = TokenIssuer::new(SEED, T0);
        let mut b = TokenIssuer::new(SEED, T0);
        let later = T0 + 3 * TOKEN_ROTATION;
        // `b` rotates step by step, `a` jumps: same tokens either way.
        for i in 1..=3 {
            let _ = b.issue(IP, T0 + i * TOKEN_ROTATION);
        }
        assert_eq!(a.issue(IP, T0), TokenIssuer::new(SEED, T0).issue(IP, T0));
        assert_eq!(a.issue(IP, later), b.issue(IP, later));
        let mut other = TokenIssuer::new([8; 32], T0);
        assert_ne!(
            other.issue(IP, T0),
            TokenIssuer::new(SEED, T0).issue(IP, T0)
        );
    }

    #[test]
    fn secrets_change_every_rotation() {
        let mut issuer = TokenIssuer::new(SEED, T0);
        let first = issuer.issue(IP, T0);
        let second = issuer.issue(IP, T0 + TOKEN_ROTATION);
        let third = issuer.issue(IP, T0 + 2 * TOKEN_ROTATION);
        assert_ne!(first, second);
        assert_ne!(second, third);
        assert_ne!(first, third);
    }

    #[test]
    fn debug_does_not_leak_secrets() {
        let issuer = TokenIssuer::new(SEED, T0);
        let shown = format!("{issuer:?}");
        assert!(!shown.contains("seed") && !shown.contains("current"));
    }
}
