"""A libtorrent DHT node for tests/interop_libtorrent.rs.

It joins the kadlab swarm given by --bootstrap (with --one-ip, a swarm whose
nodes all share 127.0.0.1: libtorrent's per-IP rules are lifted), then does
what the test asks, printing one JSON object per line on stdout:

  {"joined": N}                        once its routing table holds N nodes
  {"got": TARGET, "value": TEXT}       the immutable item kadlab stored
  {"put": TARGET, "success": N}        its own immutable item, stored on N nodes
  {"peers": ["IP:PORT", ...]}          what get_peers found for --peers-of
  {"announced": HASH, "port": P}       once it announced --announce on port P
  {"mutable_got": TEXT, "seq": N}      the mutable item of --mutable-get
  {"mutable_put": N}                   its own mutable item, stored on N nodes

Every wait has a deadline; on one it prints {"error": ...} and exits 1.
"""

import argparse
import hashlib
import json
import sys
import tempfile
import time
import warnings

import libtorrent as lt


def say(**fields):
    print(json.dumps(fields), flush=True)


def fail(message):
    say(error=message)
    sys.exit(1)


def wait_for(session, deadline, match):
    """Pop alerts until match(alert) returns something, or the deadline."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            found = match(alert)
            if found is not None:
                return found
    return None


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--interface", default="127.0.0.1")
    parser.add_argument("--one-ip", action="store_true")
    parser.add_argument("--get", required=True, help="target kadlab stored")
    parser.add_argument("--put", required=True, help="value to store")
    parser.add_argument("--peers-of", required=True, help="info-hash kadlab announced")
    parser.add_argument("--announce", required=True, help="info-hash to announce")
    parser.add_argument("--mutable-get", required=True, help="public key kadlab signed with")
    parser.add_argument("--mutable-seed", required=True, help="ed25519 seed to sign with")
    parser.add_argument("--mutable-key", required=True, help="the seed's public key")
    parser.add_argument("--min-nodes", type=int, default=4)
    args = parser.parse_args()

    settings = {
        "listen_interfaces": f"{args.interface}:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": args.bootstrap,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    if args.one_ip:
        # Every swarm node shares one IP. libtorrent keeps one node per IP
        # in its table and searches, and its DoS blocker bans an IP after
        # 50 packets in 10 s: lift all three, as nothing on the internet
        # would make it.
        settings["dht_restrict_routing_ips"] = False
        settings["dht_restrict_search_ips"] = False
        settings["dht_block_ratelimit"] = 100000
    session = lt.session(settings)

    end = time.monotonic() + 30
    nodes = 0
    while time.monotonic() < end:
        nodes = session.status().dht_nodes
        if nodes >= args.min_nodes:
            break
        session.wait_for_alert(200)
        session.pop_alerts()
    if nodes < args.min_nodes:
        fail(f"libtorrent's table holds {nodes} nodes after 30 s")
    say(joined=nodes)

    target = lt.sha1_hash(bytes.fromhex(args.get))
    session.dht_get_immutable_item(target)

    def got(alert):
        if isinstance(alert, lt.dht_immutable_item_alert) and str(alert.target) == args.get:
            return alert.item
        return None

    item = wait_for(session, 20, got)
    if item is None:
        fail("no dht_immutable_item_alert for kadlab's item")
    # The bindings hand the item over as {"key": target, "value": bytes}.
    value = item.get("value") if isinstance(item, dict) else item
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    say(got=args.get, value=value)

    put_target = str(session.dht_put_immutable_item(args.put.encode()))

    def stored(alert):
        if isinstance(alert, lt.dht_put_alert) and str(alert.target) == put_target:
            return alert.num_success
        return None

    success = wait_for(session, 30, stored)
    if success is None:
        fail("no dht_put_alert for libtorrent's item")
    say(put=put_target, success=success)

    session.dht_get_peers(lt.sha1_hash(bytes.fromhex(args.peers_of)))

    def peers(alert):
        if isinstance(alert, lt.dht_get_peers_reply_alert) and str(alert.info_hash) == args.peers_of:
            return [f"{ip}:{port}" for ip, port in alert.peers()]
        return None

    found = wait_for(session, 20, peers)
    if found is None:
        fail("no dht_get_peers_reply_alert for kadlab's announce")
    say(peers=found)

    # The bindings cannot build the flags session.dht_announce takes, so
    # libtorrent announces the way a client does: it adds the torrent (a
    # magnet link, nothing to download from anyone) and announces it to
    # the DHT on its listen port.
    params = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{args.announce}")
    params.save_path = tempfile.mkdtemp(prefix="kadlab-libtorrent-")
    session.add_torrent(params)

    def announced(alert):
        if isinstance(alert, lt.dht_reply_alert):
            return True
        return None

    if wait_for(session, 20, announced) is None:
        fail("no dht_reply_alert for libtorrent's own announce")
    say(announced=args.announce, port=session.listen_port())

    session.dht_get_mutable_item(bytes.fromhex(args.mutable_get), b"kadlab")

    def mutable(alert):
        if isinstance(alert, lt.dht_mutable_item_alert) and alert.item:
            item = alert.item
            return item.get("value") if isinstance(item, dict) else item, alert.seq
        return None

    found = wait_for(session, 20, mutable)
    if found is None:
        fail("no dht_mutable_item_alert for kadlab's mutable item")
    value, seq = found
    say(mutable_got=value.decode("utf-8", "replace"), seq=seq)

    # libtorrent signs with the 64-byte expanded secret key (ref10's):
    # SHA-512 of the seed, its first half clamped.
    expanded = bytearray(hashlib.sha512(bytes.fromhex(args.mutable_seed)).digest())
    expanded[0] &= 248
    expanded[31] &= 63
    expanded[31] |= 64
    session.dht_put_mutable_item(
        bytes(expanded), bytes.fromhex(args.mutable_key), b"signed by libtorrent", b"libtorrent"
    )

    def put_mutable(alert):
        if isinstance(alert, lt.dht_put_alert) and bytes(alert.public_key) == bytes.fromhex(args.mutable_key):
            return alert.num_success
        return None

    success = wait_for(session, 30, put_mutable)
    if success is None:
        fail("no dht_put_alert for libtorrent's mutable item")
    say(mutable_put=success)


if __name__ == "__main__":
    main()
