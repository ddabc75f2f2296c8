"""Search domains and orders, evaluated over the double's records as PostgreSQL would
under Odoo's ORM: SQL's NULL semantics, LIKE patterns, NULLs last when ascending.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orderamt.testing._faults import python_error

if TYPE_CHECKING:
    from orderamt.testing._orm import Model

Predicate = Callable[[Mapping[str, Any]], bool]

_OPERATORS = frozenset(
    {
        *("=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in"),
        *("like", "ilike", "not like", "not ilike", "=like", "=ilike"),
    }
)
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ORDER_TERM = re.compile(r"^\s*(\w+)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


def _is_null(value: Any) -> bool:
    return value is None or value is False


STAMPS = frozenset({"write_date", "create_date"})
"""Datetimes Odoo stores with microseconds and sends cut to whole seconds."""


def record_value(model: Model, row: Mapping[str, Any], name: str) -> Any:
    """A record's value as Odoo sends it: derived or empty when unset, never None; a stamp
    cut to whole seconds."""
    if name in row:
        value = row[name]
        if name in STAMPS and isinstance(value, str):
            value = value[:19]
    elif name in model.derived:
        value = model.derived[name](row)
    else:
        fld = model.fields.get(name)
        value = fld.empty if fld is not None else False
    return False if value is None else value


def _stamp_end(version: int) -> int | None:
    """How much of a stamp held as text a domain compares (`held[:end]`): on 17.0 and 18.0
    all of it, with the microseconds the API never shows: there ('write_date', '=', T)
    matches none of the orders written in second T and '>' all of them again; 19.0 compares
    whole seconds (odoo-facts.md, measured on 18.0 and 19.0)."""
    return None if version < 19 else 19


def _comparable(model: Model, row: Mapping[str, Any], path: str, version: int) -> Any:
    """The value a domain leaf compares: a many2one compares by id, `x.name` by name, a
    stamp held as text as `_stamp_end` says."""
    name, _, sub = path.partition(".")
    held = row.get(name)
    if name in STAMPS and isinstance(held, str):
        return held[: _stamp_end(version)]
    value = record_value(model, row, name)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value[1] if sub in ("name", "display_name") else value[0]
    return value


def _like(pattern: Any, op: str) -> Callable[[Any], bool]:
    """SQL LIKE: `like` looks for the value anywhere, `=like` takes it as the pattern."""
    text = str(pattern)
    if not op.startswith("="):
        text = f"%{text}%"
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in text
    )
    flags = re.IGNORECASE | re.DOTALL if "ilike" in op else re.DOTALL
    compiled = re.compile(regex, flags)
    return lambda value: not _is_null(value) and compiled.fullmatch(str(value)) is not None


def _compare(op: str, value: Any, boolean: bool) -> Callable[[Any], bool]:
    """The test one leaf applies to a value, with SQL's NULL semantics as Odoo has them."""
    if op in ("=", "!=", "<>"):
        if boolean:
            equal: Callable[[Any], bool] = lambda v: bool(v) == bool(value)  # noqa: E731
        elif _is_null(value):
            equal = _is_null
        else:
            equal = lambda v: not _is_null(v) and v == value  # noqa: E731
        return equal if op == "=" else lambda v: not equal(v)
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        wanted = [v for v in values if not _is_null(v)]
        try:
            lookup: Any = frozenset(wanted)
        except TypeError:
            lookup = wanted
        nulls = len(wanted) != len(values)

        def member(v: Any) -> bool:
            return (nulls and _is_null(v)) or (not _is_null(v) and v in lookup)

        return member if op == "in" else lambda v: not member(v)
    if "like" in op:
        matches = _like(value, op.removeprefix("not "))
        return matches if not op.startswith("not ") else lambda v: not matches(v)
    compare = _ORDERING[op]

    def ordered(v: Any) -> bool:
        if _is_null(v) or _is_null(value):
            return False
        try:
            return compare(v, value)
        except TypeError:
            return False

    return ordered


class Domain:
    """A search domain, checked against the model and compiled into a predicate."""

    def __init__(self, model: Model, domain: Any, version: int) -> None:
        self.model = model
        self.version = version
        if not isinstance(domain, (list, tuple)):
            raise python_error("ValueError", f"Invalid domain: {domain!r}")
        self.items = list(domain)
        self.predicate = self._compile()

    def _compile(self) -> Predicate:
        # Polish notation read from the right: a leaf pushes its test, an operator pops its
        # operands; whatever is left is ANDed (Odoo's implicit '&'). No recursion, so a long
        # chain of '|' cannot hit Python's recursion limit.
        stack: list[Predicate] = []
        for item in reversed(self.items):
            if item == "!":
                stack.append(self._negate(self._pop(stack)))
            elif item in ("&", "|"):
                first, second = self._pop(stack), self._pop(stack)
                stack.append(self._combine(item, first, second))
            else:
                stack.append(self._leaf(item))
        if len(stack) == 1:
            return stack[0]
        tests = list(reversed(stack))
        return lambda row: all(test(row) for test in tests)

    def _pop(self, stack: list[Predicate]) -> Predicate:
        if not stack:
            raise python_error("ValueError", f"Domain {self.items!r} is syntactically not correct.")
        return stack.pop()

    @staticmethod
    def _negate(test: Predicate) -> Predicate:
        return lambda row: not test(row)

    @staticmethod
    def _combine(op: str, first: Predicate, second: Predicate) -> Predicate:
        if op == "&":
            return lambda row: first(row) and second(row)
        return lambda row: first(row) or second(row)

    def _leaf(self, item: Any) -> Predicate:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise python_error("ValueError", f"Invalid leaf {item!r}")
        path, op, value = item
        leaf = tuple(item)
        if isinstance(path, int) and not isinstance(path, bool):  # (1, '=', 1) and (0, '=', 1)
            truth = bool(path) == bool(value)
            return lambda row: truth
        if not isinstance(path, str) or path.partition(".")[0] not in self.model.fields:
            where = "condition" if self.version >= 19 else "leaf"
            name = path.partition(".")[0] if isinstance(path, str) else path
            message = f"Invalid field {self.model.name}.{name} in {where} {leaf!r}"
            raise python_error("ValueError", message)
        op = op.lower() if isinstance(op, str) else op
        if op not in _OPERATORS:
            raise python_error("ValueError", f"Invalid leaf {leaf!r}")
        boolean = self.model.fields[path.partition(".")[0]].type == "boolean"
        test = _compare(op, value, boolean and "." not in path)
        model, version = self.model, self.version

        def general(row: Mapping[str, Any]) -> bool:
            return test(_comparable(model, row, path, version))

        if path in STAMPS and op in _ORDERING and isinstance(value, str):
            # The catch-up poll's search, `write_date >= T`, over every record: the same
            # test as `general` gives a stamp held as text, without its calls (the bench's
            # 100,000 orders took the double 60 ms a poll, where Odoo's latency is 20).
            compare, end = _ORDERING[op], _stamp_end(version)

            def stamp(row: Mapping[str, Any]) -> bool:
                held = row.get(path)
                if isinstance(held, str):
                    return compare(held[:end], value)
                return general(row)

            return stamp
        return general

    def candidate_ids(self) -> list[int] | None:
        """The ids an ANDed `('id', 'in', ids)` or `('id', '=', id)` leaf allows, in order.

        Lets a search by ids look up those ids instead of scanning every record.
        """
        if any(item in ("|", "!") for item in self.items):
            return None
        for item in self.items:
            if isinstance(item, (list, tuple)) and len(item) == 3 and item[0] == "id":
                if item[1] == "in" and isinstance(item[2], (list, tuple)):
                    return list(dict.fromkeys(v for v in item[2] if isinstance(v, int)))
                if item[1] == "=" and isinstance(item[2], int):
                    return [item[2]]
        return None


def sort_rows(model: Model, rows: list[Mapping[str, Any]], order: str) -> None:
    """Sort as PostgreSQL would for `order`: NULLs last ascending, first descending."""
    terms = []
    for term in order.split(","):
        match = _ORDER_TERM.match(term)
        if match is None or match.group(1) not in model.fields:
            raise python_error(
                "ValueError",
                f'Invalid "order" specified ({order}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)",
            )
        terms.append((match.group(1), (match.group(2) or "asc").lower() == "desc"))
    for name, descending in reversed(terms):  # stable sorts, least significant key first
        by_name = model.fields[name].type == "many2one"

        def key(row: Mapping[str, Any], name: str = name, by_name: bool = by_name) -> Any:
            # A stamp sorts by what the database holds, microseconds included.
            value = row[name] if name in STAMPS and name in row else record_value(model, row, name)
            if _is_null(value):
                return (1,)
            if by_name and isinstance(value, (list, tuple)) and len(value) == 2:
                value = value[1]
            return (0, value)

        try:
            rows.sort(key=key, reverse=descending)
        except TypeError:  # a test put values of mixed types in one field
            rows.sort(key=lambda row: repr(key(row)), reverse=descending)
