"""The models the double serves and their ORM methods, callable over either protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from orderamt.testing._domain import Domain, record_value, sort_rows
from orderamt.testing._faults import python_error
from orderamt.testing._schema import Field

if TYPE_CHECKING:
    from orderamt.testing._odoo import Database


@dataclass
class Model:
    """A model's fields and where its records live."""

    name: str
    fields: dict[str, Field]
    rows: Callable[[], Mapping[int, Mapping[str, Any]]]
    order: str = "id"
    derived: Mapping[str, Callable[[Mapping[str, Any]], Any]] = field(default_factory=dict)
    methods: type[BaseModel] = field(default_factory=lambda: BaseModel)
    admin_only: bool = False
    """ir.model and the automation models: base.group_system only (an ordinary user's
    access rights on them are 0,0,0,0)."""


class BaseModel:
    """The ORM methods the double serves, with the signatures Odoo 17-19 give them.

    Every public method here can be called remotely; helpers start with an underscore, as
    in Odoo. Binding a remote call against these signatures gives Odoo's argument errors.
    """

    API_MODEL = frozenset({"search_read", "search", "search_count", "fields_get", "context_get"})
    """Methods decorated `@api.model`: they take no record ids."""

    def __init__(
        self,
        odoo: Database,
        model: Model,
        ids: Sequence[int],
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self._odoo = odoo
        self._model = model
        self._ids = ids
        self._context: Mapping[str, Any] = context or {}

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
        **read_kwargs: Any,
    ) -> list[dict[str, Any]]:
        if self._model.admin_only:
            self._odoo.check_admin(self._model.name, "access")
        names = self._field_names(fields)
        rows = self._search(domain or [], offset, limit, order)
        load = self._read_format_kwargs(read_kwargs)
        return [self._format(row, names, load) for row in rows]

    def search(
        self, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        return [row["id"] for row in self._search(domain, offset, limit, order)]

    def search_count(self, domain: Any, limit: Any = None) -> int:
        count = len(self._search(domain, 0, None, "id"))
        return min(count, limit) if limit else count

    def read(self, fields: Any = None, load: Any = "_classic_read") -> list[dict[str, Any]]:
        names = self._field_names(fields)
        rows = self._model.rows()
        return [self._format(rows[i], names, load) for i in self._ids if i in rows]

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
        answer = {}
        for name, fld in self._model.fields.items():
            if allfields and name not in allfields:
                continue
            description = fld.description(name)
            if attributes:
                description = {k: v for k, v in description.items() if k in attributes}
            answer[name] = description
        return answer

    def _field_names(self, fields: Any) -> list[str]:
        """The fields to read: all of them when none are asked for; unknown ones fail."""
        if not fields:
            return [name for name in self._model.fields if name != "id"]
        names = list(fields)
        for name in names:
            if name not in self._model.fields:
                on = "" if self._odoo.version >= 19 else "model "
                raise python_error(
                    "ValueError", f"Invalid field {name!r} on {on}{self._model.name!r}"
                )
        return names

    def _search(self, domain: Any, offset: Any, limit: Any, order: Any) -> list[Mapping[str, Any]]:
        compiled = Domain(self._model, domain, self._odoo.version)
        rows = self._model.rows()
        ids = compiled.candidate_ids()
        candidates = list(rows.values()) if ids is None else [rows[i] for i in ids if i in rows]
        found = [row for row in candidates if compiled.predicate(row)]
        sort_rows(self._model, found, order or self._model.order)
        start = int(offset or 0)
        return found[start : start + int(limit)] if limit else found[start:]

    @staticmethod
    def _read_format_kwargs(read_kwargs: Mapping[str, Any]) -> Any:
        """search_read hands its extra keywords to _read_format(fnames, load=...)."""
        for key in read_kwargs:
            if key != "load":
                raise python_error(
                    "TypeError",
                    f"BaseModel._read_format() got an unexpected keyword argument '{key}'",
                )
        return read_kwargs.get("load", "_classic_read")

    def _format(self, row: Mapping[str, Any], names: Iterable[str], load: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"id": row.get("id", False)}
        for name in names:
            value = record_value(self._model, row, name)
            if isinstance(value, tuple):
                value = list(value)
            if self._model.fields[name].type == "many2one" and isinstance(value, list):
                value = value if load == "_classic_read" else value[0]
            record[name] = value
        return record


class ResUsers(BaseModel):
    """res.users: the one user, and the context a key or password opens."""

    def context_get(self) -> dict[str, Any]:
        return {"lang": "en_US", "tz": False, "uid": self._odoo.uid}


def public_names(methods: type[BaseModel]) -> set[str]:
    """The methods a model class defines for remote calls (not `mro` and the like)."""
    return {
        name
        for cls in methods.__mro__
        if cls is not object
        for name, value in vars(cls).items()
        if not name.startswith("_") and callable(value)
    }
