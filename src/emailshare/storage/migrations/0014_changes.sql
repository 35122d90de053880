-- The change log: what each write transaction changed, appended in that transaction
-- (storage/changes.py), so every process of every instance empties only the caches a write
-- touched. seq is store_version.version as the transaction bumped it: writers take the row's
-- lock in turn, so seqs are gap-free and in commit order; a transaction writes one row per
-- scope, all with its seq. kind: 'record' (org_id, record_id), 'org' or 'tokens' (org_id),
-- 'all'. Old rows are pruned by the writers; a reader that finds its next seq gone empties
-- everything (docs/performance.md, "Writes empty only what they change").

CREATE TABLE changes (
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    org_id BIGINT,
    record_id BIGINT
);

CREATE INDEX changes_by_seq ON changes (seq);
