#!/usr/bin/python3
"""Independent verifier of VectorScaleDB CAR exports.

Shares no code with the project: standard library plus the Debian packages python3-cbor2 (decoding only)
and python3-cryptography (Ed25519). The canonical DAG-CBOR encoder, varint, CID, multihash, base32 and
base58btc handling are written here from the public specifications.

Usage: verify_car.py FILE.car   (or "-" for stdin)

Prints one JSON line {"ok", "blocks", "events", "roots", "error", "errors"} and exits 0 only when ok.
"error" is the first problem found (null when ok); "errors" lists up to 50 problems.

Checks:
  * CARv1 framing: varint header length, DAG-CBOR header {version: 1, roots: [CID, ...]} (canonical,
    at least one root), then sections varint(len) + CIDv1 + block bytes; truncation is an error.
  * every section CID is CIDv1, codec dag-cbor (0x71) or raw (0x55), multihash sha2-256 (0x12, 32 bytes);
    no CID appears twice; every block's sha256 equals its CID digest.
  * every dag-cbor block decodes, holds only the DAG-CBOR data model (null, bool, int in [-2^64, 2^64),
    finite float, text, bytes, list, map with text keys, tag 42 links) and re-encodes canonically (keys
    sorted by encoded length then bytewise, minimal integer heads, 64-bit floats, definite lengths) to
    exactly its stored bytes.
  * every block that is an event (a map with exactly the keys v,type,node,seq,ts,prev,payload,sig):
    v == 1, type in the closed set, node an Ed25519 libp2p PeerId in base58btc, seq/ts integers,
    prev null or a link, payload a map, sig 64 bytes and a valid Ed25519 signature by node over the
    canonical encoding of the map without sig.
  * chains: seq 0 has prev null, a null prev means seq 0, prev is an event present in the CAR by the same
    node at seq - 1.
  * every CID linked from an event payload is present in the CAR.
  * every root is an event present in the CAR; every block is reachable (an event reachable from a root
    along prev, or a block linked from such an event's payload, transitively through linked events).
"""

import base64
import hashlib
import json
import math
import struct
import sys

try:
    import cbor2
except ImportError:  # reported as JSON so callers can tell a missing dependency from a bad file
    print(json.dumps({"ok": False, "blocks": 0, "events": 0, "roots": 0,
                      "error": "python3-cbor2 is not installed (apt-get install -y python3-cbor2)", "errors": []}))
    sys.exit(3)

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    print(json.dumps({"ok": False, "blocks": 0, "events": 0, "roots": 0,
                      "error": "python3-cryptography is not installed (apt-get install -y python3-cryptography)",
                      "errors": []}))
    sys.exit(3)


DAG_CBOR = 0x71
RAW = 0x55
SHA2_256 = 0x12
IDENTITY = 0x00
CID_TAG = 42
EVENT_KEYS = frozenset(["v", "type", "node", "seq", "ts", "prev", "payload", "sig"])
EVENT_TYPES = frozenset(["ingest", "segment", "trust", "licence", "revocation", "membership", "share",
                         "privacy", "conflict", "resolution", "manifest", "retention"])
MAX_ERRORS = 50


class Invalid(Exception):
    """A problem with the input, reported as the verifier's error."""


# ---------------------------------------------------------------------------------------------- varint

def read_varint(data, pos, what):
    """Unsigned LEB128 as multiformats uses it: at most 9 bytes, minimally encoded. Returns (value, pos)."""
    value = 0
    shift = 0
    start = pos
    while True:
        if pos >= len(data):
            raise Invalid("truncated %s varint at byte %d" % (what, start))
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte & 0x80 == 0:
            if byte == 0 and pos - start > 1:
                raise Invalid("non-minimal %s varint at byte %d" % (what, start))
            return value, pos
        shift += 7
        if pos - start >= 9:
            raise Invalid("%s varint at byte %d is longer than 9 bytes" % (what, start))


def encode_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# ----------------------------------------------------------------------------------------- multibase

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58_encode(raw):
    zeros = len(raw) - len(raw.lstrip(b"\x00"))
    n = int.from_bytes(raw, "big")
    digits = []
    while n > 0:
        n, rem = divmod(n, 58)
        digits.append(B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def b58_decode(text):
    n = 0
    for ch in text:
        if ch not in B58_INDEX:
            raise Invalid("%r is not base58btc" % text)
        n = n * 58 + B58_INDEX[ch]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def cid_string(cid_bytes):
    """The usual text form: base32 lower ('b' prefix) for CIDv1, bare base58btc for CIDv0."""
    if len(cid_bytes) == 34 and cid_bytes[0] == SHA2_256 and cid_bytes[1] == 0x20:
        return b58_encode(cid_bytes)
    return "b" + base64.b32encode(cid_bytes).decode("ascii").lower().rstrip("=")


# ----------------------------------------------------------------------------------------------- CIDs

class Cid:
    __slots__ = ("raw", "version", "codec", "hash_code", "digest")

    def __init__(self, raw, version, codec, hash_code, digest):
        self.raw = raw
        self.version = version
        self.codec = codec
        self.hash_code = hash_code
        self.digest = digest

    def __str__(self):
        return cid_string(self.raw)


def parse_cid(data, pos, what):
    """Parses a CID starting at pos. Returns (Cid, end)."""
    start = pos
    if len(data) - pos >= 2 and data[pos] == SHA2_256 and data[pos + 1] == 0x20:  # CIDv0: a bare multihash
        end = pos + 34
        if end > len(data):
            raise Invalid("truncated CIDv0 in %s" % what)
        return Cid(bytes(data[start:end]), 0, 0x70, SHA2_256, bytes(data[pos + 2:end])), end  # dag-pb
    version, pos = read_varint(data, pos, what + " CID version")
    if version != 1:
        raise Invalid("%s has CID version %d (expected 1)" % (what, version))
    codec, pos = read_varint(data, pos, what + " CID codec")
    hash_code, pos = read_varint(data, pos, what + " multihash code")
    length, pos = read_varint(data, pos, what + " multihash length")
    end = pos + length
    if end > len(data):
        raise Invalid("truncated multihash in %s" % what)
    return Cid(bytes(data[start:end]), version, codec, hash_code, bytes(data[pos:end])), end


def link_cid(tag_value, where):
    """The CID inside a tag-42 value: bytes 0x00 (identity multibase) + CID bytes, nothing after."""
    if not isinstance(tag_value, bytes):
        raise Invalid("%s: tag 42 does not hold bytes" % where)
    if len(tag_value) < 2 or tag_value[0] != 0x00:
        raise Invalid("%s: tag 42 bytes do not start with the 0x00 multibase prefix" % where)
    cid, end = parse_cid(tag_value, 1, where + " link")
    if end != len(tag_value):
        raise Invalid("%s: trailing bytes after the CID in a tag 42 link" % where)
    return cid


# ------------------------------------------------------------------------------ canonical DAG-CBOR encoder

def _head(major, value, out):
    if value < 24:
        out.append((major << 5) | value)
    elif value < 0x100:
        out.append((major << 5) | 24)
        out.append(value)
    elif value < 0x10000:
        out.append((major << 5) | 25)
        out += struct.pack(">H", value)
    elif value < 0x100000000:
        out.append((major << 5) | 26)
        out += struct.pack(">I", value)
    else:
        out.append((major << 5) | 27)
        out += struct.pack(">Q", value)


def _encode(value, out, path):
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            if value >= 1 << 64:
                raise Invalid("%s: integer %d is outside the DAG-CBOR range" % (path, value))
            _head(0, value, out)
        else:
            if -1 - value >= 1 << 64:
                raise Invalid("%s: integer %d is outside the DAG-CBOR range" % (path, value))
            _head(1, -1 - value, out)
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Invalid("%s: NaN and infinities are not DAG-CBOR" % path)
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _head(3, len(raw), out)
        out += raw
    elif isinstance(value, bytes):
        _head(2, len(value), out)
        out += value
    elif isinstance(value, list):
        _head(4, len(value), out)
        for i, item in enumerate(value):
            _encode(item, out, "%s[%d]" % (path, i))
    elif isinstance(value, dict):
        entries = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise Invalid("%s: map key %r is not a string" % (path, key))
            encoded_key = bytearray()
            _encode(key, encoded_key, path)
            entries.append((len(encoded_key), bytes(encoded_key), key, item))
        entries.sort(key=lambda e: (e[0], e[1]))
        _head(5, len(entries), out)
        for _, encoded_key, key, item in entries:
            out += encoded_key
            _encode(item, out, "%s.%s" % (path, key))
    elif isinstance(value, cbor2.CBORTag):
        if value.tag != CID_TAG:
            raise Invalid("%s: tag %d is not allowed in DAG-CBOR" % (path, value.tag))
        link_cid(value.value, path)
        _head(6, CID_TAG, out)
        _head(2, len(value.value), out)
        out += value.value
    else:
        raise Invalid("%s: %s is not in the DAG-CBOR data model" % (path, type(value).__name__))


def encode_canonical(value):
    out = bytearray()
    _encode(value, out, "$")
    return bytes(out)


def decode_dag_cbor(data, what):
    """Decodes with cbor2, then demands that our own canonical encoding gives back exactly the bytes."""
    try:
        value = cbor2.loads(bytes(data))
    except Exception as err:  # cbor2 raises CBORDecodeError, ValueError, etc.
        raise Invalid("%s is not valid CBOR: %s" % (what, err))
    try:
        again = encode_canonical(value)
    except Invalid as err:
        raise Invalid("%s is not DAG-CBOR: %s" % (what, err))
    if again != bytes(data):
        raise Invalid("%s is not canonical DAG-CBOR (re-encoding gives %d bytes that differ from the %d stored)"
                      % (what, len(again), len(data)))
    return value


def links_in(value, out):
    """Every CID (tag 42) anywhere inside a decoded value."""
    if isinstance(value, cbor2.CBORTag) and value.tag == CID_TAG:
        out.append(link_cid(value.value, "payload"))
    elif isinstance(value, list):
        for item in value:
            links_in(item, out)
    elif isinstance(value, dict):
        for item in value.values():
            links_in(item, out)
    return out


# --------------------------------------------------------------------------------------------- PeerId

def ed25519_key_of_peer_id(text):
    """Raw 32-byte Ed25519 public key of a base58btc libp2p PeerId (identity multihash of the protobuf key)."""
    raw = b58_decode(text)
    if b58_encode(raw) != text:
        raise Invalid("node %r is not canonical base58btc" % text)
    # identity multihash: code 0x00, length 0x24 (36), then protobuf PublicKey{Type: Ed25519 (1), Data: 32 bytes}
    if len(raw) != 38 or raw[0] != IDENTITY or raw[1] != 36 or raw[2:6] != b"\x08\x01\x12\x20":
        raise Invalid("node %r is not an Ed25519 libp2p PeerId" % text)
    return raw[6:]


# ------------------------------------------------------------------------------------------ verifier

class Report:
    def __init__(self):
        self.blocks = 0
        self.events = 0
        self.roots = 0
        self.errors = []

    def fail(self, message):
        self.errors.append(message)

    def json(self):
        return json.dumps({
            "ok": not self.errors,
            "blocks": self.blocks,
            "events": self.events,
            "roots": self.roots,
            "error": self.errors[0] if self.errors else None,
            "errors": self.errors[:MAX_ERRORS],
        })


def check_event(cid_text, value, report):
    """Field checks and the signature. Returns (node, seq, prev_cid_text_or_None, payload_links) or None."""
    where = "event %s" % cid_text
    v, kind, node, seq, ts = value["v"], value["type"], value["node"], value["seq"], value["ts"]
    prev, payload, sig = value["prev"], value["payload"], value["sig"]
    problems = []
    if not (isinstance(v, int) and not isinstance(v, bool) and v == 1):
        problems.append("v is %r, expected 1" % (v,))
    if not (isinstance(kind, str) and kind in EVENT_TYPES):
        problems.append("type %r is not an event type" % (kind,))
    if not (isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= 2 ** 53 - 1):
        problems.append("seq %r is not a non-negative safe integer" % (seq,))
    if not (isinstance(ts, int) and not isinstance(ts, bool) and -(2 ** 53 - 1) <= ts <= 2 ** 53 - 1):
        problems.append("ts %r is not a safe integer" % (ts,))
    if not (prev is None or (isinstance(prev, cbor2.CBORTag) and prev.tag == CID_TAG)):
        problems.append("prev is neither null nor a link")
    if not isinstance(payload, dict):
        problems.append("payload is not a map")
    if not (isinstance(sig, bytes) and len(sig) == 64):
        problems.append("sig is not 64 bytes")
    key = None
    if not isinstance(node, str):
        problems.append("node is not a string")
    else:
        try:
            key = ed25519_key_of_peer_id(node)
        except Invalid as err:
            problems.append(str(err))
    if problems:
        report.fail("%s: %s" % (where, "; ".join(problems)))
        return None
    unsigned = {k: item for k, item in value.items() if k != "sig"}
    message = encode_canonical(unsigned)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except (InvalidSignature, ValueError):
        report.fail("%s (node %s, seq %d) has a bad signature" % (where, node, seq))
        return None
    prev_text = str(link_cid(prev.value, where + " prev")) if prev is not None else None
    return node, seq, prev_text, [str(c) for c in links_in(payload, [])]


def verify(data, report):
    # Header.
    header_len, pos = read_varint(data, 0, "header length")
    if header_len == 0:
        raise Invalid("empty CAR header")
    if pos + header_len > len(data):
        raise Invalid("truncated CAR header (%d bytes announced, %d present)" % (header_len, len(data) - pos))
    header = decode_dag_cbor(data[pos:pos + header_len], "CAR header")
    pos += header_len
    if not isinstance(header, dict) or set(header.keys()) != {"version", "roots"}:
        raise Invalid("CAR header is not a map of exactly {version, roots}")
    version = header["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version != 1:
        raise Invalid("CAR header version is %r, expected 1" % (version,))
    roots_raw = header["roots"]
    if not isinstance(roots_raw, list) or not roots_raw:
        raise Invalid("CAR header roots is not a non-empty list")
    roots = []
    for i, root in enumerate(roots_raw):
        if not (isinstance(root, cbor2.CBORTag) and root.tag == CID_TAG):
            raise Invalid("CAR header root %d is not a link" % i)
        roots.append(str(link_cid(root.value, "CAR header root %d" % i)))
    report.roots = len(roots)

    # Sections: hash every block, keep the bytes for the checks that need the whole file.
    blocks = {}  # cid text -> (Cid, bytes)
    order = []
    while pos < len(data):
        section_start = pos
        length, pos = read_varint(data, pos, "section length")
        if length == 0:
            raise Invalid("empty section at byte %d" % section_start)
        end = pos + length
        if end > len(data):
            raise Invalid("truncated section at byte %d (%d bytes announced, %d present)"
                          % (section_start, length, len(data) - pos))
        cid, block_start = parse_cid(data, pos, "section at byte %d" % section_start)
        if block_start > end:
            raise Invalid("section at byte %d is shorter than its CID" % section_start)
        pos = end
        report.blocks += 1
        text = str(cid)
        if cid.version != 1:
            report.fail("block %s: CID version %d (expected 1)" % (text, cid.version))
            continue
        if cid.codec not in (DAG_CBOR, RAW):
            report.fail("block %s: codec 0x%x is neither dag-cbor nor raw" % (text, cid.codec))
            continue
        if cid.hash_code != SHA2_256 or len(cid.digest) != 32:
            report.fail("block %s: multihash is not sha2-256 with a 32-byte digest" % text)
            continue
        block = bytes(data[block_start:end])
        if hashlib.sha256(block).digest() != cid.digest:
            report.fail("block %s does not match its hash (sha256 of its %d bytes differs from its CID)"
                        % (text, len(block)))
            continue
        if text in blocks:
            report.fail("block %s appears twice" % text)
            continue
        blocks[text] = (cid, block)
        order.append(text)

    # Decode every dag-cbor block canonically; check every event on its own.
    events = {}  # cid text -> (node, seq, prev, links)
    for text in order:
        cid, block = blocks[text]
        if cid.codec != DAG_CBOR:
            continue
        try:
            value = decode_dag_cbor(block, "block %s" % text)
        except Invalid as err:
            report.fail(str(err))
            continue
        if isinstance(value, dict) and set(value.keys()) == EVENT_KEYS:
            report.events += 1
            try:
                checked = check_event(text, value, report)
            except Invalid as err:
                report.fail("event %s: %s" % (text, err))
                checked = None
            if checked is not None:
                events[text] = checked

    # Chains, payload links.
    for text, (node, seq, prev, links) in events.items():
        if prev is None:
            if seq != 0:
                report.fail("event %s (node %s, seq %d) has no prev but is not seq 0" % (text, node, seq))
        elif prev not in blocks:
            report.fail("event %s (node %s, seq %d): prev %s is not in the CAR" % (text, node, seq, prev))
        elif prev not in events:
            report.fail("event %s (node %s, seq %d): prev %s is not a valid event" % (text, node, seq, prev))
        else:
            prev_node, prev_seq = events[prev][0], events[prev][1]
            if prev_node != node:
                report.fail("event %s (node %s, seq %d): prev %s is by another node %s"
                            % (text, node, seq, prev, prev_node))
            if seq != prev_seq + 1:
                report.fail("event %s (node %s, seq %d): prev %s has seq %d (expected %d)"
                            % (text, node, seq, prev, prev_seq, seq - 1))
        for link in links:
            if link not in blocks:
                report.fail("block %s linked from event %s (node %s, seq %d) is not in the CAR"
                            % (link, text, node, seq))

    # Roots, and reachability of every block from them.
    reached = set()
    walk = []
    for root in roots:
        if root not in blocks:
            report.fail("root %s is not in the CAR" % root)
        elif root not in events:
            report.fail("root %s is not a valid event" % root)
        else:
            walk.append(root)
    while walk:
        text = walk.pop()
        if text in reached:
            continue
        reached.add(text)
        if text in events:
            _, _, prev, links = events[text]
            for nxt in ([prev] if prev is not None else []) + links:
                if nxt in blocks and nxt not in reached:
                    walk.append(nxt)
    for text in order:
        if text not in reached:
            report.fail("block %s is not reachable from any root" % text)


def main(argv):
    report = Report()
    if len(argv) != 2:
        report.fail("usage: verify_car.py FILE.car (or - for stdin)")
        print(report.json())
        return 2
    try:
        if argv[1] == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(argv[1], "rb") as handle:
                data = handle.read()
    except OSError as err:
        report.fail("cannot read %s: %s" % (argv[1], err))
        print(report.json())
        return 2
    try:
        verify(memoryview(data), report)
    except Invalid as err:
        report.fail(str(err))
    except RecursionError:
        report.fail("nesting too deep")
    print(report.json())
    return 0 if not report.errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
