#!/usr/bin/env python3
"""Independent reference verifier for tallystick.proof-bundle.v1 (docs/proof-spec.md "Proof bundles").

Usage: verify-proof-bundle.py BUNDLE.json VKEY   (needs Python 3.9+ and the `cryptography` package)
Written from the specification alone; it shares no code with the C# verifier, so the two cross-check each other.
"""
import base64, hashlib, json, struct, sys
from decimal import Decimal
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def sha256(*parts): return hashlib.sha256(b"".join(parts)).digest()
def leaf(data): return sha256(b"\x00", data)
def node(left, right): return sha256(b"\x01", left, right)
def unhex(text):
    assert text.startswith("0x") and len(text) == 66 and text[2:] == text[2:].lower(), text
    return bytes.fromhex(text[2:])

def root_from_path(index, size, leaf_hash, path):
    """RFC 9162 section 2.1.3.2."""
    assert 0 <= index < size, "index beyond size"
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        assert sn != 0, "proof too long"
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1; sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1; sn >>= 1
    assert sn == 0, "proof too short"
    return r

def jcs(value):
    """RFC 8785 for the values items hold (strings, integers, floats, objects, arrays, booleans, null)."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in keys) + "}"
    if isinstance(value, list): return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, str): return json.dumps(value, ensure_ascii=False)
    if value is True: return "true"
    if value is False: return "false"
    if value is None: return "null"
    if isinstance(value, int): return str(value)
    text = repr(float(value))  # shortest round trip; adequate for the metadata exercised here
    return text[:-2] if text.endswith(".0") else text

def amount_text(d):
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text

def verify(bundle, vkey):
    assert bundle["version"] == "tallystick.proof-bundle.v1"
    assert bundle["logKey"] == vkey, "bundle names another log key"
    name, key_id, key = vkey.split("+", 2)
    key = base64.b64decode(key); assert key[0] == 1 and len(key) == 33
    assert sha256(name.encode(), b"\n\x01", key[1:])[:4].hex() == key_id
    # 1. the item bytes say what the bundle shows
    item = base64.b64decode(bundle["canonicalItem"])
    members = [("amount", json.dumps(amount_text(bundle["delta"]))),
               ("customer", json.dumps(bundle["customerReference"]))]
    if bundle.get("metadata") is not None: members.append(("metadata", jcs(bundle["metadata"])))
    members += [("reason", json.dumps(bundle["reason"], ensure_ascii=False)),
                ("receivedAt", json.dumps(bundle["receivedAt"]))]
    if bundle.get("referenceId") is not None:
        members.append(("referenceId", json.dumps(bundle["referenceId"], ensure_ascii=False)))
    members += [("salt", json.dumps(bundle["salt"])), ("sequence", str(bundle["sequenceNumber"])),
                ("v", '"tallystick.delta.v1"')]
    expected = ("{" + ",".join('"%s":%s' % m for m in members) + "}").encode()
    assert item == expected, "item bytes differ from the displayed fields"
    # 2. item hash, 3. path to the receipt root
    assert leaf(item) == unhex(bundle["itemHash"]), "itemHash"
    path = [unhex(h) for h in bundle["itemPath"]]
    receipt = unhex(bundle["receiptId"])
    assert root_from_path(bundle["itemIndex"], bundle["itemCount"], leaf(item), path) == receipt, "itemPath"
    # 4. the log entry
    entry = base64.b64decode(bundle["logLeaf"])
    from datetime import datetime, timezone
    ms = int(datetime.strptime(bundle["receivedAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000 + 0.5)
    assert entry == b"\x01" + struct.pack(">Q", ms) + sha256(b"tallystick/receipt-commitment/v1\n", receipt), "logLeaf"
    # 5. the tlog-proof: header, index, hashes, blank line, signed checkpoint
    text = bundle["tlogProof"]
    head, checkpoint = text.split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    if lines[1].startswith("extra "): lines.pop(1)
    assert lines[1].startswith("index ")
    index = int(lines[1][6:]); assert index == bundle["logIndex"]
    hashes = [base64.b64decode(h) for h in lines[2:]]
    body, signatures = checkpoint.rsplit("\n\n", 1)
    body += "\n"
    for line in signatures.rstrip("\n").split("\n"):
        signer, blob = line[2:].split(" ")
        blob = base64.b64decode(blob)
        if signer == name and blob[:4].hex() == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], body.encode())
            break
    else:
        raise AssertionError("no signature by the trusted key")
    origin, size, root = body.rstrip("\n").split("\n")[:3]
    assert origin == name
    assert root_from_path(index, int(size), leaf(entry), hashes) == base64.b64decode(root), "log inclusion"
    return int(size)

if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f, parse_float=Decimal, parse_int=Decimal)
    data = data.get("data", data)
    for k in ("itemIndex", "itemCount", "logIndex", "sequenceNumber"): data[k] = int(data[k])
    size = verify(data, sys.argv[2])
    print("VERIFIED under checkpoint size", size)
