"""The Live and Sessions pages in a real headless Chromium against ``streamlit run app.py``.

AppTest cannot click a plotly point, run the timed refresh or the worker thread: this does, on
the real embedded model (shared via THINKTREE_EMBEDDED_URL) and a real SQLite file. Screenshots
go to ``artifacts/`` for a human to look at."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.harness import CHROMIUM, ROOT, browser_page, open_more_settings, running_app

ARTIFACTS = ROOT / "artifacts"
OUTCOME = re.compile(r"outcome: (solved|failed|budget|error|cancelled)")

pytestmark = [pytest.mark.browser, pytest.mark.embedded,   # app_url starts the model
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


@pytest.fixture
def app_url(tmp_path, embedded_url):
    """``streamlit run app.py`` on a free port with its own database; killed afterwards."""
    with running_app(str(tmp_path / "browser.db"), tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def page():
    with browser_page() as pg:
        yield pg


def choose(page, label: str, option_text: str) -> None:
    """Pick ``option_text`` in the Streamlit selectbox labelled ``label`` (typing to filter)."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(option_text)
    page.get_by_role("option", name=re.compile(re.escape(option_text))).first.click()


def start_run(page, url: str, strategy_title: str, settings: dict[str, str] | None = None) -> None:
    page.goto(url)
    page.get_by_text("Thinktree · live run").wait_for()
    choose(page, "Puzzle (1362 bundled; type to search)", "4 5 6 10")
    choose(page, "Strategy", strategy_title)
    page.wait_for_timeout(500)
    assert page.get_by_label("Puzzle (1362 bundled; type to search)").input_value() == \
        "rank 901: 4 5 6 10"
    assert page.get_by_label("Strategy", exact=True).input_value() == strategy_title
    if settings:
        open_more_settings(page)   # the strategy's settings and other limits are folded
    for name, value in (settings or {}).items():
        box = page.get_by_label(name, exact=True)
        box.fill(value)
        box.press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Run", exact=True).click()


def wait_for_outcome(page, timeout_s: float) -> str:
    status = page.get_by_text(OUTCOME)
    try:
        status.first.wait_for(timeout=timeout_s * 1000)
    except Exception:
        screenshot(page, "failure_wait_for_outcome.png")  # what the page showed instead
        raise
    page.wait_for_timeout(1500)  # the full rerun after the last poll settles the page
    return status.first.inner_text()


def run_id_from(status: str) -> int:
    return int(re.search(r"Run (\d+)", status).group(1))


def click_node(page, nth: int = -1) -> None:
    """Click a node marker of the tree figure (plotly hit-tests by position, so use the mouse)."""
    points = page.locator(".js-plotly-plot g.trace.scatter path.point")
    points.first.wait_for()
    point = points.nth(nth % points.count())
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_deep_link_on_a_fresh_server_runs_through_app(app_url, page):
    """The first request of a new server opens /sessions directly: it still gets app.py's
    sidebar and page list (not Streamlit's legacy pages/ folder mode)."""
    page.goto(f"{app_url}/sessions?run=1")
    page.get_by_text("Thinktree · sessions & replay").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Embedded (default, Gemma 3 270M, no key)").wait_for()
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Live run" in nav and "Sessions & replay" in nav
    assert "app" not in nav.split()


def screenshot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(1000, int(height) + 40)})
    page.wait_for_timeout(800)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_live_greedy_run_click_and_inspect(app_url, page, tmp_path):
    start_run(page, app_url, "Greedy chain of thought (shortcut)")
    status = wait_for_outcome(page, 120)
    assert "problem 4 5 6 10" in status and "greedy" in status
    from reasoning.tree import fold
    from storage import open_store
    tree = fold(open_store(str(tmp_path / "browser.db")).events(run_id_from(status)))
    assert tree.outcome and f"outcome: {tree.outcome}" in status
    assert f"nodes {len(tree.nodes)}" in status
    # legend lists every state even when the run did not produce them
    legend = " ".join(page.locator(".js-plotly-plot .legend text.legendtext").all_text_contents())
    for state in ("generating", "open", "pruned", "backtracked", "failed", "solved"):
        assert state in legend
    click_node(page, -1)  # the deepest node is drawn last
    header = page.get_by_text(re.compile(r"^Node \d+ · "))
    header.first.wait_for(timeout=20_000)
    node_id = int(re.match(r"Node (\d+)", header.first.inner_text()).group(1))
    node = tree.nodes[node_id]
    assert node.text.strip()
    # the inspector shows the clicked node's full text (as a code block, not markdown)
    page.locator("[data-testid='stCode']", has_text=node.text.strip()).first.wait_for(timeout=20_000)
    screenshot(page, "live_greedy.png")
    # the run id is in the URL: a reload shows the same run again
    assert f"run={run_id_from(status)}" in page.url
    page.reload()
    page.get_by_text(f"Run {run_id_from(status)} · greedy").wait_for()


def test_live_mcts_tree_and_replay(app_url, page, tmp_path):
    # bounded: 8 simulations or 300 s, whichever comes first. The time limit cuts the call in
    # flight, so a short limit on a busy shared model server would end the run before any step.
    start_run(page, app_url, "MCTS (UCT with rollouts)", {"simulations": "8", "max seconds": "300"})
    status = wait_for_outcome(page, 420)
    run_id = run_id_from(status)
    from storage import open_store
    run = open_store(str(tmp_path / "browser.db")).get_run(run_id)
    # "error" would mean the model calls failed: the page showed a tree of failures, not a search
    assert run["outcome"] in ("solved", "failed", "budget"), status
    assert run["strategy"] == "mcts" and run["params"]["simulations"] == 8
    assert run["budget"]["max_seconds"] == 300
    assert page.locator(".js-plotly-plot g.trace.scatter path.point").count() >= 3
    screenshot(page, "live_mcts.png")
    # the Sessions page opens the same run from the URL and replays it
    page.goto(f"{app_url}/sessions?run={run_id}")
    page.get_by_text("Thinktree · sessions & replay").wait_for()
    page.get_by_text(re.compile(rf"^seq {run['events']}/{run['events']}: run_finished")).wait_for()
    page.get_by_role("button", name="Play").click()
    page.get_by_text(re.compile(r"^seq \d+/")).first.wait_for()
    page.wait_for_timeout(2500)
    seq = int(re.match(r"seq (\d+)/", page.get_by_text(re.compile(r"^seq \d+/")).first.inner_text())
              .group(1))
    assert 1 <= seq < run["events"]  # playing from the start, not at the end yet
    screenshot(page, "replay_mcts.png")


def test_stop_cancels_a_running_search(app_url, page, tmp_path):
    start_run(page, app_url, "MCTS (UCT with rollouts)", {"simulations": "200"})
    stop = page.get_by_role("button", name="Stop", exact=True)
    # before the run the page shows a preview tree (the last run or a demo run), so points on
    # the page do not mean the run is going: wait for its Stop button first
    expect(stop).to_be_enabled(timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll("
                           "'.js-plotly-plot g.trace.scatter path.point').length >= 2",
                           timeout=120_000)
    assert stop.is_enabled() and not page.get_by_role("button", name="Run", exact=True).is_enabled()
    stop.click()
    status = wait_for_outcome(page, 120)
    assert "outcome: cancelled" in status
    assert page.get_by_role("button", name="Run", exact=True).is_enabled()
    from storage import open_store
    run = open_store(str(tmp_path / "browser.db")).get_run(run_id_from(status))
    assert run["outcome"] == "cancelled" and run["nodes"] < 200


NODE_X = """() => {
  const el = document.querySelector('.js-plotly-plot');
  const out = {};
  for (const t of (el && el.data) || []) {
    if (!t.customdata) continue;
    Array.from(t.customdata).forEach((c, i) => { out[c[0]] = t.x[i]; });
  }
  return {nodes: out, range: el && el.layout.xaxis.range};
}"""


def node_positions(page) -> tuple[dict[int, float], list]:
    got = page.evaluate(NODE_X)
    return {int(k): float(v) for k, v in got["nodes"].items()}, list(got["range"] or [])


def test_live_nodes_keep_their_place_and_replay_never_moves_them(app_url, page, tmp_path):
    start_run(page, app_url, "MCTS (UCT with rollouts)", {"simulations": "14", "max seconds": "150"})
    # samples of this run, not of the preview tree the page shows before it starts
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled(timeout=120_000)
    samples = []
    status = page.get_by_text(OUTCOME)
    deadline = 300
    while deadline > 0 and not status.count():
        page.wait_for_timeout(700)
        deadline -= 0.7
        try:
            samples.append(node_positions(page))
        except Exception:  # the chart is being replaced by a rerun
            continue
        if len(samples) == 12:
            screenshot(page, "live_mcts_growing.png")
    assert status.count(), "the run did not finish"
    page.wait_for_timeout(1000)
    live_final, _ = node_positions(page)   # the live view's final frame
    grown = [s for s in samples if len(s[0]) >= 3]
    assert len(grown) >= 5 and len(grown[-1][0]) > len(grown[0][0])
    pairs = moved = rescales = 0
    for (before, r0), (after, r1) in zip(grown, grown[1:], strict=False):
        common = [k for k in before if k in after]
        pairs += len(common)
        moved += sum(1 for k in common if abs(after[k] - before[k]) > 1e-9)
        rescales += r0 != r1
    # drawn nodes stay put: a few move when a new family needs room (the tidy layout moved
    # 28-46 % of the nodes per refresh on such runs), and the view rescales only now and then
    print(f"live page: {len(grown)} samples, {moved} of {pairs} drawn-node samples moved, "
          f"{rescales} rescales")
    assert moved / pairs <= 0.15, (moved, pairs)
    assert rescales <= len(grown) // 2, (rescales, len(grown))
    # replay: every frame draws every node at its final place
    run_id = run_id_from(status.first.inner_text())
    page.goto(f"{app_url}/sessions?run={run_id}")
    page.get_by_text("Thinktree · sessions & replay").wait_for()
    page.get_by_text(re.compile(r"^seq (\d+)/\1: run_finished")).wait_for()
    page.locator(".js-plotly-plot g.trace.scatter path.point").first.wait_for()
    page.wait_for_timeout(1000)
    final, final_range = node_positions(page)
    assert len(final) == len(grown[-1][0])
    # the replay draws the run exactly where the live view's final frame had it
    assert final == live_final, (final, live_final)
    page.get_by_role("button", name="Play").click()
    frames = []
    for _ in range(8):
        page.wait_for_timeout(900)
        try:
            frames.append(node_positions(page))
        except Exception:
            continue
    frames = [f for f in frames if f[0]]  # (the first events come before any node)
    assert len({len(f[0]) for f in frames}) >= 2  # the frames did differ
    for nodes, x_range in frames:
        assert all(final[k] == x for k, x in nodes.items())
        assert x_range == final_range
