-- Events per service, kept by Ingest. See the SQLite migration 0004. The
-- CREATE commits on its own; the backfill commits with the migration's
-- version row, so a crash between them leaves an empty table that a rerun
-- fills once.
CREATE TABLE IF NOT EXISTS service_counts (
    service VARCHAR(255) NOT NULL PRIMARY KEY,
    n       BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO service_counts (service, n) SELECT service, COUNT(*) FROM logs GROUP BY service;
