-- Initial schema for MySQL 8 / MariaDB 10.6 and later, the same tables as
-- SQLite's 0001 and 0002. See internal/store/README.md for the indexes.
--
-- MySQL commits each DDL statement on its own, so a crash can leave a
-- migration half applied and unrecorded: every statement here can run
-- again (IF NOT EXISTS; indexes inside CREATE TABLE).
--
-- Text is utf8mb4 with the binary collation: '=' and ORDER BY compare
-- exactly, as on SQLite and PostgreSQL (searches ask for case-insensitive
-- matching explicitly). Indexed text is VARCHAR(255) (the store cuts
-- longer values); times are DATETIME(6), UTC, to the microsecond.

CREATE TABLE IF NOT EXISTS logs (
    -- AUTO_INCREMENT: InnoDB keeps the counter across restarts (MySQL 8,
    -- MariaDB 10.2.4+) and DELETE never lowers it, so ids are never
    -- reused and a live stream resuming "after id N" never skips rows.
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    timestamp   DATETIME(6)  NOT NULL,
    decky       VARCHAR(255) NOT NULL,
    service     VARCHAR(255) NOT NULL,
    event_type  VARCHAR(255) NOT NULL,
    severity    INT          NOT NULL,
    attacker_ip VARCHAR(255) NOT NULL,
    fields      LONGTEXT     NOT NULL, -- JSON object of string values
    msg         LONGTEXT     NOT NULL,
    raw_line    LONGTEXT     NOT NULL,
    KEY logs_timestamp (timestamp),
    -- InnoDB appends the primary key to every secondary index: id is
    -- written out only to say that matches come in id order.
    KEY logs_attacker_ip (attacker_ip, id),
    KEY logs_event_type (event_type, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS bounties (
    id           BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    timestamp    DATETIME(6)  NOT NULL,
    decky        VARCHAR(255) NOT NULL,
    service      VARCHAR(255) NOT NULL,
    attacker_ip  VARCHAR(255) NOT NULL,
    bounty_type  VARCHAR(255) NOT NULL,
    payload      LONGTEXT     NOT NULL, -- JSON object
    payload_hash BINARY(32)   NOT NULL, -- SHA-256 of payload
    UNIQUE KEY bounties_unique (bounty_type, attacker_ip, payload_hash),
    KEY bounties_attacker_ip (attacker_ip)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS state (
    `key` VARCHAR(255) NOT NULL PRIMARY KEY,
    value LONGBLOB     NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS users (
    uuid                 VARCHAR(255) NOT NULL PRIMARY KEY,
    username             VARCHAR(255) NOT NULL UNIQUE,
    password_hash        VARCHAR(255) NOT NULL,
    role                 VARCHAR(16)  NOT NULL DEFAULT 'viewer' CHECK (role IN ('viewer', 'analyst', 'admin')),
    must_change_password BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at           DATETIME(6)  NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS attackers (
    uuid             VARCHAR(255) NOT NULL PRIMARY KEY,
    ip               VARCHAR(255) NOT NULL UNIQUE,
    first_seen       DATETIME(6)  NOT NULL,
    last_seen        DATETIME(6)  NOT NULL,
    event_count      BIGINT       NOT NULL DEFAULT 0,
    service_count    INT          NOT NULL DEFAULT 0,
    decky_count      INT          NOT NULL DEFAULT 0,
    services         LONGTEXT     NOT NULL, -- JSON list
    deckies          LONGTEXT     NOT NULL, -- JSON list, first-contact order
    traversal_path   LONGTEXT,
    is_traversal     BOOLEAN      NOT NULL DEFAULT FALSE,
    bounty_count     BIGINT       NOT NULL DEFAULT 0,
    credential_count BIGINT       NOT NULL DEFAULT 0,
    fingerprints     LONGTEXT     NOT NULL, -- JSON list of fingerprint bounties
    command_count    BIGINT       NOT NULL DEFAULT 0,
    commands         LONGTEXT     NOT NULL, -- newest commands, JSON list of {service, decky, command, timestamp}
    updated_at       DATETIME(6)  NOT NULL,
    KEY attackers_recent (last_seen, ip),
    KEY attackers_active (event_count, ip),
    KEY attackers_traversals (is_traversal, last_seen, ip)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS attacker_behavior (
    attacker_uuid     VARCHAR(255) NOT NULL PRIMARY KEY,
    os_guess          LONGTEXT,
    hop_distance      INT,
    tcp_fingerprint   LONGTEXT    NOT NULL, -- JSON object or null
    retransmit_count  INT         NOT NULL DEFAULT 0,
    behavior_class    VARCHAR(255),
    beacon_interval_s DOUBLE,
    beacon_jitter_pct DOUBLE,
    tool_guesses      LONGTEXT,             -- JSON list or null
    timing_stats      LONGTEXT    NOT NULL, -- JSON object
    phase_sequence    LONGTEXT    NOT NULL, -- JSON object
    updated_at        DATETIME(6) NOT NULL,
    CONSTRAINT attacker_behavior_attacker FOREIGN KEY (attacker_uuid) REFERENCES attackers (uuid) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
