-- Real mailbox servers and their sync state (docs/contract.md §13, docs/mailboxes.md).
-- Written in the SQL that SQLite and PostgreSQL share. password_enc is a Fernet token made with
-- the operator's key (emailshare.mail.vault); the key itself is never in the store.

CREATE TABLE mailbox_servers (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    security TEXT NOT NULL,
    login TEXT NOT NULL,
    password_enc TEXT,
    last_sync_at BIGINT,
    message_count BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at BIGINT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_try_at BIGINT NOT NULL DEFAULT 0,
    -- One instance syncs a mailbox at a time: it holds the lease until lease_until (renewed
    -- with every batch it writes; a crashed instance's lease simply runs out).
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, user_id)
);

-- IMAP: per folder, the UIDVALIDITY seen and the highest UID stored.
CREATE TABLE mailbox_folders (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, folder)
);

-- POP3: the UIDLs already stored (POP3 has no order to resume from).
CREATE TABLE mailbox_pop_seen (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    uidl TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, uidl)
);

-- Messages that could not become an email, and why.
CREATE TABLE mailbox_skipped (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    message_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, message_key)
);
