"""The one parser for lists of ids typed by a user: ``"901-910"``, ``"3,4,7"``, ``"1,4,7-9"``.

Experiments use it for problem ids, exports for run ids. Ids come back in the order given,
without duplicates; a bad part raises ValueError naming the field and the part.
"""
from __future__ import annotations

MAX_IDS = 100_000


def parse_id_ranges(text: str, field: str, example: str = "1,4,7-9",
                    max_ids: int = MAX_IDS) -> list[int]:
    """Whole numbers and ``lo-hi`` ranges, comma separated; at most ``max_ids`` per range."""
    out: dict[int, None] = {}
    for part in str(text or "").replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"{field}: expected numbers or ranges like {example}, got {part!r}")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise ValueError(f"{field}: range {part!r} runs backwards")
        if b - a >= max_ids:
            raise ValueError(f"{field}: range {part!r} is too large")
        out.update(dict.fromkeys(range(a, b + 1)))
    if not out:
        raise ValueError(f"{field}: give at least one id, e.g. {example}")
    return list(out)
