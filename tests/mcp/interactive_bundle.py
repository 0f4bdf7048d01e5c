"""Stand-in for the compiler's `approvals N interactive` until it lands:
sets the interactive-approval flag (`approval_flag::INTERACTIVE`, bit 0 of
the rule's record in the APPROVAL_RULES section of the tables payload) of the
named `require_approval` rules in a bundle built by `gaitc build`, fixes the
payload digest in the manifest, and signs the bundle again with the same key.

Usage: interactive_bundle.py IN.gaitb OUT.gaitb KEY RULE...
Run by scripts/test_mcp_proxy.sh only when `gaitc` does not know the clause.
"""

import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BUNDLE_MAGIC = b"GAITB\0"
TABLES_MAGIC = b"GTBL"
TAG_STRINGS = 2
TAG_APPROVAL_RULES = 16
INTERACTIVE = 1


def sections(payload):
    """(tag, start, length) of each section of a tables payload."""
    if payload[:4] != TABLES_MAGIC:
        sys.exit("interactive_bundle: the payload is not a tables payload")
    at = 8
    while at < len(payload):
        tag, length = struct.unpack_from("<II", payload, at)
        yield tag, at + 8, length
        at += 8 + length
        at += -at % 8


def strings(payload, start):
    (count,) = struct.unpack_from("<I", payload, start)
    offsets = struct.unpack_from(f"<{count + 1}I", payload, start + 4)
    blob = start + 4 + 4 * (count + 1)
    return [payload[blob + offsets[i]:blob + offsets[i + 1]].decode() for i in range(count)]


def main(src, dst, key_file, rules):
    data = open(src, "rb").read()
    if data[:6] != BUNDLE_MAGIC:
        sys.exit(f"interactive_bundle: {src} is not a bundle")
    (mlen,) = struct.unpack_from("<I", data, 8)
    manifest = data[12:12 + mlen]
    (slen,) = struct.unpack_from("<I", data, 12 + mlen)
    payload = bytearray(data[16 + mlen + slen:])
    found = dict(((tag, (start, length)) for tag, start, length in sections(payload)))
    names = strings(payload, found[TAG_STRINGS][0])
    start, length = found[TAG_APPROVAL_RULES]
    patched = set()
    for rec in range(start, start + length, 16):
        name_id, _, _, flags = struct.unpack_from("<4I", payload, rec)
        if names[name_id] in rules:
            struct.pack_into("<I", payload, rec + 12, flags | INTERACTIVE)
            patched.add(names[name_id])
    if patched != set(rules):
        sys.exit(f"interactive_bundle: no require_approval rule {sorted(set(rules) - patched)}")
    old = json.loads(manifest)["payload"]["sha256"]
    new = hashlib.sha256(payload).hexdigest()
    manifest = manifest.replace(old.encode(), new.encode())
    raw = base64.b64decode(open(key_file).read().strip())
    key = Ed25519PrivateKey.from_private_bytes(raw[:32])
    key_id = hashlib.sha256(raw[32:]).hexdigest()
    sig = base64.b64encode(key.sign(hashlib.sha256(manifest).digest())).decode()
    sigs = json.dumps([{"alg": "ed25519", "key_id": key_id, "sig": sig}],
                      separators=(",", ":"), sort_keys=True).encode()
    out = BUNDLE_MAGIC + data[6:8] + struct.pack("<I", len(manifest)) + manifest
    out += struct.pack("<I", len(sigs)) + sigs + bytes(payload)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
