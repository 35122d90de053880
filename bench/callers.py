"""The caller on a miss: CPU per token whose caller is not kept, and the memory of a kept one.

    .venv/bin/python bench/callers.py --data /tmp/u100000-r1000000-o4 -n 20000

``<data>.db`` and ``<data>.tsv`` are a data set of ``bench/run.py`` (``gen --requests-out``):
the first ``-n`` distinct tokens of the request lines, each looked up once per pass (every
token's pages read once before, as a long-running worker has them), shuffled, on the CPU
clock (``time.process_time``), best of ``--rounds``; in µs per token:

- ``query``: the token's statement alone (``storage.repo._TOKEN_OWNER``), as the store runs it;
- ``token_owner``: the port's call (the statement and its ``TokenOwner``);
- ``authenticate_token``: the whole authentication of a token not kept, without a cache;
- ``authenticate_token + put``: the same into a fresh caller cache, as a worker does.

Then the kept callers: the bytes (``tracemalloc``) and the objects the cyclic collector tracks
that a cache of ``-n`` callers adds, per caller (docs/performance.md, "The caller on a miss").
The store is only read (a copy of the data set's file is as good as the file).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emailshare.bootstrap import open_store  # noqa: E402
from emailshare.domain.tokens import token_hash  # noqa: E402
from emailshare.service import auth  # noqa: E402
from emailshare.service.cache import ScopedCache  # noqa: E402
from emailshare.storage import repo  # noqa: E402


def distinct_tokens(requests: Path, n: int) -> list[str]:
    """The first ``n`` distinct tokens of the request lines (path, tab, token)."""
    found: dict[str, None] = {}
    with requests.open() as lines:
        for line in lines:
            found.setdefault(line.rstrip("\n").split("\t")[1], None)
            if len(found) >= n:
                break
    return list(found)


def caller_cache(capacity: int) -> auth.CallerCache:
    """A caller cache as the composition root makes one (bootstrap.open_services)."""

    def org_of(_: str, entry: object) -> tuple[int, None]:
        # The entry is the caller (or, before it was, a (caller, expiry) pair).
        caller = entry if hasattr(entry, "org_id") else entry[0]  # type: ignore[index]
        return (caller.org_id, None)

    return ScopedCache(capacity, scope=org_of)


async def measure(db: Path, requests: Path, n: int, rounds: int) -> dict[str, float]:
    pairs = [(token, token_hash(token)) for token in distinct_tokens(requests, n)]
    count = len(pairs)
    now = int(time.time())
    clock = time.process_time
    best: dict[str, float] = {}
    async with open_store(f"sqlite:///{db}") as store:
        for _, hashed in pairs:  # every token's pages read once
            await store.db.fetchone(repo._TOKEN_OWNER, (hashed,))

        async def query(_: str, hashed: str) -> None:
            await store.db.fetchone(repo._TOKEN_OWNER, (hashed,))

        async def owner(_: str, hashed: str) -> None:
            await store.token_owner(hashed)

        async def plain(token: str, hashed: str) -> None:
            await auth.authenticate_token(store, token, hashed, now, None)

        for n_round in range(rounds):
            order = pairs[:]
            random.Random(n_round).shuffle(order)
            kept = caller_cache(count)

            async def put(token: str, hashed: str, kept: auth.CallerCache = kept) -> None:
                await auth.authenticate_token(store, token, hashed, now, kept)

            for name, step in (
                ("query", query),
                ("token_owner", owner),
                ("authenticate_token", plain),
                ("authenticate_token + put", put),
            ):
                gc.collect()
                started = clock()
                for token, hashed in order:
                    await step(token, hashed)
                micros = (clock() - started) / count * 1e6
                best[name] = min(micros, best.get(name, micros))
            del kept
        gc.collect()
        tracked = len(gc.get_objects())
        tracemalloc.start()
        cache = caller_cache(count)
        for token, hashed in pairs:
            await auth.authenticate_token(store, token, hashed, now, cache)
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        best["bytes per kept caller"] = held / count
        best["tracked objects per kept caller"] = (len(gc.get_objects()) - tracked) / count
        assert len(cache) == count
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="<data>.db and <data>.tsv")
    parser.add_argument("-n", type=int, default=20_000, help="distinct tokens")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    db, requests = Path(f"{args.data}.db"), Path(f"{args.data}.tsv")
    figures = asyncio.run(measure(db, requests, args.n, args.rounds))
    print(f"the caller on a miss, {args.data.name}, best of {args.rounds} (cpu clock):")
    for name, value in figures.items():
        unit = "" if "per kept" in name else "µs per token"
        print(f"  {name:<34} {value:8.2f} {unit}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
