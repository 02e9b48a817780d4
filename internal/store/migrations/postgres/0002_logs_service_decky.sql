-- service:x and decky:x filters, the commonest searches of a dashboard,
-- scanned the whole table. See the SQLite migration 0003.
CREATE INDEX logs_service ON logs (service, id);
CREATE INDEX logs_decky ON logs (decky, id);
