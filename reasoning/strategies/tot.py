"""The Tree-of-Thoughts protocol (``protocol="tot"``) for beam and DFS on Game of 24.

What differs from Thinktree's own (``constrained``) protocol, step by step:

* **Proposals**: ONE call per node with ToT's propose prompt, no grammar; every line of the output
  is a candidate child (:func:`propose_lines`). The call streams into the first child; its
  tokens are that node's. Lines that are not a valid step are pruned with their reason,
  a line equal to a sibling's is pruned as a duplicate.
* **Values**: ToT's 8-example value prompt, free text, verdict = its last line
  (:class:`~reasoning.evaluators.tot_value.ToTValueEvaluator`).
* **A 4th step**: a state with one number left (24) is continued by the chain-of-thought prompt,
  whose lines are candidate ``Answer: …`` nodes (role ``answer``), valued by the last-step prompt.
* **No early stop**: the verifier never steers the search; answers are checked only once the
  search has chosen its final ones (:func:`judge_final`), giving ToT's two metrics:
  ``correct_any`` (any of the final answers is right) and ``correct_top1`` (the best by value is).
"""
from __future__ import annotations

from typing import Any

from ..engine import Child, Result, SearchContext
from ..models.base import GenRequest
from ..tasks import game24_tot as tot
from ..tasks.base import InvalidStep

PROTOCOLS = ("constrained", "tot")


def check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol: must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")


def _wrap(ctx: SearchContext, prompt: str) -> Any:
    # ToT sends its prompts as one user message to a chat model; a completions model continues it
    return [{"role": "user", "content": prompt}] if ctx.model.mode == "chat" else prompt


def numbers_left(ctx: SearchContext, node: int) -> str:
    return ctx.states[node].left()


def is_last_number(ctx: SearchContext, node: int) -> bool:
    return len(ctx.states[node].items) == 1


def propose_lines(ctx: SearchContext, node: int, temperature: float) -> list[Child]:
    """One proposal call from ``node``; every line becomes a child (valid steps stay open).

    With one number left the call is the answer step instead (children of role ``answer``).
    Returns the open children in creation order (invalid and duplicate lines are pruned).
    """
    answer_step = is_last_number(ctx, node)
    if answer_step:
        prompt = tot.answer_prompt(ctx.problem.text, list(ctx.states[node].steps))
        max_tokens, role = tot.ANSWER_MAX_TOKENS, "answer"
    else:
        prompt = tot.propose_prompt(numbers_left(ctx, node))
        max_tokens, role = tot.PROPOSE_MAX_TOKENS, "thought"
    first = ctx.new_node(node, role)
    req = GenRequest(prompt=_wrap(ctx, prompt), max_tokens=max_tokens, temperature=temperature,
                     seed=ctx.request_seed(node), stop=list(tot.STOP))
    out = ctx.generate(first, req)
    if out is None:
        return []
    text, meta = out
    lines = tot.proposal_lines(text) or [""]
    kids: list[Child] = []
    seen: set[str] = set()
    for k, line in enumerate(lines):
        nid = first if k == 0 else ctx.new_node(node, role)
        # the call's cost sits on the first line's node; its siblings cost nothing more
        extra = {**meta, "call_text": text, "call_lines": len(lines)} if k == 0 else {}
        child = (_answer_child if answer_step else _step_child)(ctx, node, nid, line, seen, extra)
        if child is not None:
            kids.append(child)
    return kids


def _step_child(ctx: SearchContext, parent: int, nid: int, line: str, seen: set[str],
                extra: dict[str, Any]) -> Child | None:
    try:
        step, state = ctx.task.apply_step(ctx.problem, ctx.states[parent], line)
    except InvalidStep as e:
        ctx.complete(nid, line, **extra)
        ctx.prune(nid, str(e), kind="invalid")
        return None
    ctx.complete(nid, line, step, label=ctx.task.describe(state), **extra)
    if step in seen:
        ctx.prune(nid, "duplicate: same step as a sibling", kind="duplicate")
        return None
    seen.add(step)
    ctx.states[nid] = state   # one number left is NOT terminal here: the answer step follows
    return Child(nid, step, state)


def _answer_child(ctx: SearchContext, parent: int, nid: int, line: str, seen: set[str],
                  extra: dict[str, Any]) -> Child | None:
    ctx.complete(nid, line, line or None, label="answer", **extra)
    if not line.lower().startswith("answer:"):
        ctx.prune(nid, f"invalid step: not an 'Answer: …' line: {line[:60]!r}", kind="invalid")
        return None
    if line in seen:
        ctx.prune(nid, "duplicate: same answer as a sibling", kind="duplicate")
        return None
    seen.add(line)
    return Child(nid, line, None)


def dead_end(ctx: SearchContext, node: int) -> str | None:
    """Why a one-number state gets no answer step (it is not 24), else None."""
    if is_last_number(ctx, node) and ctx.states[node].left() != "24":
        return f"dead end: the number left is {ctx.states[node].left()}, not 24 (no answer step)"
    return None


def score(ctx: SearchContext, evaluator: Any, node_id: int) -> float:
    """Value ``node_id`` and record it; truth = solvable state, or for an answer: is it right."""
    result = evaluator.evaluate(ctx, node_id)
    if node_id in ctx.states:
        truth = ctx.task.solvable(ctx.states[node_id])
    else:
        truth = tot.check_answer(ctx.problem.text, ctx.tree.nodes[node_id].step or "").correct
    ctx.score(node_id, result.value, evaluator.name,
              {**result.details, "norm": round(result.norm, 6)}, truth=bool(truth))
    return result.value


def judge_final(ctx: SearchContext, finals: list[int], what: str) -> Result:
    """Check the search's final answers (best first) like ToT's test; the paper's two metrics.

    The run's answer is the best by value (``correct_top1``); ``correct_any`` says whether any
    final answer was right. Nothing here changed what the search did.
    """
    verdicts = []
    lines = [ctx.tree.nodes[nid].step or "" for nid in finals]
    for nid in finals:
        v = tot.check_answer(ctx.problem.text, ctx.tree.nodes[nid].step or "")
        verdicts.append(v)
        if v.correct:
            ctx.solve(nid, v.answer, v.reason)
        else:
            ctx.fail(nid, v.reason, v.answer)
    metrics = {"correct_any": any(v.correct for v in verdicts),
               "correct_top1": bool(verdicts and verdicts[0].correct),
               # how the paper's authors scored their runs (issues #22, #53 of their repo): the
               # first final answer, by value, whose expression uses exactly the four numbers
               "correct_first_valid": next(
                   (bool(v.correct) for v, line in zip(verdicts, lines, strict=True)
                    if tot.uses_the_numbers(ctx.problem.text, line)), False),
               "final_answers": len(finals)}
    if not finals:
        return Result("failed", detail=f"no answer line survived ({what})", extra=metrics)
    top, best = finals[0], verdicts[0]
    right = sum(bool(v.correct) for v in verdicts)
    detail = (f"best of {len(finals)} final answers by value is {'right' if best.correct else 'wrong'}"
              f"; {right} of {len(finals)} right ({what})")
    return Result("solved" if best.correct else "failed", best.answer, top, detail, extra=metrics)


def check_settings(protocol: str, evaluator_name: str, anytime: bool = False) -> None:
    check_protocol(protocol)
    if protocol == "tot" and anytime:
        raise ValueError("anytime: the tot protocol runs the paper's search once (no restarts)")
    if protocol == "tot" and evaluator_name != "value_prompt":
        raise ValueError(f"evaluator: the tot protocol values states with ToT's value prompt "
                         f"(value_prompt), got {evaluator_name!r}")


def evaluator() -> Any:
    """ToT's free-text value prompts (state and last step)."""
    from ..evaluators.tot_value import ToTValueEvaluator
    return ToTValueEvaluator()
