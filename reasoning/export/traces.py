"""Solved traces for supervised fine-tuning: the clean chain, or the whole exploration in words."""
from __future__ import annotations

from ..tree import BACKTRACKED, FAILED, PRUNED, SOLVED, Node, Tree
from .common import NO_SOLVED_PATH, Filters, solved_ends, step_text, steps_on_path
from .pairs import _speaks
from .prompts import Prompter, _as_reply, _run_meta


def traces_from_tree(tree: Tree, filters: Filters | None = None) -> tuple[list[dict], str | None]:
    """One SFT example per solved end: prompt → steps → answer (or the whole exploration)."""
    f = filters or Filters()
    ends = solved_ends(tree)
    if not ends:
        return [], NO_SOLVED_PATH
    prompter = Prompter(tree, f.prompt_format)
    prompt, used = prompter([])
    meta = _run_meta(tree)
    rows = []
    for end in ends:
        steps = steps_on_path(tree, end)
        answer = tree.nodes[end].answer or tree.answer or ""
        body = whole_exploration(tree, end) if f.whole else "\n".join(steps)
        said = bool(steps) and answer in steps[-1]  # line tasks end on "Answer: …" already
        completion = body + (f"\nAnswer: {answer}" if answer and not said else "")
        rows.append({"prompt": prompt, "completion": _as_reply(completion, used), **meta,
                     "steps": steps, "answer": answer, "depth": len(steps), "solved_node": end,
                     "whole": f.whole, "nodes_explored": len(tree.nodes),
                     "prompt_format": used})
    return rows, None


def whole_exploration(tree: Tree, end: int) -> str:
    """The exploration as one chain of thought, depth first, ending on the solved path.

    Siblings are visited in the order the search made them, except that the child leading to
    ``end`` is visited last; every dead end is said in words and followed by going back.
    """
    on_path = set(tree.path_to(end))
    lines: list[str] = []

    def visit(nid: int) -> None:
        node = tree.nodes[nid]
        kids = [c for c in node.children if c not in on_path] + \
            [c for c in node.children if c in on_path]
        for c in kids:
            child = tree.nodes[c]
            if c not in on_path and not _speaks(child):
                continue
            lines.extend(_say(child, c in on_path))
            if c in on_path:
                if c != end:
                    visit(c)
                return
            if child.role == "rollout":
                continue  # a look-ahead from this node: we are still here
            visit(c)
            lines.append(f"Let me go back ({node.label})." if node.label else "Let me go back.")

    visit(tree.root_id)
    return "\n".join(lines)


def _say(node: Node, on_path: bool) -> list[str]:
    if node.role == "rollout":
        steps = [s.strip() for s in node.text.splitlines() if s.strip()]
        if on_path:
            return steps
        verdict = "It works." if node.state == SOLVED else f"It does not work: {node.reason}."
        return [f"Looking ahead: {'; '.join(steps) or '(no step)'}. {verdict}"]
    text = step_text(node)
    if on_path:
        return [text]
    if node.state in (PRUNED, FAILED):
        return [text, f"This does not work: {node.reason}."]
    if node.state == BACKTRACKED:
        return [text, f"This leads nowhere: {node.reason}."]
    if not node.children:
        return [text, "I will not follow this one further."]
    return [text]


