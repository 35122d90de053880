"""Tiny runs of bench/run.py and bench/inprocess.py, so the benchmarks never rot: they must
run end to end, every request they drive must get a 2xx answer, and they must report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(script: str, *args: str) -> str:
    """Run ``bench/<script>`` to its end; its output, once it exited 0."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_bench_smoke_run(tmp_path: Path) -> None:
    bench(
        "run.py",
        "--smoke",
        "--results-dir",
        str(tmp_path / "results"),
        "--data-dir",
        str(tmp_path / "data"),
    )
    [result_file] = (tmp_path / "results").glob("*-smoke.json")
    results = json.loads(result_file.read_text())
    loads = results["loads"]
    assert set(loads) == {
        "baseline@10k",
        "emailshare@10k",  # reads, no line repeated
        "emailshare-mixed@10k",  # 95 % reads, 5 % share/unshare writes
        "emailshare-repeated@10k",  # the repeated working set
        "emailshare-emails-list@emails",
        "emailshare-one-email@emails",
    }
    for load in loads.values():
        assert load["requests_per_s"] > 0
        # Every generated request line is readable, every share line can be made.
        assert load["non_2xx"] == 0, load
        assert load["errors"] == 0, load
        assert len(load["peak_rss_mb"]) == 2  # two workers measured
        # Their private memory and mapped file pages, sampled during the runs: each a part
        # of what the peak RSS counted at some moment.
        assert len(load["peak_anon_mb"]) == len(load["peak_file_mb"]) == 2, load
        for anon, file, hwm in zip(
            load["peak_anon_mb"], load["peak_file_mb"], load["peak_rss_mb"], strict=True
        ):
            assert 0 < anon <= hwm, load
            assert 0 < file <= hwm, load
        assert load["requests"] > 0
    assert loads["emailshare-mixed@10k"]["writes"] > 0  # the writes were sent
    # Each store read into the page cache once, before its rows: the 10k set (its reads and
    # the repeated row), the mixed rows' copy of it, the emails set.
    cached = results["page_cache"]
    assert len(cached) == 3, cached
    for done in cached.values():
        assert done["method"].startswith("read "), done
        assert done["mb"] > 0
        assert done["seconds"] >= 0
    assert loads["emailshare@10k"]["writes"] == 0
    assert results["ratios"]["emailshare/baseline@10k"] > 0
    assert results["ratios"]["emails list/baseline"] > 0
    # The memory target is judged on the private memory (docs/performance.md).
    memory = results["targets"]["private memory (peak RssAnon) per worker <= 150 MB (10k)"]
    assert memory["value"] == max(loads["emailshare@10k"]["peak_anon_mb"]) > 0
    assert results["per_test_fresh_ms"] > 0
    assert results["per_test_request_ms"] > 0
    assert results["bulk_share_p50_ms"] > 0
    assert 0 < results["ready_seconds"] < 30
    assert results["machine"]["cores"] >= 1
    assert (tmp_path / "results" / result_file.name.replace(".json", ".md")).exists()


def test_in_process_bench_runs(tmp_path: Path) -> None:
    # It exits non-zero when an answer is not a 200.
    out = bench(
        "inprocess.py", "-n", "300", "--rounds", "1", "--fresh", "3", "--data-dir", str(tmp_path)
    )
    rows = [line for line in out.splitlines() if line.endswith("µs/request")]
    assert len(rows) == 5, out
    assert all(float(row.split()[-2]) > 0 for row in rows)
    costs = [line for line in out.splitlines() if line.endswith(" ms")]
    # The per-test cost: a fresh store to its first answer and teardown, as the plugin makes it
    # and on InProcess's default file; then one more request.
    assert len(costs) == 3, out
    assert all(float(line.split()[-2]) > 0 for line in costs)


def test_bench_mailsync_smoke() -> None:
    """bench/mailsync.py against its own Dovecot: every message fetched and synced once."""
    out = bench("mailsync.py", "--messages", "200")
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["messages"] == 200
    assert figures["bare_s"] > 0
    assert figures["first_sync_s"] > 0
    assert figures["incremental_s"] > 0
    assert figures["bare_fetch_parse_s"] > figures["bare_s"]  # parsing is never free


def tiny_set(tmp_path: Path) -> Path:
    """A tiny generated data set (2 orgs, 1,000 records): its path without .db/.tsv."""
    data = tmp_path / "tiny"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "emailshare",
            "gen",
            "--db",
            f"sqlite:///{data}.db",
            *("--orgs", "2", "--users", "100", "--records", "1000"),
            *("--requests-out", f"{data}.tsv", "--writes-out", f"{data}.writes.tsv"),
            "--no-progress",
        ],
        check=True,
        timeout=120,
    )
    return data


def test_mixed_cpu_bench_runs(tmp_path: Path) -> None:
    """bench/mixed_cpu.py on a tiny generated set: it reports, and its shares really write."""
    data = tiny_set(tmp_path)
    out = bench(
        "mixed_cpu.py", "--data", str(data), "--db", str(tmp_path / "copy.db"), "--reads", "200"
    )
    per, wrote = out.split(" µs CPU per request")[0], out.split("; ")[1].split()[0]
    assert float(per) > 0, out
    done, total = (int(x) for x in wrote.split("/"))
    assert total == 10, out
    assert done > 0, out


def test_steady_bench_runs(tmp_path: Path) -> None:
    """bench/steady.py on a tiny set, caches of 50: it fills them, times its passes of misses
    (every answer a 200, or it exits non-zero) and reports the collector's work."""
    data = tiny_set(tmp_path)
    out = bench(
        "steady.py",
        f"{data}.tsv",
        f"sqlite:///{data}.db",
        *("--cache-size", "50", "-n", "100", "--rounds", "2", "--kinds", "3"),
    )
    assert "50 answers" in out, out
    assert "50 callers kept" in out, out
    passes = [line for line in out.splitlines() if line.lstrip().startswith("pass ")]
    assert len(passes) == 2, out
    assert all(float(line.split(":")[1].split()[0]) > 0 for line in passes), out
    assert "tracked objects" in out, out
    assert "the commonest:" in out, out


def test_callers_bench_runs(tmp_path: Path) -> None:
    """bench/callers.py on a tiny generated set: it times each step and weighs kept callers."""
    data = tiny_set(tmp_path)
    out = bench("callers.py", "--data", str(data), "-n", "40", "--rounds", "1")
    rows = dict(line.rsplit(maxsplit=1) for line in out.splitlines()[1:] if "µs" not in line)
    timed = [line for line in out.splitlines() if line.endswith("µs per token")]
    assert len(timed) == 4, out
    assert all(float(line.split()[-4]) > 0 for line in timed), out
    assert float(rows["  bytes per kept caller"]) > 0, out
    assert float(rows["  tracked objects per kept caller"]) >= 1, out
