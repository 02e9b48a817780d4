-- service:x and decky:x filters, the commonest searches of a dashboard,
-- scanned the whole table. See the SQLite migration 0003. One ALTER, so
-- both indexes come or neither does.
ALTER TABLE logs ADD INDEX logs_service (service, id), ADD INDEX logs_decky (decky, id);
