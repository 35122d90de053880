-- The emails queries start from one record's addresses (storage/emails.py): an index that
-- holds a record's address keys serves them; nothing looks records up by address.
DROP INDEX IF EXISTS record_addresses_by_key;
CREATE INDEX IF NOT EXISTS record_addresses_by_record ON record_addresses (org_id, record_id, address_key);
