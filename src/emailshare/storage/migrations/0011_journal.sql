-- The request journal of the admin API (api/journal.py, service/journal.py, storage/journal.py;
-- docs/observability.md): every worker of every instance writes its requests here, so one
-- journal shows them all. A SQLite store keeps it in a file of its own beside the store
-- (bootstrap.journal_url), so that its commits never move the version the caches watch. Bounded: each write keeps the newest --request-log-size entries.
-- Secrets never reach it: headers, query and bodies are redacted before they are written.

-- seq: the order entries were written in, from the counter below (one counter row, so the
-- numbering is dense and shared by every writer; a rolled-back write rolls it back too).
CREATE TABLE journal (
    seq BIGINT PRIMARY KEY,
    request_id TEXT NOT NULL,
    started_us BIGINT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_us BIGINT NOT NULL,
    user_id BIGINT,
    org_id BIGINT,
    request_headers TEXT NOT NULL,
    request_body TEXT NOT NULL,
    request_size BIGINT NOT NULL,
    response_headers TEXT NOT NULL,
    response_body TEXT NOT NULL,
    response_size BIGINT NOT NULL,
    server TEXT NOT NULL
);

CREATE INDEX journal_by_time ON journal (started_us, seq);

CREATE INDEX journal_by_request_id ON journal (request_id);

CREATE TABLE journal_seq (
    id INTEGER PRIMARY KEY,
    last BIGINT NOT NULL
);

INSERT INTO journal_seq (id, last) VALUES (1, 0);
