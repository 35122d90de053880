"""Real mailboxes (docs/contract.md §13): the RFC 5322 parser, the IMAP and POP3 clients, and the
key that keeps mailbox passwords encrypted at rest. See docs/mailboxes.md."""
