-- Tallystick SQLite schema, version 1. Applied once to a new database; docs/operations.md describes it.
-- Append-only by design: no statement in the server updates or deletes a delta, a record or a log row.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- A data plane: one tenant's test or live environment. Nothing crosses planes.
CREATE TABLE planes (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    environment   TEXT NOT NULL CHECK (environment IN ('test', 'live')),
    reference_key BLOB NOT NULL,   -- HMAC key for customerReference; never leaves the server
    created_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, environment)
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    plane_id    INTEGER NOT NULL REFERENCES planes(id),
    public_id   TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,     -- SHA-256 of the whole key string; the key itself is never stored
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

-- Customers are created by their first delta. Their running state lives in `records`.
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    plane_id    INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    reference   BLOB NOT NULL,     -- 20-byte keyed reference
    first_at    INTEGER NOT NULL,
    UNIQUE (plane_id, customer_id)
);

-- A record (submission): one customer's deltas accepted together, anchored by one log leaf.
-- balance_after/first_seq make every record a checkpoint of the customer's running totals, so balances are
-- index seeks, never scans. A customer's records in first_seq order are also in leaf_index order, and their
-- deltas are contiguous rowid ranges, so records_by_customer is the only per-customer index the ledger needs:
-- deltas carry no per-customer index of their own (one random b-tree insert per delta less).
CREATE TABLE records (
    id            INTEGER PRIMARY KEY,
    plane_id      INTEGER NOT NULL,
    customer      INTEGER NOT NULL,
    leaf_index    INTEGER NOT NULL,
    receipt       BLOB NOT NULL,   -- receipt root (32 bytes)
    first_delta   INTEGER NOT NULL, -- rowid of the first delta; the record's deltas are contiguous rowids
    first_seq     INTEGER NOT NULL,
    delta_count   INTEGER NOT NULL,
    net_units     INTEGER NOT NULL,
    balance_after TEXT NOT NULL,   -- exact decimal text
    accepted_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX records_by_customer ON records (customer, first_seq);
-- Scoped balances (balance at time T = balance_after of the last record accepted before T) are one seek here:
-- acceptance times never go backwards, so per customer accepted_at order is first_seq order.
CREATE INDEX records_by_time ON records (customer, accepted_at);

-- Public verification looks a record up by its receipt root (GET /api/v1/verify/{proofRoot}): one seek. Keyed by
-- the root's first 8 bytes (random, so as selective) rather than all 32: a smaller index costs less on every write.
CREATE INDEX records_by_receipt ON records (substr(receipt, 1, 8));

CREATE TABLE deltas (
    id           INTEGER PRIMARY KEY, -- global index + 1
    customer     INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    record       INTEGER NOT NULL,
    amount_units INTEGER NOT NULL,    -- delta × 10^8, exact
    reason       TEXT NOT NULL,
    reference_id TEXT,
    metadata     TEXT,                -- canonical JSON (RFC 8785)
    salt         BLOB NOT NULL,
    item_hash    BLOB NOT NULL,
    received_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX deltas_by_reference ON deltas (customer, reference_id) WHERE reference_id IS NOT NULL;

-- A period checkpoint: one customer's verified deltas in a sequence window, committed by a root and anchored by one
-- log entry (type 0x02). `statement` is the signed note (the proof token's content). One per window: repeating the
-- request for the same resolved window returns it (idempotent).
CREATE TABLE period_checkpoints (
    id               INTEGER PRIMARY KEY,  -- chk_<id>
    plane_id         INTEGER NOT NULL,
    customer         INTEGER NOT NULL,
    from_seq         INTEGER NOT NULL,
    to_seq           INTEGER NOT NULL,     -- exclusive
    starting_balance TEXT NOT NULL,
    ending_balance   TEXT NOT NULL,
    proof_root       BLOB NOT NULL,
    statement        TEXT NOT NULL,
    leaf_index       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    UNIQUE (plane_id, customer, from_seq, to_seq)
);
CREATE INDEX period_checkpoints_by_root ON period_checkpoints (proof_root);
CREATE INDEX period_checkpoints_by_customer ON period_checkpoints (plane_id, customer, id);

-- The transparency log: entries, hash tiles (C2SP tlog-tiles layout) and signed checkpoints.
CREATE TABLE log_entries (
    idx   INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
);

CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB NOT NULL,          -- up to 256 × 32 bytes
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
    plane_id    INTEGER NOT NULL,
    key         TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status_code INTEGER NOT NULL,
    response    BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (plane_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
