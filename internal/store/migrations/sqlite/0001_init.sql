-- Initial schema. Times are TEXT in one fixed-width UTC layout
-- (2006-01-02T15:04:05.000000000Z): they sort as text, SQLite's date
-- functions read them, and they stay readable in the sqlite3 shell.
--
-- Index budget: every secondary index on logs costs insert throughput (the
-- ingest path is the hot path), so logs carries only the three the queries
-- need; see internal/store/README.md for the reasoning per index.

CREATE TABLE logs (
    -- AUTOINCREMENT: ids are never reused, even after a purge, so a live
    -- stream resuming "after id N" never skips new rows.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp   TEXT    NOT NULL,
    decky       TEXT    NOT NULL,
    service     TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    severity    INTEGER NOT NULL,
    attacker_ip TEXT    NOT NULL,
    fields      TEXT    NOT NULL, -- JSON object of string values
    msg         TEXT    NOT NULL,
    raw_line    TEXT    NOT NULL
);
-- Time-range filters and histograms.
CREATE INDEX logs_timestamp ON logs (timestamp);
-- Per-attacker views, the profiler, and the distinct-attacker count (a
-- covering scan of this index).
CREATE INDEX logs_attacker_ip ON logs (attacker_ip);
-- event:<type> filters (auth, command, file_captured are rare among
-- connects); the rowid suffix keeps matches in id order.
CREATE INDEX logs_event_type ON logs (event_type);

CREATE TABLE bounties (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp    TEXT NOT NULL,
    decky        TEXT NOT NULL,
    service      TEXT NOT NULL,
    attacker_ip  TEXT NOT NULL,
    bounty_type  TEXT NOT NULL,
    payload      TEXT NOT NULL, -- JSON object
    payload_hash BLOB NOT NULL, -- SHA-256 of payload
    -- One row per distinct revelation; its leading column also serves the
    -- bounty_type filter.
    UNIQUE (bounty_type, attacker_ip, payload_hash)
);

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    uuid                 TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'viewer')),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);

-- Filled by the profiler: one row per attacker IP.
CREATE TABLE attackers (
    uuid             TEXT PRIMARY KEY,
    ip               TEXT NOT NULL UNIQUE,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    event_count      INTEGER NOT NULL DEFAULT 0,
    service_count    INTEGER NOT NULL DEFAULT 0,
    decky_count      INTEGER NOT NULL DEFAULT 0,
    services         TEXT NOT NULL DEFAULT '[]', -- JSON list
    deckies          TEXT NOT NULL DEFAULT '[]', -- JSON list, first-contact order
    traversal_path   TEXT,
    is_traversal     INTEGER NOT NULL DEFAULT 0,
    bounty_count     INTEGER NOT NULL DEFAULT 0,
    credential_count INTEGER NOT NULL DEFAULT 0,
    fingerprints     TEXT NOT NULL DEFAULT '[]', -- JSON list of fingerprint bounties
    commands         TEXT NOT NULL DEFAULT '[]', -- JSON list of {service, decky, command, timestamp}
    updated_at       TEXT NOT NULL
);
-- The attackers list sorts by recency by default.
CREATE INDEX attackers_last_seen ON attackers (last_seen);

CREATE TABLE attacker_behavior (
    attacker_uuid     TEXT PRIMARY KEY REFERENCES attackers (uuid) ON DELETE CASCADE,
    os_guess          TEXT,
    hop_distance      INTEGER,
    tcp_fingerprint   TEXT NOT NULL DEFAULT '{}', -- JSON {window, wscale, mss, options_sig, has_sack, has_timestamps}
    retransmit_count  INTEGER NOT NULL DEFAULT 0,
    behavior_class    TEXT,
    beacon_interval_s REAL,
    beacon_jitter_pct REAL,
    tool_guesses      TEXT, -- JSON list
    timing_stats      TEXT NOT NULL DEFAULT '{}',
    phase_sequence    TEXT NOT NULL DEFAULT '[]',
    updated_at        TEXT NOT NULL
) WITHOUT ROWID;
