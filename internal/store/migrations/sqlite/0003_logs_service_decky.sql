-- service:x and decky:x filters, the commonest searches of a dashboard,
-- scanned the whole table (154 ms for a count at a million logs). Each
-- index costs ingest throughput; docs/benchmarks.md has the figures.
CREATE INDEX logs_service ON logs (service, id);
CREATE INDEX logs_decky ON logs (decky, id);
