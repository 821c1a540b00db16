"""Typed, validated settings: one place where every user-supplied number is checked.

Each strategy declares a dataclass of its parameters; ``from_dict`` coerces strings (from forms and
the CLI) and rejects unknown fields; ``__post_init__`` raises ``ValueError`` naming the field.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

T = TypeVar("T")

MAX_NODES_LIMIT = 1_000_000
MAX_TOKENS_LIMIT = 100_000_000
MAX_SECONDS_LIMIT = 7 * 24 * 3600


def check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not (lo <= value <= hi):
        raise ValueError(f"{name}: must be between {lo:g} and {hi:g}, got {value!r}")


def from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
    """Build settings ``cls`` from a dict of possibly-string values; errors name the field."""
    data = {k: v for k, v in (data or {}).items() if v is not None}
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown setting; known: {', '.join(sorted(fields))}")
    hints = get_type_hints(cls)
    kwargs = {k: _coerce(k, v, hints[k]) for k, v in data.items()}
    return cls(**kwargs)


def _coerce(name: str, value: Any, hint: Any) -> Any:
    target = hint if isinstance(hint, type) else None
    if target is None:  # Optional[...] / unions: take the first concrete scalar type
        args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
        target = args[0] if args and isinstance(args[0], type) else None
    try:
        if target is bool and isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if target is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, bool):
                raise ValueError
            return int(float(value)) if isinstance(value, str) and "." in value else int(value)
        if target is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if target is str:
            return str(value)
    except (TypeError, ValueError):
        kind = getattr(target, "__name__", "value")
        raise ValueError(f"{name}: expected {'a whole number' if kind == 'int' else kind}, "
                         f"got {value!r}") from None
    return value


@dataclass
class Budget:
    """Whichever limit comes first ends the run with outcome ``budget``.

    ``max_tokens`` counts generated tokens (as it always has); ``max_prompt_tokens`` the tokens
    read, ``max_total_tokens`` both, ``max_calls`` model calls of every purpose. The three newer
    limits are off (None) unless set."""
    max_nodes: int = 200
    max_tokens: int = 20_000
    max_seconds: float = 600.0
    max_prompt_tokens: int | None = None
    max_total_tokens: int | None = None
    max_calls: int | None = None

    def __post_init__(self) -> None:
        check_range("max_nodes", self.max_nodes, 1, MAX_NODES_LIMIT)
        check_range("max_tokens", self.max_tokens, 1, MAX_TOKENS_LIMIT)
        check_range("max_seconds", self.max_seconds, 0.1, MAX_SECONDS_LIMIT)
        for name in ("max_prompt_tokens", "max_total_tokens"):
            value = getattr(self, name)
            if value is not None:
                check_range(name, value, 1, 100 * MAX_TOKENS_LIMIT)
        if self.max_calls is not None:
            check_range("max_calls", self.max_calls, 1, MAX_NODES_LIMIT)
