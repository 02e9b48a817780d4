-- The analyst role, and the indexes the attacker views need.
-- See internal/store/README.md for the reasoning per index.

-- A CHECK constraint cannot be altered in SQLite: rebuild users. Nothing
-- references users, so foreign keys need no care.
CREATE TABLE users_new (
    uuid                 TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,
    role                 TEXT NOT NULL DEFAULT 'viewer' CHECK (role IN ('viewer', 'analyst', 'admin')),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);
INSERT INTO users_new (uuid, username, password_hash, role, must_change_password, created_at)
    SELECT uuid, username, password_hash, role, must_change_password, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- The profiler reads every bounty of an attacker; the unique key leads
-- with bounty_type, so it cannot serve that.
CREATE INDEX bounties_attacker_ip ON bounties (attacker_ip);

-- Attackers carry their command count (the list shows it; the commands
-- JSON holds only the newest MaxProfileCommands).
ALTER TABLE attackers ADD COLUMN command_count INTEGER NOT NULL DEFAULT 0;

-- One index per sort of the attackers list, each ending with ip (unique)
-- so pages are stable and the index alone gives the whole order.
DROP INDEX attackers_last_seen;
CREATE INDEX attackers_recent ON attackers (last_seen, ip);
CREATE INDEX attackers_active ON attackers (event_count, ip);
CREATE INDEX attackers_traversals ON attackers (is_traversal, last_seen, ip);
