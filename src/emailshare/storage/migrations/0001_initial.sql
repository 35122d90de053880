-- The first schema. Written in the SQL that SQLite and PostgreSQL share.
-- Ids are Zoho's 64-bit ids (BIGINT). name_key is the UTF-8 of the name's case fold: comparing
-- it bytewise (BYTEA in PostgreSQL, a BLOB in SQLite) is comparing by code point.

CREATE TABLE orgs (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE data_sharing (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    module TEXT NOT NULL,
    level TEXT NOT NULL,
    PRIMARY KEY (org_id, module)
);

CREATE TABLE custom_modules (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name_fold TEXT NOT NULL,
    api_name TEXT NOT NULL,
    PRIMARY KEY (org_id, name_fold)
);

CREATE TABLE roles (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    reports_to BIGINT,
    PRIMARY KEY (org_id, id)
);

-- Every (role, role above it) pair: the hierarchy closed once at load time.
CREATE TABLE role_ancestors (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL,
    ancestor_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, role_id, ancestor_id)
);

CREATE TABLE users (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    name_key BYTEA NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    profile TEXT NOT NULL,
    role_id BIGINT,
    mailbox_protocol TEXT,
    mailbox_address TEXT,
    mailbox_enabled INTEGER NOT NULL DEFAULT 0,
    email_sharing TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- The users whose mailbox any caller may read, in answer order.
CREATE INDEX users_public_by_name ON users (org_id, name_key, id)
    WHERE email_sharing = 'public' AND status = 'active'
      AND mailbox_enabled = 1 AND mailbox_protocol IS NOT NULL;

CREATE TABLE records (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    module TEXT NOT NULL,
    name TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE record_shares (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    record_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, record_id, user_id)
);

CREATE TABLE email_shares (
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    record_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (org_id, record_id, user_id)
);

CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    org_id BIGINT REFERENCES orgs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    redirect_uri TEXT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (org_id, user_id, seq);

CREATE TABLE grant_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    refresh_hash TEXT REFERENCES refresh_tokens (token_hash) ON DELETE CASCADE,
    client_id TEXT,
    seq BIGINT NOT NULL
);
CREATE INDEX access_tokens_by_refresh ON access_tokens (refresh_hash, seq);
