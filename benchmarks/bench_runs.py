"""Many runs: 10,000 stored runs listed, filtered and searched, on SQLite and on PostgreSQL
(storage: the queries the Sessions page makes), and in the browser (SQLite): Sessions opening
and a search typed into its filter box, against a 10-run database in the same run."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from runner.synthetic import store_many_runs
from storage import RunFilter, close_store, open_store

PG_ADMIN = os.environ.get("THINKTREE_BENCH_PG_URL",
                          "postgresql+psycopg://postgres:thinktree@127.0.0.1:5432/postgres")
N_RUNS = 10_000
START = 1_767_225_600.0   # the synthetic runs' first day (2026-01-01), one a ~53 minutes after


def _median(fn, n: int = 5) -> float:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _filled(store, n: int) -> None:
    eids = tuple(store.experiments.create(f"sweep {i}", {}) for i in range(5))
    store_many_runs(store, n, seed=1, experiments=eids)


def _open_list(store) -> None:   # what the Sessions page reads before any filter
    store.count_runs()
    store.run_choices()
    store.experiments.list()
    store.runs_page(RunFilter(), None, 50)


def _filtered(store, flt: RunFilter) -> None:
    page = store.runs_page(flt, None, 50)
    store.count_runs(flt)
    if page.next_before is not None:   # and the next page (keyset)
        store.runs_page(flt, page.next_before, 50)


FILTERS = {"task": RunFilter(task="gsm8k"), "strategy": RunFilter(strategy="mcts"),
           "outcome": RunFilter(outcome="solved"), "model": RunFilter(model="qwen"),
           "date (one week)": RunFilter(since=START + 100 * 86_400, until=START + 107 * 86_400),
           "experiment": RunFilter(experiment_id=3), "problem text": RunFilter(text="7 7 1")}


def storage_rows(name: str, url: str) -> list[dict]:
    store = open_store(url)
    t = time.perf_counter()
    _filled(store, N_RUNS)
    fill = time.perf_counter() - t
    old = _median(lambda: store.list_runs())       # what the page read before: 500 rows, no filter
    opened = _median(lambda: _open_list(store))
    rows = [{"what": f"Sessions list opens with {N_RUNS:,} runs ({name}, storage)",
             "work": f"count + filter choices + first page of 50 (stored in {fill:.0f} s)",
             "measured": f"median {opened * 1000:.0f} ms", "target": "≤ 1 s",
             "baseline": f"the old read (500 newest runs, unpaged): {old * 1000:.0f} ms",
             "ok": opened <= 1.0}]
    for label, flt in FILTERS.items():
        got = _median(lambda f=flt: _filtered(store, f))
        rows.append({"what": f"filter by {label} ({name})", "work": f"{store.count_runs(flt):,} of "
                     f"{N_RUNS:,} match; page 1 + 2 + count", "measured": f"median {got * 1000:.0f} ms",
                     "target": "≤ 0.5 s", "baseline": f"unfiltered open: {opened * 1000:.0f} ms",
                     "ok": got <= 0.5})
    picks = {"run by text": lambda: store.find_runs("question 12", 20),
             "run by #id": lambda: store.find_runs("#4321", 20),
             "experiment by name": lambda: store.experiments.find("sweep", 20)}
    times = {k: _median(f) for k, f in picks.items()}
    slowest = max(times.values())
    rows.append({"what": f"Compare / Experiments picker search ({name})", "work": "20 matches shown; "
                 + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()),
                 "measured": f"slowest median {slowest * 1000:.0f} ms", "target": "≤ 0.5 s each",
                 "baseline": f"unfiltered open: {opened * 1000:.0f} ms", "ok": slowest <= 0.5})
    return rows


def _pg_database():
    import psycopg
    dsn = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    name = "ttbench_" + uuid.uuid4().hex[:10]
    conn.execute(f'CREATE DATABASE "{name}"')
    return conn, name, PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def browser_rows(d: str) -> list[dict]:
    from benchmarks.browser import CHROMIUM, browser_page, running_app
    if CHROMIUM is None:
        return [{"what": "Sessions with 10,000 runs (browser)", "work": "—", "measured": "no chromium",
                 "target": "≤ 1 s", "baseline": "—", "ok": False}]
    big, small = str(Path(d) / "many.db"), str(Path(d) / "few.db")
    _filled(open_store(big), N_RUNS)
    _filled(open_store(small), 10)
    table = "document.querySelectorAll('[data-testid=\"stDataFrame\"]').length > 0 && " \
            "document.body.innerText.includes('matching runs')"
    out = {}
    for label, db in (("10 runs", small), ("10,000 runs", big)):
        with running_app(db, Path(d) / f"st-{len(out)}.log") as url, \
                browser_page(1440, 900, timeout_ms=120_000) as page:
            page.goto(f"{url}/sessions")
            page.wait_for_function(table, polling=20)
            opens, searches = [], []
            for k in range(3):
                t = time.monotonic()
                page.goto(f"{url}/sessions")
                page.wait_for_function(table, polling=20)
                opens.append(time.monotonic() - t)
                box = page.get_by_placeholder("e.g. 4 5 6 10")
                box.fill(f"question {k + 1}")
                t = time.monotonic()
                box.press("Enter")
                page.wait_for_function("!document.body.innerText.includes('of 10,000 matching') && "
                                       "!document.body.innerText.includes('of 10 matching') && "
                                       "document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                                       polling=20)
                searches.append(time.monotonic() - t)
            out[label] = (statistics.median(opens), statistics.median(searches))
    (bo, bs), (o, s) = out["10 runs"], out["10,000 runs"]
    return [{"what": "Sessions opens with 10,000 runs (browser, SQLite; URL → table)", "work": "3 opens",
             "measured": f"median {o:.2f} s ({o - bo:+.2f} s)", "target": "≤ 1 s more than 10 runs",
             "baseline": f"10 runs: {bo:.2f} s", "ok": o - bo <= 1.0},
            {"what": "search problem text in Sessions (browser, 10,000 runs)", "work": "3 searches typed",
             "measured": f"median {s:.2f} s ({s - bs:+.2f} s)", "target": "≤ 0.5 s more than 10 runs",
             "baseline": f"10 runs: {bs:.2f} s", "ok": s - bs <= 0.5}]


def run(quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        rows += storage_rows("SQLite", "sqlite:///" + str(Path(d) / "runs.db"))
        try:
            conn, name, url = _pg_database()
        except Exception as e:  # noqa: BLE001 - no server: say so in the table
            rows.append({"what": "runs list on PostgreSQL", "work": "—", "measured": f"no server ({e})",
                         "target": "≤ 0.5 s", "baseline": "—", "ok": False})
        else:
            try:
                rows += storage_rows("PostgreSQL", url)
            finally:
                close_store(url)
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.close()
        if not quick:
            rows += browser_rows(d)
    return rows
