//! The KRPC wire codec: how a message becomes a datagram and back.
//!
//! [`bencode`] is the strict byte-level reader and writer; [`krpc`] is the
//! Mainline DHT message layer on top of it (BEP 5, BEP 43, BEP 44 immutable
//! items). Both are pure functions of bytes, part of the sans-IO core: the
//! request handler ([`crate::protocol::Server`]) builds its replies with
//! them, and the shells that own the sockets decode and encode with them.

pub mod bencode;
pub mod krpc;
