"""ToT's value prompts as the paper used them (``protocol="tot"``, Game of 24).

A state is valued with the full 8-example prompt, an ``Answer: …`` line with the last-step judge;
both are sampled ``samples`` times as free text (no grammar) and each sample's verdict is the last
line it wrote (:func:`~reasoning.tasks.game24_tot.read_verdict`): sure / likely / impossible
score 20 / 1 / 0.001, summed; a sample without a verdict line scores 0. Values are cached per
prompt within a run, as ToT does. Like the constrained evaluator, the calls are not nodes; the
texts, verdicts and tokens are kept in the ``node_scored`` details.
"""
from __future__ import annotations

from typing import Any

from ..engine import SearchContext
from ..models.base import GenRequest
from ..tasks import game24_tot as tot
from .base import Score
from .value_prompt import ValuePromptEvaluator


class ToTValueEvaluator(ValuePromptEvaluator):
    name = "value_prompt"
    title = "ToT value prompt, free text (protocol tot)"

    def evaluate(self, ctx: SearchContext, node_id: int) -> Score:
        node = ctx.tree.nodes[node_id]
        if node.role == "answer":
            prompt, kind = tot.last_step_prompt(ctx.problem.text, node.step or node.text), "last step"
        else:
            prompt, kind = tot.value_prompt(ctx.states[node_id].left()), "state"
        if prompt in self._cache:
            hit = self._cache[prompt]
            return Score(hit.value, hit.norm, {**hit.details, "cached": True, "tokens": 0})
        result = self._free_samples(ctx, node_id, prompt, kind)
        self._cache[prompt] = result
        return result

    def _free_samples(self, ctx: SearchContext, node_id: int, prompt: str, kind: str) -> Score:
        verdicts: list[str | None] = []
        texts: list[str] = []
        tokens = 0
        message: Any = [{"role": "user", "content": prompt}] if ctx.model.mode == "chat" else prompt
        for k in range(self.samples):
            ctx.check()
            out = ctx.call(GenRequest(prompt=message, temperature=self.temperature,
                                      seed=ctx.request_seed(node_id, 1000 + k),
                                      max_tokens=tot.VALUE_MAX_TOKENS, stop=list(tot.STOP)))
            if out is None:
                verdicts.append(None)
                continue
            text, meta = out
            tokens += meta["completion_tokens"]
            texts.append(text)
            verdicts.append(tot.read_verdict(text))
        value = sum(tot.VALUES[v] for v in verdicts if v is not None)
        top = self.samples * tot.VALUES["sure"]
        details = {"source": "value prompt", "protocol": "tot", "prompt": kind,
                   "samples": self.samples, "verdicts": verdicts, "texts": texts,
                   "counts": {w: verdicts.count(w) for w in tot.VALUES}, "constrained": False,
                   "tokens": tokens}
        return Score(round(value, 6), value / top, details)
