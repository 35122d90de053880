"""An :class:`~emailshare.service.explain.Explanation` laid out with its answer: a JSON-ready
document (the admin API's ``explain``) and a terminal text (``format=text``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from emailshare.domain.model import Org, Role, User
from emailshare.service.explain import Explanation


def _ref(user: User | None) -> dict[str, str] | None:
    return {"id": str(user.id), "name": user.name} if user else None


def _role_ref(role: Role | None) -> dict[str, str] | None:
    return {"id": str(role.id), "name": role.name} if role else None


def _user_doc(user: User, org: Org) -> dict[str, Any]:
    roles = {r.id: r for r in org.roles}
    return {
        "id": str(user.id),
        "name": user.name,
        "status": user.status.value,
        "profile": user.profile.value,
        "role": _role_ref(roles.get(user.role) if user.role is not None else None),
        "mailbox": (
            {"protocol": user.mailbox.protocol.value, "enabled": user.mailbox.enabled}
            if user.mailbox
            else None
        ),
        "email_sharing": user.email_sharing.value,
    }


def as_document(exp: Explanation, status: int, body: Any) -> dict[str, Any]:
    """The explanation as plain JSON values, with the answer (``status`` and parsed ``body``)."""
    record = exp.record
    read = exp.read
    return {
        "org": {"id": str(exp.org.id), "name": exp.org.name},
        "caller": _user_doc(exp.caller, exp.org),
        "module": exp.module.api_name if exp.module else exp.module_name,
        "record": (
            {
                "id": str(record.id),
                "module": record.module,
                "name": record.name,
                "owner": _ref(exp.org.user(record.owner)),
                "shared_with": [str(u) for u in sorted(record.shared_with)],
                "emails_shared_by": [str(u) for u in sorted(record.emails_shared_by)],
            }
            if record
            else None
        ),
        "checks": [{"check": c.name, "passed": c.passed, "detail": c.detail} for c in exp.checks],
        "read": (
            {
                "may_read": read.may_read,
                "rule": read.rule.value if read.rule else None,
                "facts": [
                    {"rule": f.rule.value, "holds": f.holds, "detail": f.detail} for f in read.facts
                ],
                "caller_role": _role_ref(read.caller_role),
                "owner_role_chain": [_role_ref(r) for r in read.owner_role_chain],
            }
            if read
            else None
        ),
        "share_from_users": [
            {
                "id": str(v.user.id),
                "name": v.user.name,
                "included": v.included,
                "position": v.position,
                "decision": v.decision.value,
                "detail": v.detail,
                "status": v.user.status.value,
                "mailbox": v.user.mailbox.protocol.value if v.user.mailbox else None,
                "mailbox_enabled": bool(v.user.mailbox and v.user.mailbox.enabled),
                "email_sharing": v.user.email_sharing.value,
            }
            for v in exp.users
        ],
        "answer": {"status": status, "body": body},
    }


# C0 and C1 controls, DEL, and the characters terminals and editors also break lines at.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``,
    ``\\u2028``): a user's or record's name holding a newline or a terminal escape cannot
    forge lines or colours in the text format (docs/reliability.md "Trust")."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def _mark(ok: bool) -> str:
    return "yes" if ok else "no "


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    rows = [[printable(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def as_text(exp: Explanation, status: int, body: str) -> str:
    """The explanation laid out for a terminal: checks, read rules, users, then the answer."""
    c = exp.caller
    rec = exp.record
    target = f"{rec.module} {rec.id} {rec.name!r}" if rec else f"{exp.module_name} (no record)"
    lines = [
        f"caller  {c.name} ({c.id}), {c.profile.value}, {c.status.value}",
        f"record  {target}",
        f"org     {exp.org.name} ({exp.org.id})",
        "",
        "checks (docs/contract.md §3, in order; the first failing one answers)",
        *_table([(_mark(k.passed), k.name, k.detail) for k in exp.checks]),
    ]
    if exp.read is not None:
        verdict = f"yes, by rule {exp.read.rule.value}" if exp.read.rule else "no: NO_PERMISSION"
        lines += [
            "",
            f"may read: {verdict}",
            *_table([(_mark(f.holds), f.rule.value, f.detail) for f in exp.read.facts]),
        ]
    lines += ["", "share_from_users (the caller first, then by name's case fold, then id)"]
    rows = [("#", "in", "user", "mailbox", "sharing", "decision", "why")]
    for v in exp.users:
        mailbox = "-"
        if v.user.mailbox:
            mailbox = v.user.mailbox.protocol.value + ("" if v.user.mailbox.enabled else " (off)")
        rows.append(
            (
                str(v.position) if v.position else "-",
                "yes" if v.included else "no",
                f"{v.user.name} ({v.user.id})",
                mailbox,
                v.user.email_sharing.value,
                v.decision.value,
                v.detail,
            )
        )
    lines += _table(rows)
    lines += ["", f"answer  HTTP {status}", f"  {body}", ""]
    return "\n".join(printable(line) for line in lines)
