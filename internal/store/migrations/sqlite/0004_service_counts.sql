-- Events per service, kept by Ingest in the same transaction as the logs:
-- the dashboard's top services read it instead of counting every log
-- (about 200 ms at a million logs).
CREATE TABLE service_counts (
    service TEXT PRIMARY KEY,
    n       INTEGER NOT NULL
);
INSERT INTO service_counts (service, n) SELECT service, COUNT(*) FROM logs GROUP BY service;
