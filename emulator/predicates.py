"""Query predicates (``where=``) and paged query results, a subset of the commercetools syntax.

Supported::

    field = "x"   field != "x"   field <> 1   field < 1 (also <=, >, >=)
    field in ("a", "b")   field not in (...)   field is defined   field is not defined
    field(inner predicate)          nested object, or "any element" of an array of objects
    a and b   a or b   not(a)   (a)

Values are JSON-like: ``"strings"`` (with ``\\"`` escapes), numbers, ``true``/``false``. A
predicate that does not parse is a 400 ``InvalidInput`` naming the parameter, as commercetools
answers; several ``where`` parameters are combined with ``and``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import invalid_input

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|<=|>=|=|<|>)
      | (?P<punct>[(),])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_MISSING = object()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            match = _TOKEN_RE.match(text, pos)
            if match is None or match.lastgroup is None:
                raise ValueError(f"unexpected character at position {pos}")
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            pos = match.end()
        self.pos = 0

    def peek(self, kind: str | None = None, value: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        tok_kind, tok_value = self.tokens[self.pos]
        if kind is not None and tok_kind != kind:
            return False
        return value is None or tok_value.lower() == value

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        if not self.peek(kind, value):
            found = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "end of input"
            raise ValueError(f"expected {value or kind}, found {found!r}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def parse(self) -> Predicate:
        pred = self.parse_or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos][1]!r}")
        return pred

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.peek("ident", "or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else (lambda doc: any(p(doc) for p in parts))

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.peek("ident", "and"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else (lambda doc: all(p(doc) for p in parts))

    def parse_not(self) -> Predicate:
        if self.peek("ident", "not"):
            self.take()
            self.take("punct", "(")
            inner = self.parse_or()
            self.take("punct", ")")
            return lambda doc: not inner(doc)
        return self.parse_atom()

    def parse_atom(self) -> Predicate:
        if self.peek("punct", "("):
            self.take()
            inner = self.parse_or()
            self.take("punct", ")")
            return inner
        field = self.take("ident")
        if self.peek("punct", "("):
            self.take()
            inner = self.parse_or()
            self.take("punct", ")")
            return _nested(field, inner)
        if self.peek("op"):
            op = self.take()
            return _compare(field, op, self.parse_value())
        if self.peek("ident", "is"):
            self.take()
            negate = self.peek("ident", "not")
            if negate:
                self.take()
            self.take("ident", "defined")
            return lambda doc: (_get(doc, field) is _MISSING) == negate
        negate = self.peek("ident", "not")
        if negate:
            self.take()
        self.take("ident", "in")
        values = self.parse_list()
        return lambda doc: _any_value(doc, field, lambda v: v in values) != negate

    def parse_list(self) -> list[Any]:
        self.take("punct", "(")
        values = [self.parse_value()]
        while self.peek("punct", ","):
            self.take()
            values.append(self.parse_value())
        self.take("punct", ")")
        return values

    def parse_value(self) -> Any:
        if self.peek("string") or self.peek("number"):
            return json.loads(self.take())
        word = self.take("ident").lower()
        if word in ("true", "false"):
            return word == "true"
        raise ValueError(f"expected a value, found {word!r}")


def _get(doc: Mapping[str, Any], field: str) -> Any:
    value = doc.get(field, _MISSING)
    return _MISSING if value is None else value


def _any_value(doc: Mapping[str, Any], field: str, test: Callable[[Any], bool]) -> bool:
    value = _get(doc, field)
    if value is _MISSING:
        return False
    if isinstance(value, list):
        return any(test(v) for v in value)
    return test(value)


def _nested(field: str, inner: Predicate) -> Predicate:
    def check(doc: Mapping[str, Any]) -> bool:
        return _any_value(doc, field, lambda v: isinstance(v, Mapping) and inner(v))

    return check


def _compare(field: str, op: str, expected: Any) -> Predicate:
    def test(value: Any) -> bool:
        if op == "=":
            return bool(value == expected)
        if op in ("!=", "<>"):
            return bool(value != expected)
        comparable = (isinstance(value, int | float) and isinstance(expected, int | float)) or (
            isinstance(value, str) and isinstance(expected, str)
        )
        if not comparable:
            return False
        results: dict[str, bool] = {
            "<": value < expected,
            "<=": value <= expected,
            ">": value > expected,
            ">=": value >= expected,
        }
        return results[op]

    if op in ("!=", "<>"):
        return lambda doc: not _any_value(doc, field, lambda v: not test(v))
    return lambda doc: _any_value(doc, field, test)


def parse_where(text: str) -> Predicate:
    """Compile one ``where`` predicate; 400 ``InvalidInput`` when it does not parse."""
    try:
        return _Parser(text).parse()
    except (ValueError, RecursionError) as exc:
        raise invalid_input(
            f"Malformed parameter: where: Syntax error while parsing 'where'. {exc}"
        ) from None


_SORT_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*\Z")


def _path(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _sort_key(field: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda doc: str(_path(doc, field) or "")


def _int_param(query: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= maximum:
        raise invalid_input(f"Malformed parameter: {name}: must be an integer in [0, {maximum}].")
    return value


def paged_query(
    docs: Sequence[Mapping[str, Any]], wheres: Sequence[str], query: Mapping[str, str]
) -> dict[str, Any]:
    """A commercetools ``PagedQueryResponse`` over ``docs`` for ``where``, ``sort``, ``limit``, ``offset``."""
    limit = _int_param(query, "limit", 20, 500)
    offset = _int_param(query, "offset", 0, 10000)
    predicates = [parse_where(w) for w in wheres]
    matching = [d for d in docs if all(p(d) for p in predicates)]
    sorts = query.getall("sort", []) if hasattr(query, "getall") else [query["sort"]] if "sort" in query else []
    for spec in reversed(sorts):   # the first sort is the primary one: apply it last (sorts are stable)
        field, _, direction = str(spec).strip().partition(" ")
        if not _SORT_FIELD.match(field) or direction.lower() not in ("", "asc", "desc"):
            raise invalid_input(f"Malformed parameter: sort: '{spec}'.")
        matching.sort(key=_sort_key(field), reverse=direction.lower() == "desc")
    page = matching[offset : offset + limit]
    result: dict[str, Any] = {"limit": limit, "offset": offset, "count": len(page)}
    if query.get("withTotal", "true").lower() != "false":
        result["total"] = len(matching)
    result["results"] = list(page)
    return result


__all__ = ["Predicate", "paged_query", "parse_where"]
