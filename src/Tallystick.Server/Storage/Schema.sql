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
-- Scoped balances (balance at time T = balance_after of the last record accepted before T) binary-search
-- records_by_customer: acceptance times never go backwards, so per customer accepted_at order is first_seq order.
-- There is deliberately no (customer, accepted_at) index: it cost every write one more random b-tree insert.

-- Public verification looks a record up by its receipt root (GET /api/v1/verify/{proofRoot}): one seek per epoch
-- of 65,536 records (Deltas/ReceiptIndex.cs). Leading with the epoch keeps the random receipt keys of new records in
-- one small subtree, so a commit dirties few index pages however large the ledger; the root's first 8 bytes
-- (random, so as selective as all 32) keep the entries small.
CREATE INDEX records_by_receipt_epoch ON records (id >> 16, substr(receipt, 1, 8));

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
    subtrees BLOB,                 -- full tiles: 30 interior hashes (TransparencyLog/TileSubtrees.cs); else NULL
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

-- Webhooks (docs/api.md, Webhooks). Endpoints belong to one plane. The secret is kept in clear because every
-- delivery is signed with it (HMAC); previous_secret signs too until previous_secret_until (rotation overlap).
CREATE TABLE webhook_endpoints (
    id                    INTEGER PRIMARY KEY,  -- we_<id>
    plane_id              INTEGER NOT NULL,
    url                   TEXT NOT NULL,
    description           TEXT,
    events                TEXT,                 -- comma-separated event types; NULL = every event
    enabled               INTEGER NOT NULL,
    disabled_reason       TEXT,
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until INTEGER,
    failing_since         INTEGER,              -- first failed attempt since the last success
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    deleted_at            INTEGER
);
CREATE INDEX webhook_endpoints_by_plane ON webhook_endpoints (plane_id, id);

-- The outbox: one row per event, written by the sequencer in the transaction that produced the state it describes.
-- subject is the delta id (delta.verified), record id (receipt.generated), period checkpoint id
-- (checkpoint.verified) or endpoint id (test). leaf_index is the log entry the event depends on: it is fanned out
-- only once the state is durable (published by the fsync thread). fanned_out: delivery rows exist.
CREATE TABLE webhook_events (
    id         INTEGER PRIMARY KEY,           -- evt_<id>
    plane_id   INTEGER NOT NULL,
    type       TEXT NOT NULL,
    subject    INTEGER NOT NULL,
    leaf_index INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    fanned_out INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_events_unfanned ON webhook_events (id) WHERE fanned_out = 0;

-- One event to one endpoint: the retry state. window_start restarts on a manual retry.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL,
    endpoint_id      INTEGER NOT NULL,
    plane_id         INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,
    window_start     INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    last_duration_ms INTEGER,
    delivered_at     INTEGER,
    created_at       INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_plane ON webhook_deliveries (plane_id, id);

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
