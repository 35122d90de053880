-- orgs.version was bumped by every share and read by nothing: the caches are kept exact by
-- the store's version (store_version on PostgreSQL, the wal-index on SQLite), never by it.
-- DROP COLUMN is in both engines (SQLite since 3.35).

ALTER TABLE orgs DROP COLUMN version;
