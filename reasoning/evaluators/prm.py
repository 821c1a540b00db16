"""A process reward model (PRM) grades each step: ``--evaluator prm``.

The grader is its own endpoint (``--prm-base-url``, ``--prm-model``, ``--prm-api-key-env``), so a
small policy can be guided by a larger grader; without a URL the policy model grades its own steps.
Three routes, chosen by ``route`` (``auto`` probes the server once per URL and model):

* ``classify`` — vLLM's ``POST /classify`` (a sequence-classification reward model): the
  probability of the last class (by convention "good") is the value;
* ``reward`` — vLLM's ``POST /pooling`` (a reward model): the last number it returns, squashed
  into 0..1 with a logistic when it lies outside;
* ``chat`` — any chat model, prompted to rate the newest step from 1 (wrong or useless) to 10
  (correct and useful); ``samples`` ratings are averaged and mapped to 0..1.

``auto`` tries ``classify``, then ``reward``, and falls back to ``chat`` (a plain OpenAI-compatible
server answers 404 there). Values are on 0..1 (``default_threshold`` 0.5). A terminal state is
judged by the task's verifier, as with every evaluator. Grader calls are not nodes: their tokens
and call count go into the ``node_scored`` details and the run's budget, like the value prompt's.
"""
from __future__ import annotations

import json
import math
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from ..engine import SearchContext, TooManyModelErrors
from ..models.base import GenRequest, ModelConnectError, ModelError
from ..settings import check_range
from .base import Evaluator, Score, terminal_score

ROUTES = ("classify", "reward", "chat")
_PROBED: dict[tuple[str, str], str] = {}   # (base_url, model) -> route, once per process
_PROBE_LOCK = threading.Lock()


@dataclass
class PRMSettings:
    base_url: str = ""          # the grader's OpenAI-compatible URL; "" = the policy model
    model: str = ""             # the grader's model name at that URL
    api_key_env: str = ""       # the environment variable holding the grader's key
    route: Literal["auto", "chat", "classify", "reward"] = "auto"
    samples: int = 1            # chat route: ratings per step
    temperature: float = 0.0    # chat route

    def __post_init__(self) -> None:
        if self.route not in ("auto", *ROUTES):
            raise ValueError(f"route: must be auto, chat, classify or reward, got {self.route!r}")
        if self.base_url and not re.match(r"^https?://[^/\s]+", self.base_url):
            raise ValueError(f"base_url: must be an http(s) URL, got {self.base_url!r}")
        if self.base_url and not self.model:
            raise ValueError("model: name the grader model at the prm endpoint")
        if not self.base_url and self.route in ("classify", "reward"):
            raise ValueError(f"route: {self.route} needs a grader endpoint (prm base_url)")
        check_range("samples", self.samples, 1, 20)
        check_range("temperature", self.temperature, 0.0, 2.0)


def grading_text(ctx: SearchContext, node_id: int) -> tuple[str, list[str], str]:
    """(problem, earlier steps, newest step) along the path to ``node_id``."""
    tree = ctx.tree
    steps = [(tree.nodes[n].step or tree.nodes[n].text).strip() for n in tree.path_to(node_id)[1:]]
    return ctx.problem.text, steps[:-1], steps[-1] if steps else ""


def chat_prompt(problem: str, before: list[str], step: str) -> str:
    done = "\n".join(f"{i}. {s}" for i, s in enumerate(before, 1)) or "(none yet)"
    return (f"You are grading one step of a solution.\n\nProblem: {problem}\n\nSteps so far:\n"
            f"{done}\n\nNew step: {step}\n\nIs the new step correct, and does it move towards the "
            "answer? Rate it from 1 (wrong or useless) to 10 (correct and useful). Reply with the "
            "number only.")


def parse_rating(text: str) -> int | None:
    """The first whole number from 1 to 10 in ``text``, or None."""
    for m in re.finditer(r"\d+", text or ""):
        if 1 <= int(m.group()) <= 10:
            return int(m.group())
    return None


def squash(x: float) -> float:
    """A reward in 0..1 as is; any other real number through the logistic function."""
    return x if 0.0 <= x <= 1.0 else 1.0 / (1.0 + math.exp(-x))


def _last_number(data: Any) -> float | None:
    if isinstance(data, bool):
        return None
    if isinstance(data, int | float):
        return float(data)
    if isinstance(data, list) and data:
        return _last_number(data[-1])
    if isinstance(data, dict):
        for key in ("probs", "data", "score", "reward"):
            if key in data:
                return _last_number(data[key])
    return None


class PRMEvaluator(Evaluator):
    name = "prm"
    title = "Process reward model (grader endpoint)"
    default_threshold = 0.5
    Settings = PRMSettings

    def __init__(self, settings: PRMSettings | None = None) -> None:
        self.s = settings or PRMSettings()
        self._grader = None   # the grader's model client, made on first use (the key is read then)
        self._route: str | None = None if self.s.route == "auto" else self.s.route

    # -- routes ----------------------------------------------------------------------------------
    def _root(self) -> str:
        root = self.s.base_url.rstrip("/")
        return root[:-3] if root.endswith("/v1") else root

    def _key(self) -> str | None:
        import os
        if not self.s.api_key_env:
            return None
        key = os.environ.get(self.s.api_key_env)
        if not key:
            raise ModelError(f"the environment variable {self.s.api_key_env} is not set")
        return key

    def _post(self, path: str, body: dict[str, Any], timeout: float = 30.0) -> Any:
        headers = {"Content-Type": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self._root() + path, data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def _http_value(self, route: str, text: str, timeout: float = 30.0) -> float | None:
        path = "/classify" if route == "classify" else "/pooling"
        out = self._post(path, {"model": self.s.model, "input": [text]}, timeout)
        rows = out.get("data") if isinstance(out, dict) else None
        value = _last_number(rows[0]) if isinstance(rows, list) and rows else None
        return None if value is None or math.isnan(value) else squash(value)

    def route(self) -> str:
        """The route in use; ``auto`` probes the grader once (per URL and model, per process)."""
        if self._route is None:
            if not self.s.base_url:
                self._route = "chat"
            else:
                key = (self.s.base_url, self.s.model)
                with _PROBE_LOCK:
                    if key not in _PROBED:
                        _PROBED[key] = self._probe()
                self._route = _PROBED[key]
        return self._route

    def _probe(self) -> str:
        for route in ("classify", "reward"):
            try:
                # a short wait: a server without the route should say 404 at once
                if self._http_value(route, "1 + 1 = 2", timeout=5.0) is not None:
                    return route
            except (OSError, ValueError, KeyError, TypeError):  # 404, not JSON, other shape
                continue
        return "chat"

    # -- evaluate ----------------------------------------------------------------------------------
    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        done = terminal_score(ctx, node_id, 1.0)
        if done is not None:
            return done
        problem, before, step = grading_text(ctx, node_id)
        route = self.route()
        ctx.check()
        if route == "chat":
            return self._chat(ctx, node_id, chat_prompt(problem, before, step))
        text = "\n".join([problem, *before, step])
        try:
            value = self._http_value(route, text)
        except (OSError, ValueError) as e:  # a grader that fails mid-run ends the run clearly
            raise TooManyModelErrors(f"prm grader ({route} at {self._root()}): {e}") from e
        ctx.compute.call("value")
        if value is None:
            raise TooManyModelErrors(f"prm grader ({route}): no number in the answer")
        return Score(round(value, 6), value, {"source": "prm", "route": route,
                                              "grader": self.s.model, "calls": 1})

    def _chat(self, ctx: SearchContext, node_id: int, prompt: str) -> Score:
        own = not self.s.base_url
        model = ctx.model if own else self._grader_model()
        constrained = bool(model.capabilities.get("constraint"))
        ratings: list[int | None] = []
        tokens = 0
        for k in range(self.s.samples):
            req = GenRequest(prompt=[{"role": "user", "content": prompt}]
                             if model.mode == "chat" else prompt + "\nRating:",
                             max_tokens=4 if constrained else 12, temperature=self.s.temperature,
                             seed=ctx.request_seed(node_id, 2000 + k), stop=["\n"],
                             choices=[str(i) for i in range(1, 11)] if constrained else None)
            out = ctx.call(req) if own else self._call(ctx, model, req)
            if out is None:
                ratings.append(None)
                continue
            tokens += out[1]["completion_tokens"]
            ratings.append(parse_rating(out[0]))
        valid = [r for r in ratings if r is not None]
        value = sum((r - 1) / 9 for r in valid) / len(valid) if valid else 0.5
        details = {"source": "prm", "route": "chat", "grader": self.s.model or model.name,
                   "ratings": ratings, "tokens": tokens, "calls": self.s.samples}
        if not valid:
            details["why"] = "no rating in the grader's answers: neutral 0.5"
        return Score(round(value, 6), value, details)

    def _grader_model(self):
        if self._grader is None:
            from ..models.config import ModelConfig, make_model
            cfg = ModelConfig(kind="endpoint", base_url=self.s.base_url, model=self.s.model,
                              api_key_env=self.s.api_key_env, mode="chat")
            self._grader = make_model(cfg)
        return self._grader

    def _call(self, ctx: SearchContext, model: Any, req: GenRequest):
        """One grader call: counted like ``ctx.call`` (budget tokens, model calls, errors)."""
        ctx.compute.call("value")
        try:
            comp = model.generate(req, None)
        except ModelConnectError as e:
            raise TooManyModelErrors(f"prm grader: {e.reason()}") from e
        except ModelError:
            return None
        ctx.eval_tokens += comp.completion_tokens
        ctx.eval_prompt_tokens += comp.prompt_tokens
        ctx.compute.used("value", comp.prompt_tokens, comp.completion_tokens)
        return comp.text, {"completion_tokens": comp.completion_tokens}
