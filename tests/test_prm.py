"""The ``prm`` evaluator against a loopback grader: the chat route (a model prompted to rate a step),
vLLM's /classify and /pooling routes found by probing, the grader's own URL / model / key apart
from the policy's, and its scores counted against the exact truth."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reasoning.engine import run_search
from reasoning.evaluators.prm import PRMEvaluator, PRMSettings, parse_rating, squash
from reasoning.models.scripted import ScriptedModel
from reasoning.plugin_check import random_policy
from reasoning.settings import Budget
from reasoning.strategies import make_strategy
from reasoning.tasks import get_task
from reasoning.tasks.game24 import parse_num, solvable_numbers


def truth_of(step_text: str) -> bool:
    """The grader's rule: exact solvability of the numbers the step leaves (Game of 24)."""
    left = re.search(r"left: ([^)]*)\)", step_text)
    return solvable_numbers(tuple(parse_num(x) for x in left.group(1).split()))


class Grader:
    """A loopback grader: chat completions rate 9 (solvable) or 2; /classify and /pooling
    answer only when switched on (else 404, like a plain chat server)."""

    def __init__(self, classify: bool = False, pooling: bool = False) -> None:
        self.requests: list[tuple[str, dict, str]] = []
        grader = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                grader.requests.append((self.path, req, self.headers.get("Authorization", "")))
                if self.path == "/classify" and classify:
                    text = req["input"][0]
                    good = "left" in text and truth_of(text.splitlines()[-1])
                    return self._send(200, {"data": [{"probs": [0.1, 0.9] if good else [0.7, 0.3]}]})
                if self.path == "/pooling" and pooling:
                    return self._send(200, {"data": [{"data": [[-1.0], [2.0]]}]})
                if self.path.endswith("/chat/completions"):
                    prompt = req["messages"][-1]["content"]
                    step = re.search(r"New step: (.*)", prompt).group(1)
                    return self._stream("9" if truth_of(step) else "2")
                self._send(404, {"detail": "Not Found"})

            def _stream(self, text):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for piece, finish in ((text, None), ("", "stop")):
                    chunk = {"id": "g", "object": "chat.completion.chunk", "created": 0,
                             "model": "grader", "choices": [{"index": 0, "delta": {"content": piece},
                                                            "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> Grader:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def fresh_probe_cache():
    from reasoning.evaluators import prm
    prm._PROBED.clear()


def _beam(grader_url: str, **extra):
    params = {"evaluator": "prm", "beam_width": 2, "proposals": 4, "prm_base_url": grader_url,
              "prm_model": "grader-7b", **extra}
    task = get_task("game24")
    policy = ScriptedModel(random_policy, name="tiny-policy")
    result, rec = run_search(make_strategy("beam", params), task, task.parse_problem("4 5 6 10"),
                             policy, run_id=1, budget=Budget(max_nodes=60), seed=2)
    return result, rec, policy


def test_chat_grader_scores_steps_apart_from_the_policy_and_counts_against_truth():
    with Grader() as g:
        result, rec, policy = _beam(g.url)
    scored = [e for e in rec.events if e.type == "node_scored"]
    assert scored and all(e.payload["evaluator"] == "prm" for e in scored)
    steps = [e for e in scored if e.payload["details"].get("source") == "prm"]
    assert steps, "no step was graded by the prm"
    for e in steps:
        d = e.payload["details"]
        assert d["route"] == "chat" and d["grader"] == "grader-7b" and d["ratings"] in ([9], [2])
        # rating 9 -> (9-1)/9, rating 2 -> 1/9; the grader's rule is the truth, so they agree
        assert e.payload["value"] == pytest.approx(8 / 9 if e.payload["truth"] else 1 / 9, abs=1e-6)
    # the grader got grading prompts for the grader's model; the policy only ever proposed steps
    chats = [r for p, r, _ in g.requests if p.endswith("/chat/completions")]
    assert len(chats) == len(steps) and {r["model"] for r in chats} == {"grader-7b"}
    assert all("Rate it from 1" in r["messages"][-1]["content"] for r in chats)
    assert not any("Rate it" in str(r.prompt) for r in policy.requests)
    assert [p for p, _, _ in g.requests[:2]] == ["/classify", "/pooling"]   # probed once: 404s
    finished = rec.events[-1].payload
    figures = finished["metrics"]
    assert figures["scored_with_truth"] == len(scored) and figures["false_prunes"] == 0
    assert figures["auc"] == 1.0     # a grader that knows the truth ranks states perfectly
    # the inspector shows the grader's value beside the exact truth, and its details
    from components.inspector import facts
    node = rec.tree.nodes[steps[0].node_id]
    text = facts(node)
    assert f"{node.value:.4g}  (prm)" in text and "solvable" in text
    assert node.score_details["grader"] == "grader-7b"
    assert finished["model_calls"] == len(policy.requests) + len(chats)
    started = rec.events[0].payload["params"]
    assert started["prm_model"] == "grader-7b" and started["prm_route"] == "auto"


def test_probe_finds_the_classify_route_and_sends_the_graders_own_key(monkeypatch):
    monkeypatch.setenv("GRADER_KEY", "sekret-grader")
    with Grader(classify=True) as g:
        result, rec, _ = _beam(g.url, prm_api_key_env="GRADER_KEY")
    steps = [e for e in rec.events if e.type == "node_scored"
             and e.payload["details"].get("source") == "prm"]
    assert steps and all(e.payload["details"]["route"] == "classify" for e in steps)
    assert all(e.payload["value"] == (0.9 if e.payload["truth"] else 0.3) for e in steps)
    assert {a for _, _, a in g.requests} == {"Bearer sekret-grader"}
    assert not any(p.endswith("/chat/completions") for p, _, _ in g.requests)
    assert "sekret" not in json.dumps([e.to_dict() for e in rec.events])


def test_reward_route_squashes_a_logit():
    with Grader(pooling=True) as g:
        result, rec, _ = _beam(g.url)
    steps = [e for e in rec.events if e.type == "node_scored"
             and e.payload["details"].get("source") == "prm"]
    assert steps and {e.payload["details"]["route"] for e in steps} == {"reward"}
    assert {e.payload["value"] for e in steps} == {round(squash(2.0), 6)}


def test_without_a_url_the_policy_grades_its_own_steps():
    def policy(req):
        return "7" if "Rate it" in str(req.prompt) else random_policy(req)
    task = get_task("game24")
    model = ScriptedModel(policy)
    _, rec = run_search(make_strategy("beam", {"evaluator": "prm", "beam_width": 1,
                                               "proposals": 2}),
                        task, task.parse_problem("4 5 6 10"), model, run_id=1, budget=Budget())
    steps = [e for e in rec.events if e.type == "node_scored"
             and e.payload["details"].get("source") == "prm"]
    assert steps and {e.payload["value"] for e in steps} == {round(6 / 9, 6)}
    grading = [r for r in model.requests if "Rate it" in str(r.prompt)]
    assert grading and all(r.choices == [str(i) for i in range(1, 11)] for r in grading)


def test_a_dead_grader_ends_the_run_as_an_error_that_says_so():
    with Grader() as g:
        url = g.url
    result, rec, _ = _beam(url)   # the server is gone: connection refused
    assert result.outcome == "error" and "prm grader" in result.detail
    assert "cannot connect" in result.detail or "Connection refused" in result.detail


@pytest.mark.parametrize("text,want", [("7", 7), (" 10.", 10), ("rating: 0, so 3", 3), ("", None),
                                       ("eleven", None), ("42", None)])
def test_parse_rating(text, want):
    assert parse_rating(text) == want


def test_settings_are_checked_before_anything_runs():
    with pytest.raises(ValueError, match="^model: name the grader"):
        PRMSettings(base_url="http://127.0.0.1:1/v1")
    with pytest.raises(ValueError, match="^route: classify needs a grader endpoint"):
        PRMSettings(route="classify")
    with pytest.raises(ValueError, match="^prm_samples: must be between 1 and 20"):
        make_strategy("beam", {"evaluator": "prm", "prm_samples": "0"})
    assert PRMEvaluator().default_threshold == 0.5
