-- Bounded OAuth tables (storage/oauth.py; docs/reliability.md "Bounded growth"): every token
-- write removes a batch of expired access tokens and grant codes, found by their expiry, and
-- keeps at most 15 client-credentials tokens per client and org (the oldest die), as Zoho
-- keeps 15 access tokens per refresh token; grant codes are kept 10 per client and user, the
-- newest by their order of issue (seq, as the tokens').
CREATE INDEX IF NOT EXISTS access_tokens_by_expiry ON access_tokens (expires_at);
CREATE INDEX IF NOT EXISTS access_tokens_by_client ON access_tokens (client_id, org_id, seq) WHERE refresh_hash IS NULL;
CREATE INDEX IF NOT EXISTS grant_codes_by_expiry ON grant_codes (expires_at);
ALTER TABLE grant_codes ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS grant_codes_by_user ON grant_codes (client_id, org_id, user_id, seq);
