"""Every ``python cli.py …`` command in a code block of the README, the manual (docs/) and the
examples' READMEs names a verb and flags the CLI has: each is parsed by the real parser (with the
plug-in folders the command names on its ``THINKTREE_*_PATH`` prefix). Placeholders such as
``RUN_ID`` stand for a number."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"^(RUN_ID|RUN_A|RUN_B|NODE_ID|ID)$")
PARSE = ("import json, sys\nfrom reasoning import plugins\nfrom runner.cli import "
         "build_parser\nplugins.ensure()\nbad = []\nfor argv in json.load(sys.stdin):\n    try:\n"
         "        build_parser().parse_args(argv)\n    except SystemExit as e:\n        if e.code:\n"
         "            bad.append(argv)\nprint(json.dumps(bad))\n")


def documented_commands() -> list[tuple[str, dict[str, str], list[str]]]:
    """(file, environment prefix, argv after ``cli.py``) for every command in a code block."""
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "examples").glob("*/README.md"))]
    out = []
    for f in files:
        for block in re.findall(r"```(?:bash|sh)\n(.*?)```", f.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                if "python cli.py " not in line:
                    continue
                before, _, after = line.partition("python cli.py ")
                env = dict(re.findall(r"(\w+)=(\S+)", before.split("|")[-1]))
                words = shlex.split(after.split(" #")[0].split(" | ")[0].rstrip(" &"))
                out.append((f.name, env, ["1" if PLACEHOLDER.match(w) else w for w in words]))
    return out


def test_the_docs_show_many_commands():
    assert len(documented_commands()) >= 20


def test_every_documented_command_parses():
    groups: dict[tuple, list[tuple[str, list[str]]]] = {}
    for name, env, argv in documented_commands():
        argv = [a for a in argv if a != "--help"]     # parsed, not printed
        groups.setdefault(tuple(sorted(env.items())), []).append((name, argv))
    for env, cmds in groups.items():
        p = subprocess.run([sys.executable, "-c", PARSE], cwd=ROOT, input=json.dumps([a for _, a in cmds]),
                           capture_output=True, text=True, env={**os.environ, **dict(env)})
        assert p.returncode == 0, p.stderr[-2000:]
        bad = json.loads(p.stdout.strip().splitlines()[-1])
        assert not bad, f"documented commands the CLI refuses ({dict(env)}): {bad}\n{p.stderr[-1500:]}"
