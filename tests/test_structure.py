"""The layering rules that keep the code readable, checked on the source itself."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["app.py", "app_context.py", "cli.py", "components", "pages", "reasoning", "runner",
           "storage"]
MAX_MODULE_LINES = 400
MAX_PAGE_LINES = 120
# over the limit on main when this test landed, each being reworked by its owner: remove the
# entry when the module is back under the limit (the test then fails if it is still listed)
KNOWN_LONG: dict[str, str] = {}


def product_files() -> list[Path]:
    out = []
    for name in PRODUCT:
        p = ROOT / name
        out.extend([p] if p.is_file() else sorted(p.rglob("*.py")))
    return out


def imported_modules(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            mods.add(node.module)
    return mods


def test_no_product_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in product_files()
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert set(long) - set(KNOWN_LONG) == set(), long
    assert set(KNOWN_LONG) <= set(long), "back under the limit: drop it from KNOWN_LONG"


def test_pages_are_wiring_only():
    long = {p.name: n for p in (ROOT / "pages").glob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_PAGE_LINES}
    assert not long, long


def test_components_never_open_storage():
    """Components draw; the store and run views come from app_context (the pages' glue)."""
    bad = {}
    for p in sorted((ROOT / "components").glob("*.py")):
        hits = {m for m in imported_modules(p)
                if m.split(".")[0] in ("storage", "app_context", "sqlalchemy")
                or m in ("runner", "runner.run", "runner.views", "runner.export")}
        if hits:
            bad[p.name] = sorted(hits)
    assert not bad, bad


def test_reasoning_uses_neither_streamlit_nor_sqlalchemy():
    bad = {}
    for p in sorted((ROOT / "reasoning").rglob("*.py")):
        hits = {m for m in imported_modules(p)
                if m.split(".")[0] in ("streamlit", "sqlalchemy", "storage", "runner", "components")}
        if hits:
            bad[str(p.relative_to(ROOT))] = sorted(hits)
    assert not bad, bad


def test_pages_and_components_read_runs_only_through_the_run_view():
    """No page or component folds events or reads them from the store itself (no fold caches of
    their own): the run view (``app_context.run_view``) is the one reader."""
    bad = {}
    for folder in ("pages", "components"):
        for p in sorted((ROOT / folder).glob("*.py")):
            calls = set()
            for node in ast.walk(ast.parse(p.read_text(), str(p))):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                    if name in ("fold", "events"):
                        calls.add(name)
            if calls:
                bad[f"{folder}/{p.name}"] = sorted(calls)
    assert not bad, bad
