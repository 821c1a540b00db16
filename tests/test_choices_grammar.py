"""The grammar that limits a constrained step to the legal choices: exactly those strings.

The grammar is checked two ways: llama.cpp parses it (valid GBNF), and the same text read as a
regular expression (its literals, groups, ``|`` and ``?``) matches every choice and nothing else
among near misses: prefixes, extensions, and halves of two choices joined."""
from __future__ import annotations

import json
import re

import pytest

from reasoning.models.openai_client import choices_grammar
from reasoning.tasks import get_task

LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def as_regex(grammar: str) -> re.Pattern:
    body = grammar.removeprefix("root ::= ").strip()
    out, i = [], 0
    while i < len(body):
        m = LITERAL.match(body, i)
        if m:
            out.append(re.escape(json.loads(m.group())))
            i = m.end()
        elif body[i] in "()|?":
            out.append(body[i])
            i += 1
        else:
            assert body[i] == " ", f"unexpected {body[i]!r} in {body!r}"
            i += 1
    return re.compile("".join(out))


CASES = [
    get_task("game24").legal_steps(get_task("game24").initial_state(
        get_task("game24").problem_by_id("901"))),
    ["1", "12", "123", "2"],                        # a choice that is a prefix of others
    ['say "hi"', "back\\slash", "naïve ✓", "new\nline"],
    ["same", "same", "other"],
    ["only"],
]


@pytest.mark.parametrize("choices", CASES)
def test_grammar_accepts_exactly_the_choices(choices):
    grammar = choices_grammar(choices)
    rx = as_regex(grammar)
    for c in choices:
        assert rx.fullmatch(c), (c, grammar)
    near = {c[:-1] for c in choices} | {c + "x" for c in choices} | \
        {a[: len(a) // 2] + b[len(b) // 2:] for a in choices for b in choices}
    for miss in near - set(choices):
        assert not rx.fullmatch(miss), (miss, grammar)


def test_grammar_factors_common_prefixes_and_llama_cpp_parses_it():
    steps = CASES[0]                                   # rank 901: 4 5 6 10, 36 legal first steps
    grammar = choices_grammar(steps)
    assert len(steps) == 36 and grammar.startswith('root ::= ("10 " ("* " ("4 = 40 (left: 5 6 40)"')
    import llama_cpp

    from reasoning.models.gemma_tokens import _load
    vocab = _load()
    assert not llama_cpp.llama_sampler_init_grammar(vocab, b'root ::= ("a" | ', b"root")  # NULL
    for choices in CASES:                              # llama.cpp's own parser accepts each one
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, choices_grammar(choices).encode(),
                                                       b"root")
        assert sampler, choices
        llama_cpp.llama_sampler_free(sampler)
