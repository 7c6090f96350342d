//! BEP 42: node ids tied to the node's external IPv4 address.
//!
//! A node may pick any id it likes, so an attacker can place nodes right
//! next to a key it wants to eclipse. BEP 42 takes that freedom away: the
//! first 21 bits of the id come from CRC32-C of the node's masked IP and a
//! 3-bit random number `r`, which is stored in the id's last byte. Anyone
//! who sees a datagram from an address can then check the id its sender
//! claims. Loopback, link-local and private addresses are exempt, as the
//! BEP says: behind them an id cannot be checked.
//!
//! This is sans-IO: pure functions of an address and bytes.

use std::net::Ipv4Addr;

use crc::{Crc, CRC_32_ISCSI};
use rand::RngCore;

use crate::id::NodeId;

/// CRC32-C (Castagnoli), the checksum BEP 42 names.
const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);

/// The bits of an IPv4 address that count: a /8 is worth 3 bits, a /16
/// 4, a /24 6 more, so that one subnet cannot mint many valid prefixes.
const MASK: u32 = 0x030f_3fff;

/// The 21-bit prefix of an id valid for `ip` with random number `r`
/// (only its low 3 bits count), as the CRC32-C whose top 21 bits it is.
fn crc_of(ip: Ipv4Addr, r: u8) -> u32 {
    let masked = (u32::from(ip) & MASK) | (u32::from(r & 0x07) << 29);
    CRC32C.checksum(&masked.to_be_bytes())
}

/// A node id that satisfies BEP 42 for `ip`: the prefix from the CRC of
/// the masked IP and a random `r`, every other bit from `rng`, and `r` in
/// the last byte (whose high bits are random too).
pub fn id_for(ip: Ipv4Addr, rng: &mut impl RngCore) -> NodeId {
    let mut bytes = [0u8; 20];
    rng.fill_bytes(&mut bytes);
    let r = bytes[19] & 0x07;
    let crc = crc_of(ip, r);
    bytes[0] = (crc >> 24) as u8;
    bytes[1] = (crc >> 16) as u8;
    bytes[2] = ((crc >> 8) as u8 & 0xf8) | (bytes[2] & 0x07);
    NodeId(bytes)
}

/// Whether `id` satisfies BEP 42 for `ip`: its first 21 bits are those of
/// the CRC of `ip` with the `r` of its last byte.
pub fn is_valid(id: &NodeId, ip: Ipv4Addr) -> bool {
    let bytes = &id.0;
    let crc = crc_of(ip, bytes[19]);
    bytes[0] == (crc >> 24) as u8
        && bytes[1] == (crc >> 16) as u8
        && bytes[2] & 0xf8 == (crc >> 8) as u8 & 0xf8
}

/// Whether `ip` is exempt from the check: loopback, link-local and the
/// private ranges (BEP 42 lists 10/8, 172.16/12, 192.168/16, 169.254/16
/// and 127/8), where many nodes share an address or none is public.
pub fn is_exempt(ip: Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_private() || ip.is_link_local()
}

/// What checking an id against the address it came from found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The id satisfies BEP 42 for the address.
    Verified,
    /// It does not.
    Unverified,
    /// The address is exempt ([`is_exempt`]).
    Exempt,
}

/// Check `id` against the address `ip` it was heard from.
pub fn verdict(id: &NodeId, ip: Ipv4Addr) -> Verdict {
    if is_exempt(ip) {
        Verdict::Exempt
    } else if is_valid(id, ip) {
        Verdict::Verified
    } else {
        Verdict::Unverified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// BEP 42's own table: IP, the random number (the id's last byte), and
    /// an example id whose first 21 bits must be as given.
    const VECTORS: [(&str, u8, &str); 5] = [
        (
            "124.31.75.21",
            1,
            "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401",
        ),
        (
            "21.75.31.124",
            86,
            "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256",
        ),
        (
            "65.23.51.170",
            22,
            "a5d43220bc8f112a3d426c84764f8c2a1150e616",
        ),
        (
            "84.124.73.14",
            65,
            "1b0321dd1bb1fe518101ceef99462b947a01ff41",
        ),
        (
            "43.213.53.83",
            90,
            "e56f6cbf5b7c4be0237986d5243b87aa6d51305a",
        ),
    ];

    #[test]
    fn the_bep_vectors_verify_and_their_prefixes_are_the_crc() {
        for (ip, rand, hex) in VECTORS {
            let ip: Ipv4Addr = ip.parse().unwrap();
            let id: NodeId = hex.parse().unwrap();
            assert_eq!(id.0[19], rand);
            assert!(is_valid(&id, ip), "{ip} {hex}");
            assert_eq!(verdict(&id, ip), Verdict::Verified);
            let crc = crc_of(ip, rand);
            assert_eq!(
                [
                    (crc >> 24) as u8,
                    (crc >> 16) as u8,
                    (crc >> 8) as u8 & 0xf8
                ],
                [id.0[0], id.0[1], id.0[2] & 0xf8]
            );
            // Another address, or another r, breaks the id.
            let other = Ipv4Addr::from(u32::from(ip) ^ 0x0100_0000);
            assert!(!is_valid(&id, other), "{hex} also valid for {other}");
            let mut bytes = id.0;
            bytes[19] ^= 0x01;
            assert!(!is_valid(&NodeId(bytes), ip));
            // Bits outside the prefix and r are free.
            let mut bytes = id.0;
            bytes[2] ^= 0x07;
            bytes[10] ^= 0xff;
            bytes[19] ^= 0xf8;
            assert!(is_valid(&NodeId(bytes), ip));
        }
    }

    #[test]
    fn chosen_ids_verify_for_their_address_only() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        for (ip, _, _) in VECTORS {
            let ip: Ipv4Addr = ip.parse().unwrap();
            for _ in 0..50 {
                let id = id_for(ip, &mut rng);
                assert!(is_valid(&id, ip));
                // None of the vectors' addresses is 8.8.8.8, whose prefixes
                // these ids (with 2^-21 odds each) do not have.
                assert!(!is_valid(&id, Ipv4Addr::new(8, 8, 8, 8)));
            }
        }
    }

    #[test]
    fn private_and_loopback_addresses_are_exempt() {
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.3.4",
        ] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            assert!(is_exempt(ip), "{ip}");
            assert_eq!(verdict(&NodeId([0; 20]), ip), Verdict::Exempt);
        }
        for ip in ["8.8.8.8", "172.32.0.1", "124.31.75.21"] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            assert!(!is_exempt(ip), "{ip}");
        }
    }
}
