-- The emails of records (docs/contract.md §§10.1 and 12; storage/emails.py).
-- Written in the SQL that SQLite and PostgreSQL share. Addresses are compared by address_key,
-- the address with ASCII letters lower-cased (domain.emails.address_key), so matching is a
-- plain equality in both stores whatever the database's collation.

-- A record's email addresses (Leads, Contacts, custom modules), Email first.
CREATE TABLE record_addresses (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    record_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    address TEXT NOT NULL,
    address_key TEXT NOT NULL,
    PRIMARY KEY (org_id, record_id, position)
);
CREATE INDEX record_addresses_by_key ON record_addresses (org_id, address_key, record_id);

-- A Contact's Account.
CREATE TABLE contact_accounts (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, contact_id)
);
CREATE INDEX contact_accounts_by_account ON contact_accounts (org_id, account_id, contact_id);

-- A Deal's Contacts, in the fixture's order.
CREATE TABLE deal_contacts (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    deal_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (org_id, deal_id, contact_id)
);

-- One row per stored email. time_epoch orders (an instant); time_offset (minutes east of UTC)
-- gives the time back as it was written. mid_key is the message id's bytes: ordering on it is
-- code point order in both stores. Lists of parties, attachments and status are JSON text.
CREATE TABLE emails (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    mid_key BYTEA NOT NULL,
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    record_id BIGINT,
    linked_deal BIGINT,
    thread_id TEXT,
    time_epoch BIGINT NOT NULL,
    time_offset INTEGER NOT NULL,
    from_name TEXT,
    from_email TEXT NOT NULL,
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    reply_to_json TEXT,
    subject TEXT,
    content TEXT NOT NULL,
    mail_format TEXT NOT NULL,
    sent INTEGER NOT NULL,
    is_read INTEGER NOT NULL,
    attachments_json TEXT NOT NULL,
    has_attachment INTEGER NOT NULL,
    status_json TEXT NOT NULL,
    source TEXT,
    intent TEXT,
    sentiment_info TEXT,
    emotion TEXT,
    summary TEXT,
    position INTEGER NOT NULL,
    PRIMARY KEY (org_id, message_id)
);
-- Newest-first keyset pages of a record's CRM emails, and of the emails linked to a Deal.
CREATE INDEX emails_by_record ON emails (org_id, record_id, time_epoch DESC, mid_key);
CREATE INDEX emails_by_deal ON emails (org_id, linked_deal, time_epoch DESC, mid_key);
-- Newest-first over an org's mailbox emails; has_thread_attachment looks up a thread.
CREATE INDEX emails_by_time ON emails (org_id, time_epoch DESC, mid_key);
CREATE INDEX emails_by_thread ON emails (org_id, owner_id, thread_id);

-- The from/to/cc addresses of each mailbox email, by key: how they meet records' addresses.
CREATE TABLE email_addresses (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    address_key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (org_id, address_key, message_id)
);
CREATE INDEX email_addresses_by_message ON email_addresses (org_id, message_id);

-- Secrets of this store (the key that signs the emails list's next_index / prev_index).
CREATE TABLE store_secrets (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
