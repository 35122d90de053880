"""What a fixture load costs as the document grows: 1x, 10x and 100x of each dimension.

    .venv/bin/python bench/loads.py                  # every dimension, SQLite, a temp folder
    .venv/bin/python bench/loads.py --only roles     # one of them

Each document is loaded by the real path of ``POST /__emailshare/load`` (``service.admin.
load_document``: parse, validate, write in one transaction) into a fresh SQLite store; the
time is the wall clock of that call, the store size the database file and its WAL after it.
A line that grows 10x per 10x is linear (docs/reliability.md, "Loads"). Also times the YAML
parse of one document with libyaml's loader and with PyYAML's pure-Python one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from emailshare.service import admin  # noqa: E402
from emailshare.storage import migrate  # noqa: E402
from emailshare.storage.db import connect  # noqa: E402
from emailshare.storage.repo import Store  # noqa: E402

ORG = "700000000000000001"
BASE = 700000000000000000


def _id(n: int) -> str:
    return str(BASE + n)


def _user(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": _id(1_000_000 + n), "name": f"User {n}", **extra}


def _org(**parts: Any) -> dict[str, Any]:
    return {"orgs": [{"id": ORG, "name": "Bench", **parts}]}


def roles(n: int) -> dict[str, Any]:
    """A chain of ``n`` roles, one user in each."""
    chain = [
        {"id": _id(i), "name": f"Role {i}", "reports_to": _id(i - 1) if i else None}
        for i in range(n)
    ]
    users = [_user(i, role=_id(i)) for i in range(n)]
    return _org(roles=chain, users=users)


def users(n: int) -> dict[str, Any]:
    return _org(users=[_user(i, mailbox={"protocol": "imap"}) for i in range(n)])


def records(n: int) -> dict[str, Any]:
    rows = [
        {"module": "Leads", "id": _id(3_000_000 + i), "owner": _id(1_000_000)} for i in range(n)
    ]
    return _org(users=[_user(0)], records=rows)


def shares(n: int) -> dict[str, Any]:
    """One record shared with ``n`` users (so ``n`` users too)."""
    people = [_user(i) for i in range(n)]
    record = {
        "module": "Leads",
        "id": _id(3_000_000),
        "owner": people[0]["id"],
        "shared_with": [u["id"] for u in people],
    }
    return _org(users=people, records=[record])


def emails(n: int) -> dict[str, Any]:
    owner = _user(0, mailbox={"protocol": "imap", "address": "u0@bench.test"})
    mails = [
        {
            "kind": "mailbox",
            "owner": owner["id"],
            "time": f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
            "subject": f"Mail {i}",
            "to": [{"email": f"c{i % 50}@client.test"}],
        }
        for i in range(n)
    ]
    return _org(users=[owner], emails=mails)


DIMENSIONS: dict[str, tuple[Callable[[int], dict[str, Any]], int]] = {
    "roles": (roles, 10),
    "users": (users, 1_000),
    "records": (records, 1_000),
    "shares": (shares, 100),
    "emails": (emails, 100),
}


async def load_once(doc: bytes, folder: Path) -> tuple[float, int]:
    """Seconds to load ``doc`` into a fresh store, and the store's bytes after."""
    path = folder / "bench.db"
    for p in folder.glob("bench.db*"):
        p.unlink()
    db = await connect(f"sqlite:///{path}")
    try:
        await migrate.upgrade(db)
        started = time.perf_counter()
        await admin.load_document(Store(db), doc, int(time.time()))
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.glob("bench.db*"))
    finally:
        await db.close()
    return elapsed, size


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(DIMENSIONS))
    parser.add_argument("--scales", default="1,10,100")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",")]
    print("| dimension | size | document | load time | store (db + WAL) |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        await load_once(json.dumps(users(10)).encode(), Path(tmp))  # warm-up: imports, caches
        for name, (make, base) in DIMENSIONS.items():
            if args.only and name != args.only:
                continue
            for scale in scales:
                doc = json.dumps(make(base * scale)).encode()
                seconds, size = await load_once(doc, Path(tmp))
                print(
                    f"| {name} | {base * scale:,} | {len(doc) / 1e6:.2f} MB"
                    f" | {seconds:.2f} s | {size / 1e6:.1f} MB |",
                    flush=True,
                )
    text = yaml.safe_dump(users(30_000))
    for label, loader in (
        ("libyaml (CSafeLoader)", yaml.CSafeLoader),
        ("pure (SafeLoader)", yaml.SafeLoader),
    ):
        started = time.perf_counter()
        yaml.load(text, Loader=loader)  # noqa: S506 (safe loaders)
        print(f"YAML {len(text) / 1e6:.1f} MB, {label}: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
