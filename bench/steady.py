"""A details miss at steady state, in process: the caches full, every request line new.

    cp /work/benchdata/u100000-r1000000-o4.db /tmp/steady.db
    PYTHONPATH=src .venv/bin/python bench/steady.py \\
        /work/benchdata/u100000-r1000000-o4.tsv sqlite:////tmp/steady.db

``bench/inprocess.py`` times a few thousand lines on fresh caches, which never fill; a server
that has run a while holds ``--cache-size`` answers and as many callers per worker, and every
new answer evicts an old one (docs/performance.md, "Once the caches are full"). This driver
builds the app as a served worker does (``api.app.create_app_from_env``, the factory granian
calls, from ``EMAILSHARE_*`` variables; ``--testing``: ``create_app`` as the tests and
``emailshare.testing`` build it), opens its services (the lifespan), then sends distinct
request lines of the ``.tsv``, shuffled (``--seed``), until the answer cache and the caller
cache are both at their bounds; then times ``--rounds`` passes of ``-n`` lines more, each line
sent once (every answer a miss of the answer cache), on the CPU clock by default. It reports
the microseconds per request of each pass and what the cyclic garbage collector did in them:
the collections of each generation, their CPU time per request, the longest (timed through
``gc.callbacks``), the objects the collector tracks (``len(gc.get_objects())``: those a full
collection walks) and those frozen out of its sight (``gc.get_freeze_count()``).

The store is only read, but opening it may migrate it: give it a copy of a bench set's
``.db``, never ``/work/benchdata``'s own. Every answer must be a 200 (it exits non-zero
otherwise). Only the lines sent are kept (as strings, which the collector does not track).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inprocess import CLOCKS, App, drive  # noqa: E402
from emailshare.api.app import create_app, create_app_from_env  # noqa: E402
from emailshare.config import Settings  # noqa: E402


@dataclass
class Collections:
    """The collector's work, from ``gc.callbacks``: per generation, how many and how long."""

    clock: Callable[[], float]
    count: list[int] = field(default_factory=lambda: [0, 0, 0])
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    longest: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self.clock()
            return
        took, generation = self.clock() - self._started, info["generation"]
        self.count[generation] += 1
        self.seconds[generation] += took
        self.longest[generation] = max(self.longest[generation], took)

    def reset(self) -> None:
        self.count, self.seconds, self.longest = [0, 0, 0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]


def read_lines(tsv: Path, seed: int, wanted: int) -> list[str]:
    """``wanted`` distinct lines of ``tsv``, shuffled (all of them when it has fewer)."""
    lines = tsv.read_text().splitlines()
    return random.Random(seed).sample(lines, min(wanted, len(lines)))


def split(lines: list[str]) -> list[tuple[str, str]]:
    return [(path, token) for path, token in (line.split("\t") for line in lines)]


def build(db_url: str, cache_size: int, testing: bool) -> App:
    """The app as a served worker builds it (its settings from the environment), or as a test
    does (``testing``)."""
    settings = Settings(db_url=db_url, cache_size=cache_size)
    if testing:
        return create_app(settings)
    os.environ.update(settings.to_env())
    return create_app_from_env()


def full(app: Any, cache_size: int) -> bool:
    """Both caches at their bounds: as many entries as they keep, or the answers' budget
    nearly spent (a ``--cache-mb`` too small for ``--cache-size`` answers)."""
    answers, callers = app.state.answers, app.state.callers
    budget = app.state.settings.cache_mb << 20
    answers_full = len(answers) >= cache_size or answers.weight > budget - (16 << 10)
    return answers_full and len(callers) >= cache_size


async def run(args: argparse.Namespace) -> int:
    clock = CLOCKS[args.clock]
    fill_most = args.fill if args.fill else 4 * args.cache_size + 10_000
    lines = read_lines(args.lines, args.seed, fill_most + args.rounds * args.n)
    timed, filling = lines[-args.rounds * args.n :], lines[: -args.rounds * args.n]
    if len(timed) < args.rounds * args.n or not filling:
        raise SystemExit(f"{args.lines}: too few lines for the fill and {args.rounds} x {args.n}")
    app = build(args.db_url, args.cache_size, args.testing)
    collections = Collections(clock)
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        sent = 0
        for start in range(0, len(filling), 500):
            if full(app, args.cache_size):
                break
            await drive(app, split(filling[start : start + 500]), clock)
            sent = start + 500
        if not full(app, args.cache_size):
            raise SystemExit(f"the caches are not full after {sent} lines (more lines: --fill)")
        state = app.state  # type: ignore[attr-defined]
        print(
            f"filled: {min(sent, len(filling))} lines sent, {len(state.answers)} answers"
            f" ({state.answers.weight / 2**20:.1f} MiB), {len(state.callers)} callers kept"
            f" (--cache-size {args.cache_size}); {'create_app' if args.testing else 'served'}"
            f" app, {args.clock} clock"
        )
        if args.threshold:
            gc.set_threshold(*args.threshold)
        gc.callbacks.append(collections)
        total, total_micros, fulls, longest = 0.0, 0.0, 0, 0.0
        try:
            for round_ in range(args.rounds):
                batch = split(timed[round_ * args.n : (round_ + 1) * args.n])
                collections.reset()
                micros = await drive(app, batch, clock)
                total_micros += micros / args.rounds
                total += sum(collections.seconds) / (args.n * args.rounds) * 1e6
                fulls += collections.count[2]
                longest = max(longest, collections.longest[2])
                per = [s / args.n * 1e6 for s in collections.seconds]
                print(
                    f"  pass {round_ + 1}: {micros:7.1f} µs/request over {args.n} misses;"
                    f" gc {sum(per):5.2f} µs/request;"
                    f" collections gen0/1/2 {'/'.join(map(str, collections.count))};"
                    f" longest gen2 {collections.longest[2] * 1e3:.1f} ms"
                    f" (gen1 {collections.longest[1] * 1e3:.1f} ms)"
                )
        finally:
            gc.callbacks.remove(collections)
        print(
            f"all passes: {total_micros:.1f} µs/request, gc {total:.2f} µs/request,"
            f" {fulls} full collections, the longest {longest * 1e3:.1f} ms"
        )
        print(
            f"gc: tracked objects {len(gc.get_objects())}, frozen {gc.get_freeze_count()},"
            f" thresholds {gc.get_threshold()}, counts {gc.get_count()},"
            f" collections so far gen0/1/2 "
            + "/".join(str(s["collections"]) for s in gc.get_stats())
        )
        if args.kinds:
            kinds = Counter(type(o).__name__ for o in gc.get_objects())
            print(
                "  the commonest: "
                + ", ".join(f"{k} {n}" for k, n in kinds.most_common(args.kinds))
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("lines", type=Path, help="a bench set's request lines (.tsv)")
    parser.add_argument("db_url", help="sqlite:///<a copy of the set's .db>")
    parser.add_argument("-n", type=int, default=10_000, help="misses timed per pass")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-size", type=int, default=Settings().cache_size)
    parser.add_argument(
        "--fill", type=int, default=0, help="most lines sent to fill (4 x cache size + 10,000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    parser.add_argument(
        "--threshold",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=None,
        help="gc.set_threshold(a, b, c) once the caches are full, given as a,b,c",
    )
    parser.add_argument("--kinds", type=int, default=0, help="name the N commonest tracked types")
    parser.add_argument("--testing", action="store_true", help="create_app, as tests build it")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
