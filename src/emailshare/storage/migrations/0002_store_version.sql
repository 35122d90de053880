-- A counter every write transaction bumps, so every process of every instance can tell, with
-- one cheap read, whether anything changed since it last looked (used to keep caches exact).
-- SQLite processes use PRAGMA data_version instead; the row is kept for both all the same.

CREATE TABLE store_version (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);

INSERT INTO store_version (id, version) VALUES (1, 0);
