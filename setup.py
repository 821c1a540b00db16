"""How the wheel is built: everything under one ``thinktree`` package.

The checkout keeps its flat layout (``app.py``, ``pages/``, ``components/``, ``storage/``,
``reasoning/``, ``runner/`` at the top, imported by those names when you run from it). An
installed package must not claim names as generic as ``storage`` or ``app``: a user's own
``storage/`` would shadow Thinktree's, or Thinktree's theirs. So a (non-editable) build copies
each of those modules under ``thinktree/`` and rewrites their absolute imports
(``from reasoning.tree import fold`` -> ``from thinktree.reasoning.tree import fold``); pages,
the bundled data (Game of 24, the GSM8K sample, the demo sessions) and the app's Streamlit
settings go in as files beside them. Relative paths inside the code (``parents[2] / "data"``)
hold in both layouts because the tree under ``thinktree/`` mirrors the checkout.

An editable install (``pip install -e .``) is for working on the checkout itself: it keeps the
flat names, as running from the checkout does.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# the checkout's top-level modules and packages, and what the wheel carries of each
PACKAGES = ("reasoning", "runner", "storage", "components", "benchmarks")
MODULES = ("app.py", "app_context.py", "cli.py")
FILES = ("pages/*.py", "data/*.csv", "data/*.jsonl", "data/demo/*.jsonl", ".streamlit/config.toml")
# measured results and logs the benchmarks write: the checkout's, not the package's
SKIP = re.compile(r"\.(jsonl|md)$")
TOP = "|".join(PACKAGES + tuple(m[:-3] for m in MODULES))
IMPORT = re.compile(rf"^(\s*)from ({TOP})(\.|\s)", re.M)


def rewrite_imports(source: str) -> str:
    """``from storage.db import x`` -> ``from thinktree.storage.db import x`` (any indent);
    relative imports and third-party imports are left alone."""
    return IMPORT.sub(r"\1from thinktree.\2\3", source)


def package_sources() -> list[Path]:
    """Every checkout file the wheel carries, relative to the checkout."""
    out: list[Path] = [Path(m) for m in MODULES]
    for pkg in PACKAGES + ("thinktree",):
        out += [p.relative_to(ROOT) for p in sorted((ROOT / pkg).rglob("*.py"))
                if "__pycache__" not in p.parts]
    for pattern in FILES:
        out += [p.relative_to(ROOT) for p in sorted(ROOT.glob(pattern))]
    return [p for p in out if not (p.parts[0] == "benchmarks" and SKIP.search(p.name))]


class BuildThinktree(build_py):
    """Lays the checkout out under ``thinktree/`` in the build folder (see the module docstring)."""

    def run(self) -> None:
        if getattr(self, "editable_mode", False):
            return super().run()
        target = Path(self.build_lib) / "thinktree"
        for rel in package_sources():
            dest = target / (rel.relative_to("thinktree") if rel.parts[0] == "thinktree" else rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if rel.suffix == ".py":
                dest.write_text(rewrite_imports((ROOT / rel).read_text()))
            else:
                shutil.copyfile(ROOT / rel, dest)
        return None


setup(cmdclass={"build_py": BuildThinktree})
