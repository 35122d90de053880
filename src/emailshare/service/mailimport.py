"""``emailshare import-mail``: messages from files become a user's mailbox emails, through the
same parser and the same rules as synced ones (docs/mailboxes.md, "Importing from files")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from emailshare.domain.mail import Email
from emailshare.domain.mailserver import MailServer, Security
from emailshare.mail.parse import ParsedMail, Skipped, parse
from emailshare.service.mailports import Mailbox, MailboxStore
from emailshare.service.mailsync import as_email

BATCH = 200


@dataclass
class ImportSummary:
    read: int = 0
    new: int = 0
    skipped: int = 0


class Importer:
    """Adds parsed messages as ``owner``'s mailbox emails; each stored once (as in a sync)."""

    def __init__(self, store: MailboxStore, org_id: int, user_id: int, address: str) -> None:
        self.store = store
        self.box = Mailbox(org_id, user_id, "import", address, MailServer("", 0, Security.NONE, ""))

    async def run(self, messages: Iterable[tuple[str, bytes]]) -> ImportSummary:
        summary = ImportSummary()
        emails: list[Email] = []
        skipped: list[Skipped] = []
        now = datetime.now(UTC)
        for _, raw in messages:
            summary.read += 1
            got = parse(raw, now)
            if isinstance(got, ParsedMail):
                emails.append(as_email(got, self.box, False, True))
            else:
                skipped.append(got)
            if len(emails) + len(skipped) >= BATCH:
                summary.new += await self._flush(emails, skipped, summary)
        summary.new += await self._flush(emails, skipped, summary)
        return summary

    async def _flush(
        self, emails: list[Email], skipped: list[Skipped], summary: ImportSummary
    ) -> int:
        new = await self.store.add_emails(self.box.org_id, self.box.user_id, emails, skipped)
        summary.skipped += len(skipped)
        emails.clear()
        skipped.clear()
        return new
