-- Zoho's API limits, emulated (api/ratelimit.py, storage/limits.py; docs/limits.md).
-- Kept in the store so that every worker of every instance counts against the same budget.
-- No foreign key to orgs: usage belongs to the org id, and survives a reload of the org's data.

-- Credits spent per org per minute (epoch seconds // 60); the rolling 24 hours are the sum of
-- the last 1440 buckets. Older buckets are pruned as the org spends.
CREATE TABLE api_credits (
    org_id BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    PRIMARY KEY (org_id, minute)
);

-- Requests in flight per org. Each holds a lease: a worker killed mid-request leaves a row that
-- stops counting when the lease expires, so no slot leaks for longer than that.
CREATE TABLE api_inflight (
    org_id BIGINT NOT NULL,
    slot TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, slot)
);

-- One row per org, written first by every admission: on PostgreSQL its row lock serialises
-- the check-then-spend of concurrent requests of one org (SQLite's BEGIN IMMEDIATE already
-- does), so a budget is never overspent by a race.
CREATE TABLE api_limit_orgs (
    org_id BIGINT PRIMARY KEY,
    touched BIGINT NOT NULL
);
