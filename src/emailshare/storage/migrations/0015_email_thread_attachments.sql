-- has_thread_attachment (storage/emails.py, _FACTS) asks, for every listed or opened email that
-- has no attachments itself, whether an email of its owner's thread has any. emails_by_thread
-- held every email, so that search read each email of the thread from the table to see its
-- has_attachment: ~10-15 µs of a Lead's page at 500,000 emails (docs/performance.md, "Emails
-- list"). The index below holds only the emails with attachments (the statement's
-- t.has_attachment = 1 lets both stores use it), so the search is one probe of a small index;
-- nothing else read emails_by_thread.
DROP INDEX IF EXISTS emails_by_thread;
CREATE INDEX IF NOT EXISTS emails_thread_attachments ON emails (org_id, owner_id, thread_id)
    WHERE has_attachment = 1;
