"""The ``thinktree`` command: ``thinktree run …`` is ``python cli.py run …`` (every verb), and
``thinktree app`` starts the app. The installed package carries the CLI as ``thinktree.cli``
(the build rewrites this import, see ``setup.py``); an editable install and the checkout keep
the flat ``cli``."""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from cli import main as run
    return run(argv)
