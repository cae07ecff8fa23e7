# Layout experiment: the clustered journal of clustered.py, filled by deferred merges (LSM style): deltas are
# appended to a rowid "tail" table and every MERGE deltas the tail is merged into the journal in (customer, seq)
# order, so a merge dirties each customer's pages once instead of once per delta. See docs/design.md.
# Usage: python3 bench/layout/deferred.py [N] [MERGE]
import sqlite3, os, time, random, sys
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
MERGE = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
CUST = 10_000; GROUP = 800
path = "/tmp/tally-layout-deferred.db"
for ext in ("", "-wal", "-shm"):
    if os.path.exists(path + ext): os.remove(path + ext)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF"); db.execute("PRAGMA wal_autocheckpoint=0")
db.execute("PRAGMA cache_size=-131072")
db.executescript("""
CREATE TABLE records (id INTEGER PRIMARY KEY, customer INTEGER, first_seq INTEGER, first_delta INTEGER, receipt BLOB, accepted_at INTEGER);
CREATE TABLE tail (id INTEGER PRIMARY KEY, customer INTEGER, seq INTEGER, record INTEGER, amount INTEGER, reason TEXT, reference_id TEXT, salt BLOB, item_hash BLOB, received_at INTEGER);
CREATE TABLE journal (customer INTEGER, kind INTEGER, key BLOB, id INTEGER, record INTEGER, amount INTEGER, reason TEXT, reference_id TEXT, salt BLOB, item_hash BLOB, received_at INTEGER, PRIMARY KEY (customer, kind, key)) WITHOUT ROWID;
""")
seqs = [0] * CUST; rnd = random.Random(1); wal = path + "-wal"
t0 = time.time(); wal_bytes = 0; did = 0; merged = 0; merge_time = 0
def walsize(): return os.path.getsize(wal) if os.path.exists(wal) else 0
while did < N:
    db.execute("BEGIN")
    for b in range(GROUP // 100):
        for c in rnd.sample(range(CUST), 100):
            did += 1; s = seqs[c]; seqs[c] += 1
            h = os.urandom(32)
            db.execute("INSERT INTO records VALUES (?,?,?,?,?,?)", (did, c, s, did, h, did))
            db.execute("INSERT INTO tail VALUES (?,?,?,?,?,?,?,?,?,?)", (did, c, s, did, -125000000, "usage", f"ref-{did}", os.urandom(16), h, did))
    before = walsize(); db.execute("COMMIT"); wal_bytes += walsize() - before
    if did - merged >= MERGE:
        m0 = time.time(); before = walsize()
        db.execute("BEGIN")
        db.execute("INSERT INTO journal SELECT customer, 0, CAST(seq AS BLOB), id, record, amount, reason, reference_id, salt, item_hash, received_at FROM tail WHERE id > ? ORDER BY customer, seq", (merged,))
        db.execute("INSERT INTO journal (customer, kind, key, id) SELECT customer, 1, CAST(reference_id AS BLOB), id FROM tail WHERE id > ? ORDER BY customer, reference_id", (merged,))
        db.execute("DELETE FROM tail WHERE id <= ?", (did,))
        db.execute("COMMIT"); wal_bytes += walsize() - before
        merged = did; merge_time += time.time() - m0
    if walsize() > 256 << 20: db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
el = time.time() - t0
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so the file size below is the whole database
print(f"lsm merge every {MERGE}: {N} deltas in {el:.1f} s = {N/el:,.0f}/s (merges {merge_time:.1f} s); WAL {wal_bytes/N:,.0f} bytes/delta; db {os.path.getsize(path)/N:.0f} B/delta")
