"""The experiment modules' shared pieces: the one ETA formula and the one id-range parser."""
from __future__ import annotations

import pytest

from reasoning.id_lists import parse_id_ranges
from runner.experiments import eta_seconds, parse_ids
from runner.export import parse_ids as parse_run_ids


def test_one_eta_formula():
    assert eta_seconds(0, [], 4) == 0.0                 # nothing left
    assert eta_seconds(3, [], 1) is None                # no cell finished yet
    assert eta_seconds(6, [10.0, 20.0], 2) == 45.0      # 6 left x 15 s mean / 2 at once
    assert eta_seconds(6, [10.0, 20.0], 0) == 90.0      # concurrency below 1 counts as 1


def test_one_id_range_parser_for_problems_and_runs():
    assert parse_id_ranges("1, 4,7-8,4", "x") == [1, 4, 7, 8]
    assert parse_ids("901-903") == ["901", "902", "903"]
    assert parse_run_ids("3,4, 7") == [3, 4, 7]
    assert parse_run_ids("3-5,9") == [3, 4, 5, 9]       # ranges now work for runs too
    with pytest.raises(ValueError, match="runs: expected numbers or ranges like 3,4,7, got 'x'"):
        parse_run_ids("3,x")
    with pytest.raises(ValueError, match="problems: range '9-3' runs backwards"):
        parse_ids("9-3")
    with pytest.raises(ValueError, match="problems: range .* is too large"):
        parse_ids("1-100000000")
