# Layout experiment (python3 + stdlib sqlite3, no server): writes N deltas over 10,000 customers in commits of 800
# (8 batches of 100 distinct customers, like the batch bench) with the server's current layout ("current": deltas by
# rowid + records_by_customer + deltas_by_reference) or a per-customer clustered journal ("clustered": one WITHOUT
# ROWID b-tree keyed (customer, kind, key) holding the delta rows and the reference dedup entries), then reads 100
# rows of random customers. Prints deltas/s, WAL bytes per delta and the 100-row read time. See docs/design.md.
# Usage: python3 bench/layout/clustered.py current|clustered [N]
import sqlite3, os, time, random, sys
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
CUST = 10_000
GROUP = 800  # deltas per commit (8 batches of 100 distinct customers)
mode = sys.argv[1]
path = f"/tmp/tally-layout-{mode}.db"
for ext in ("", "-wal", "-shm"):
    if os.path.exists(path + ext): os.remove(path + ext)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF"); db.execute("PRAGMA wal_autocheckpoint=0")
db.execute("PRAGMA cache_size=-131072")
if mode == "current":
    db.executescript("""
    CREATE TABLE records (id INTEGER PRIMARY KEY, customer INTEGER, first_seq INTEGER, first_delta INTEGER, receipt BLOB, accepted_at INTEGER);
    CREATE UNIQUE INDEX records_by_customer ON records (customer, first_seq);
    CREATE TABLE deltas (id INTEGER PRIMARY KEY, customer INTEGER, seq INTEGER, record INTEGER, amount INTEGER, reason TEXT, reference_id TEXT, salt BLOB, item_hash BLOB, received_at INTEGER);
    CREATE UNIQUE INDEX deltas_by_reference ON deltas (customer, reference_id) WHERE reference_id IS NOT NULL;
    """)
else:
    # one clustered b-tree per customer: kind 0 = the delta row keyed by seq, kind 1 = reference dedup entry
    db.executescript("""
    CREATE TABLE records (id INTEGER PRIMARY KEY, customer INTEGER, first_seq INTEGER, first_delta INTEGER, receipt BLOB, accepted_at INTEGER);
    CREATE TABLE journal (customer INTEGER, kind INTEGER, key BLOB, id INTEGER, record INTEGER, amount INTEGER, reason TEXT, reference_id TEXT, salt BLOB, item_hash BLOB, received_at INTEGER, PRIMARY KEY (customer, kind, key)) WITHOUT ROWID;
    CREATE TABLE deltas_by_id (id INTEGER PRIMARY KEY, customer INTEGER, seq INTEGER);
    """)
seqs = [0] * CUST
rnd = random.Random(1)
wal = path + "-wal"
t0 = time.time(); wal_bytes = 0; did = 0
while did < N:
    db.execute("BEGIN")
    for b in range(GROUP // 100):
        custs = rnd.sample(range(CUST), 100)
        for c in custs:
            did += 1; s = seqs[c]; seqs[c] += 1
            ref = f"ref-{did}"
            salt = os.urandom(16); h = os.urandom(32)
            db.execute("INSERT INTO records VALUES (?,?,?,?,?,?)", (did, c, s, did, h, did))
            if mode == "current":
                db.execute("INSERT INTO deltas VALUES (?,?,?,?,?,?,?,?,?,?)", (did, c, s, did, -125000000, "usage", ref, salt, h, did))
            else:
                db.execute("INSERT INTO journal VALUES (?,?,?,?,?,?,?,?,?,?,?)", (c, 0, s.to_bytes(8, 'big'), did, did, -125000000, "usage", ref, salt, h, did))
                db.execute("INSERT INTO journal (customer, kind, key, id) VALUES (?,?,?,?)", (c, 1, ref.encode(), did))
                db.execute("INSERT INTO deltas_by_id VALUES (?,?,?)", (did, c, s))
    before = os.path.getsize(wal) if os.path.exists(wal) else 0
    db.execute("COMMIT")
    after = os.path.getsize(wal)
    wal_bytes += after - before
    if after > 256 << 20:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
el = time.time() - t0
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so the file size below is the whole database
print(f"{mode}: {N} deltas in {el:.1f} s = {N/el:,.0f}/s; WAL {wal_bytes/N:,.0f} bytes/delta; db {os.path.getsize(path)/N:.0f} B/delta")
# derive: 100 rows of a random customer, 2000 times
q_cur = "SELECT d.* FROM records r JOIN deltas d ON d.id = r.first_delta WHERE r.customer = ? AND r.first_seq >= 0 ORDER BY r.first_seq LIMIT 100"
q_new = "SELECT * FROM journal WHERE customer = ? AND kind = 0 ORDER BY key LIMIT 100"
db2 = sqlite3.connect(path); db2.execute("PRAGMA cache_size=-16384")
q = q_cur if mode == "current" else q_new
t0 = time.time()
for i in range(2000):
    rows = db2.execute(q, (rnd.randrange(CUST),)).fetchall()
el = time.time() - t0
print(f"{mode}: derive 100 rows: {el/2000*1e6:,.0f} us per query ({len(rows)} rows)")
