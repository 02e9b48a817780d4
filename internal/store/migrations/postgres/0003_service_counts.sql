-- Events per service, kept by Ingest. See the SQLite migration 0004.
CREATE TABLE service_counts (
    service TEXT   PRIMARY KEY,
    n       BIGINT NOT NULL
);
INSERT INTO service_counts (service, n) SELECT service, COUNT(*) FROM logs GROUP BY service;
