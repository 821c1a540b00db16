"""Faults against a real misbehaving server on 127.0.0.1 (not a mocked client).

For each fault: the node becomes failed with a readable reason, streamed text is kept, retries
happen only before the first byte, and the run ends cleanly (error or continues).
"""
import socket

import pytest

from benchmarks.fault_server import FaultServer
from reasoning.engine import run_search
from reasoning.models.openai_client import OpenAIModel
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tree import FAILED, fold


@pytest.fixture(scope="module")
def server():
    with FaultServer() as s:
        yield s


def model_for(url, mode, chat=False, timeout=1.5):
    return OpenAIModel(url, mode, mode="chat" if chat else "completions", timeout=timeout,
                       connect_timeout=1.0, max_retries=2, capabilities={})


def greedy(model):
    task = get_task("game24")
    result, rec = run_search(make_strategy("greedy"), task, task.resolve_problem("4 5 6 10"), model,
                             run_id=1, budget=Budget(max_seconds=60))
    return result, fold(rec.events)


def first_step(tree):
    return tree.nodes[1]


def test_connection_refused(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, tree = greedy(model_for(f"http://127.0.0.1:{port}/v1", "ok"))
    assert result.outcome == "error"
    node = first_step(tree)
    assert node.state == FAILED and node.reason.startswith("cannot connect")


def test_no_first_byte_is_a_timeout_retried_safely(server):
    result, tree = greedy(model_for(server.url, "silent", timeout=1.0))
    assert result.outcome == "error"
    assert first_step(tree).state == FAILED and "timeout" in first_step(tree).reason
    assert server.hits["silent"] == 3  # nothing was streamed: retrying is safe


@pytest.mark.parametrize("chat", [False, True])
def test_stall_mid_stream_keeps_text_and_is_not_rerun(server, chat):
    before = server.hits["stall"]
    result, tree = greedy(model_for(server.url, "stall", chat=chat, timeout=1.0))
    node = first_step(tree)
    assert result.outcome == "error"
    assert node.state == FAILED and "timeout" in node.reason and "stalled" in node.reason
    assert node.text == "4 + 6 = 10"
    assert server.hits["stall"] - before == 1  # half-streamed: never silently re-run


def test_429_follows_retry_after_and_the_run_goes_on(server):
    result, tree = greedy(model_for(server.url, "429"))
    assert server.hits["429"] >= 2
    assert first_step(tree).step == "4 + 6 = 10 (left: 5 10 10)"
    assert result.outcome == "failed"  # the server's fixed answer is invalid from the next state


def test_500_is_retried_then_a_failed_node(server):
    result, tree = greedy(model_for(server.url, "500"))
    assert result.outcome == "error"
    assert "HTTP 500" in first_step(tree).reason and "internal failure" in first_step(tree).reason
    assert server.hits["500"] == 3


def test_stream_without_finish_reason_is_failed_not_completed(server):
    result, tree = greedy(model_for(server.url, "nofinish"))
    node = first_step(tree)
    assert node.state == FAILED and node.reason.startswith("incomplete stream")
    assert node.text == "4 + 6 = 10" and node.step is None


def test_invalid_json_chunk(server):
    result, tree = greedy(model_for(server.url, "badjson"))
    node = first_step(tree)
    assert result.outcome == "error"
    assert node.state == FAILED and node.reason.startswith("bad response")
    assert node.text.startswith("4 + 6")


def test_enormous_answer_is_cut_and_kept(server):
    result, tree = greedy(model_for(server.url, "huge"))
    node = first_step(tree)
    assert node.state == FAILED and "answer too long" in node.reason
    assert 1000 < len(node.text) <= 20_000 + 6000


def test_mcts_gives_up_after_repeated_errors(server):
    task = get_task("game24")
    result, rec = run_search(make_strategy("mcts", {"simulations": 20}), task,
                             task.resolve_problem("4 5 6 10"), model_for(server.url, "nofinish"),
                             run_id=1, budget=Budget(max_seconds=60))
    tree = fold(rec.events)
    assert result.outcome == "error" and "incomplete stream" in result.detail
    assert sum(n.state == FAILED for n in tree.nodes.values()) == 3


def test_prompt_tokens_are_counted_by_the_server_when_the_stream_has_no_usage():
    from reasoning.models.base import GenRequest
    with FaultServer(count_tokens=True) as s:
        model = OpenAIModel(s.url, "ok", capabilities={"token_count": True}, timeout=5)
        first = model.generate(GenRequest(prompt="four five six ten", max_tokens=20))
        again = model.generate(GenRequest(prompt="four five six ten", max_tokens=20))
        chat = model.generate(GenRequest(prompt=[{"role": "user", "content": "a b c"}], max_tokens=20))
        assert (first.prompt_tokens, again.prompt_tokens, chat.prompt_tokens) == (4, 4, 3)
        assert first.usage_estimated and first.completion_tokens > 0
        assert s.hits["count"] == 2                     # the repeated prompt is counted once
        # a run records them: the tree's prompt tokens are the sum over its requests
        result, tree = greedy(OpenAIModel(s.url, "ok", capabilities={"token_count": True}, timeout=5))
        assert tree.prompt_tokens > 0
    with FaultServer(count_tokens=False) as s:          # no counter: 0, and no error
        model = OpenAIModel(s.url, "ok", capabilities={"token_count": True}, timeout=5)
        out = model.generate(GenRequest(prompt="four five six ten", max_tokens=20))
        assert out.prompt_tokens == 0 and out.text


def test_an_exception_from_on_chunk_passes_through_and_hangs_up(server):
    """Stop and the time limit end a call from its chunk callback: that exception must reach the
    caller unchanged (not become a "bad response" model error), with no retry, and the stream
    is closed so the server stops generating."""
    import time

    from reasoning.models.base import GenRequest

    class StopListening(Exception):
        pass

    seen: list[str] = []

    def on_chunk(text, reasoning):
        seen.append(text)
        if len(seen) == 2:
            raise StopListening()
    before, hung = server.hits["slow"], server.hits["hung up"]
    with pytest.raises(StopListening):
        model_for(server.url, "slow", timeout=5).generate(GenRequest(prompt="x", max_tokens=20), on_chunk)
    assert len(seen) == 2 and server.hits["slow"] - before == 1
    deadline = time.monotonic() + 3
    while server.hits["hung up"] == hung and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.hits["hung up"] == hung + 1
