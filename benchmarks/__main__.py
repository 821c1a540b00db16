"""Run every benchmark and print one Markdown table: ``python -m benchmarks [--quick] [--only NAME]``.

Each row says what was measured, on how much work, against which target, and a baseline measured
in the same run. The table is also written to ``artifacts/benchmarks/RESULTS.md`` (git-ignored);
``--update`` writes ``benchmarks/RESULTS.md`` instead, the table the README quotes (see
:mod:`benchmarks.outputs`).
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time

BENCHES = ["storage", "figure", "labels", "layout", "engine", "browser", "bigtree", "runs", "live",
           "workers", "ray", "parallel", "effectiveness", "otlp"]


def table(rows: list[dict]) -> str:
    lines = ["| what | work | measured | target | baseline (same run) | meets target |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['what']} | {r['work']} | {r['measured']} | {r['target']} | {r['baseline']} | "
                     f"{'yes' if r['ok'] else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="smaller work, under a minute or so")
    ap.add_argument("--only", choices=BENCHES, action="append", help="run only these")
    ap.add_argument("--update", action="store_true",
                    help="write the committed results in benchmarks/ (default: artifacts/benchmarks/)")
    args = ap.parse_args(argv)
    if args.update:
        os.environ["THINKTREE_BENCH_UPDATE"] = "1"
    from benchmarks.outputs import output
    rows: list[dict] = []
    t0 = time.perf_counter()
    for name in args.only or BENCHES:
        print(f"running {name} …", file=sys.stderr, flush=True)
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        try:
            rows.extend(mod.run(args.quick))
        except Exception as e:  # report, keep going: a missing browser must not hide the rest
            rows.append({"what": name, "work": "—", "measured": f"could not run: {e}", "target": "—",
                         "baseline": "—", "ok": False})
    header = (f"Benchmarks ({'quick' if args.quick else 'full'}), {platform.machine()}, "
              f"{platform.python_version()}, took {time.perf_counter() - t0:.0f} s\n\n")
    text = header + table(rows)
    print(text)
    out = output("RESULTS.md")
    out.write_text(text + "\n")
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
