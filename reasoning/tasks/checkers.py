"""Answer extraction and answer checkers, shared by the built-in tasks and task files.

Pure functions, each small enough to test on tricky cases:

* extraction — :func:`final_answer` finds a final-answer line (``#### N``, "The answer is N",
  "Answer: …", ``\\boxed{…}``); :func:`last_boxed` takes the content of the last ``\\boxed{…}``
  (nested braces allowed); :func:`extract_number_answer` applies the GSM8K rule (``#### N``,
  then "The answer is N", then the last number);
* comparison — :func:`to_number` reads ``$1,234.50``, ``-3``, ``1/2``, ``12 apples``, ``50%``
  as an exact :class:`~fractions.Fraction`; :func:`math_equal` compares with ``math-verify``
  (symbolic equivalence: ``\\frac{1}{2}`` equals ``0.5``).

``CHECKERS`` maps the checker names a task file may use (exact, numeric, math, regex, choice) to
``check(predicted, gold) -> bool``; ``validate_gold`` says why a gold answer cannot work with a
checker (used when a task file is loaded, so a bad line is named before any run).
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from fractions import Fraction

# -- extraction ----------------------------------------------------------------------------------
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+(?:\.\d+)?)?|-?\.\d+")
_HASHES = re.compile(r"####\s*(.+?)\s*$")
_THE_ANSWER = re.compile(r"\b(?:the\s+)?(?:final\s+)?answer\s+is\s*:?\s*(.+?)\s*$", re.I)
_ANSWER_COLON = re.compile(r"^\s*(?:\*\*)?(?:final\s+)?answer(?:\*\*)?\s*:(?:\*\*)?\s*(.+?)\s*$", re.I)


def last_boxed(text: str) -> str | None:
    """The content of the last *complete* ``\\boxed{…}`` (or ``\\fbox{…}``) in ``text``."""
    found = None
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text or ""):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found = text[m.end():i - 1].strip()
    return found


def final_answer(line: str) -> str | None:
    """The answer a line states as final, or None: ``\\boxed{…}``, ``#### N``, "The answer is N",
    "Answer: …" (checked in that order; a trailing full stop is dropped)."""
    boxed = last_boxed(line)
    if boxed is not None:
        return boxed
    for pattern in (_HASHES, _THE_ANSWER, _ANSWER_COLON):
        m = pattern.search(line or "")
        if m and m.group(1).strip(" .*"):
            return m.group(1).strip().rstrip(".").strip("* ").strip()
    return None


def _plain(s: str) -> str:
    r"""Numbers out of light LaTeX/currency: ``\frac{1}{2}`` → ``1/2``, ``\$5`` → ``5``."""
    s = s.replace("\u2212", "-").replace("\\$", "").replace("$", "")
    s = re.sub(r"\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(\d+)\s*\}", r"\1/\2", s)
    s = re.sub(r"\\(?:text|mathrm)\{[^}]*\}", " ", s).replace("\\!", "").replace("{,}", ",")
    return s


def extract_number_answer(text: str) -> str | None:
    """GSM8K rule on a solution's text: ``#### N``, else "The answer is N", else the last number."""
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        ans = final_answer(line)
        if ans is not None and _NUMBER.search(_plain(ans)):
            return _NUMBER.search(_plain(ans)).group(0)
    numbers = _NUMBER.findall(_plain(text or ""))
    return numbers[-1] if numbers else None


def to_number(text: str | int | float | None) -> Fraction | None:
    """The first number in ``text`` as an exact Fraction, ignoring ``$``, commas, units, ``%``,
    and a trailing ``.0``; None when there is no number. ``"1/2"`` is one half."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Fraction(str(text))
    m = _NUMBER.search(_plain(str(text)))
    if not m:
        return None
    token = m.group(0)
    # "1,234" is a thousands separator; "3,4" (a list) is not read as 34
    if "," in token and not re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:/\d+)?", token):
        token = token.split(",")[0]
    token = token.replace(",", "")
    try:
        if "/" in token:
            num, den = token.split("/")
            return Fraction(num) / Fraction(den) if Fraction(den) != 0 else None
        return Fraction(token)
    except (ValueError, ZeroDivisionError):
        return None


def numbers_equal(predicted: str | None, gold: str | int | float | None) -> bool:
    a, b = to_number(predicted), to_number(gold)
    return a is not None and b is not None and a == b


# -- math-verify ---------------------------------------------------------------------------------
logging.getLogger("math_verify").setLevel(logging.ERROR)  # it warns on every timeout-less call
_MAX_MATH_CHARS = 300  # math-verify has no timeout off the main thread; keep inputs small


def _as_latex(s: str) -> str:
    s = s.strip()
    if s.startswith("$") or "\\boxed" in s or "\\(" in s or "\\[" in s:
        return s
    return f"${s}$"


def math_parse(s: str):
    """math-verify's parse, usable from worker threads (its signal timeout only works in main)."""
    from math_verify import parse
    on_main = threading.current_thread() is threading.main_thread()
    return parse(_as_latex(s[:_MAX_MATH_CHARS]), parsing_timeout=5 if on_main else None)


def math_equal(predicted: str | None, gold: str | None) -> bool:
    """Symbolic equivalence of two final answers (``\\frac{1}{2}`` == ``0.5``, ``x=4`` == ``4``)."""
    if predicted is None or gold is None or not str(predicted).strip():
        return False
    from math_verify import verify
    on_main = threading.current_thread() is threading.main_thread()
    try:
        g, p = math_parse(str(gold)), math_parse(str(predicted))
        if not g or not p:
            return str(predicted).strip() == str(gold).strip()
        return bool(verify(g, p, timeout_seconds=5 if on_main else None))
    except Exception:  # math-verify raises on exotic input; a non-answer is simply not equal
        return False


# -- checkers for task files -------------------------------------------------------------------
def _norm(s: str) -> str:
    return " ".join(str(s).split()).rstrip(".").strip()


def check_exact(predicted: str | None, gold: str) -> bool:
    """Equal after trimming spaces and a final full stop (case matters)."""
    return predicted is not None and _norm(predicted) == _norm(gold)


def check_regex(predicted: str | None, gold: str) -> bool:
    """``gold`` is a regular expression that must match the whole answer (case-insensitive)."""
    return predicted is not None and re.fullmatch(gold, predicted.strip(), re.I | re.S) is not None


_CHOICE = re.compile(r"^\(?([A-Za-z])(?:[).:\]]|\s|$)")


def extract_choice(text: str | None) -> str | None:
    """A multiple-choice letter from ``B``, ``(B)``, ``B) 42``, ``b.``, ``option C``."""
    s = (text or "").strip()
    s = re.sub(r"^(?:option|choice)\s+", "", s, flags=re.I)
    m = _CHOICE.match(s)
    return m.group(1).upper() if m else None


def check_choice(predicted: str | None, gold: str) -> bool:
    got = extract_choice(predicted)
    return got is not None and got == str(gold).strip().strip("()").upper()


def check_math(predicted: str | None, gold: str) -> bool:
    return math_equal(predicted, gold)


CHECKERS: dict[str, Callable[[str | None, str], bool]] = {
    "exact": check_exact, "numeric": numbers_equal, "math": check_math,
    "regex": check_regex, "choice": check_choice,
}


def validate_gold(checker: str, gold: str) -> str | None:
    """Why ``gold`` cannot be used with ``checker`` (None when it can)."""
    if checker not in CHECKERS:
        return f"unknown checker {checker!r} (use one of {', '.join(CHECKERS)})"
    if not str(gold).strip():
        return "empty answer"
    if checker == "numeric" and to_number(gold) is None:
        return f"answer {gold!r} is not a number"
    if checker == "regex":
        try:
            re.compile(gold)
        except re.error as e:
            return f"answer is not a valid regular expression: {e}"
    if checker == "choice" and not re.fullmatch(r"\(?[A-Za-z]\)?", str(gold).strip()):
        return f"choice answer must be one letter, got {gold!r}"
    if checker == "math" and not math_parse(str(gold)):
        return f"math-verify cannot read the answer {gold!r}"
    return None
