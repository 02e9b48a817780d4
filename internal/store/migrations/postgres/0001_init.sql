-- Initial schema for PostgreSQL 13 and later, the same tables as SQLite's
-- 0001 and 0002. See internal/store/README.md for the indexes. DDL is
-- transactional here: a migration applies whole or not at all.
--
-- Times are TIMESTAMPTZ (UTC instants, to the microsecond). Text cannot
-- hold NUL in PostgreSQL: the store writes U+FFFD instead. JSON is kept
-- as the text the store wrote (TEXT, not jsonb, which would refuse some
-- of what attackers send, such as \u0000).

CREATE TABLE logs (
    -- An identity's sequence is never lowered by DELETE, so ids are never
    -- reused and a live stream resuming "after id N" never skips rows.
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    timestamp   TIMESTAMPTZ NOT NULL,
    decky       TEXT        NOT NULL,
    service     TEXT        NOT NULL,
    event_type  TEXT        NOT NULL,
    severity    INTEGER     NOT NULL,
    attacker_ip TEXT        NOT NULL,
    fields      TEXT        NOT NULL, -- JSON object of string values
    msg         TEXT        NOT NULL,
    raw_line    TEXT        NOT NULL
);
CREATE INDEX logs_timestamp ON logs (timestamp);
-- A PostgreSQL index does not carry the row order: id is part of the key
-- so the matches of one value come in id order (newest-first pages).
CREATE INDEX logs_attacker_ip ON logs (attacker_ip, id);
CREATE INDEX logs_event_type ON logs (event_type, id);

CREATE TABLE bounties (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    timestamp    TIMESTAMPTZ NOT NULL,
    decky        TEXT        NOT NULL,
    service      TEXT        NOT NULL,
    attacker_ip  TEXT        NOT NULL,
    bounty_type  TEXT        NOT NULL,
    payload      TEXT        NOT NULL, -- JSON object
    payload_hash BYTEA       NOT NULL, -- SHA-256 of payload
    CONSTRAINT bounties_unique UNIQUE (bounty_type, attacker_ip, payload_hash)
);
CREATE INDEX bounties_attacker_ip ON bounties (attacker_ip, id);

CREATE TABLE state (
    key   TEXT  PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE users (
    uuid                 TEXT        PRIMARY KEY,
    username             TEXT        NOT NULL UNIQUE,
    password_hash        TEXT        NOT NULL,
    role                 TEXT        NOT NULL DEFAULT 'viewer' CHECK (role IN ('viewer', 'analyst', 'admin')),
    must_change_password BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE attackers (
    uuid             TEXT        PRIMARY KEY,
    ip               TEXT        NOT NULL UNIQUE,
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    event_count      BIGINT      NOT NULL DEFAULT 0,
    service_count    INTEGER     NOT NULL DEFAULT 0,
    decky_count      INTEGER     NOT NULL DEFAULT 0,
    services         TEXT        NOT NULL, -- JSON list
    deckies          TEXT        NOT NULL, -- JSON list, first-contact order
    traversal_path   TEXT,
    is_traversal     BOOLEAN     NOT NULL DEFAULT FALSE,
    bounty_count     BIGINT      NOT NULL DEFAULT 0,
    credential_count BIGINT      NOT NULL DEFAULT 0,
    fingerprints     TEXT        NOT NULL, -- JSON list of fingerprint bounties
    command_count    BIGINT      NOT NULL DEFAULT 0,
    commands         TEXT        NOT NULL, -- newest commands, JSON list of {service, decky, command, timestamp}
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX attackers_recent ON attackers (last_seen, ip);
CREATE INDEX attackers_active ON attackers (event_count, ip);
CREATE INDEX attackers_traversals ON attackers (is_traversal, last_seen, ip);

CREATE TABLE attacker_behavior (
    attacker_uuid     TEXT PRIMARY KEY REFERENCES attackers (uuid) ON DELETE CASCADE,
    os_guess          TEXT,
    hop_distance      INTEGER,
    tcp_fingerprint   TEXT        NOT NULL, -- JSON object or null
    retransmit_count  INTEGER     NOT NULL DEFAULT 0,
    behavior_class    TEXT,
    beacon_interval_s DOUBLE PRECISION,
    beacon_jitter_pct DOUBLE PRECISION,
    tool_guesses      TEXT,                 -- JSON list or null
    timing_stats      TEXT        NOT NULL, -- JSON object
    phase_sequence    TEXT        NOT NULL, -- JSON object
    updated_at        TIMESTAMPTZ NOT NULL
);
