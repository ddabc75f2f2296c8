"""Reading the variables one by one, every problem gathered to be reported at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

Choice = TypeVar("Choice", bound=str)


class Collector:
    """Reads variables and gathers every problem, so the user fixes them in one go."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[str] = []

    def required(self, name: str) -> str:
        value = self.values.get(name, "").strip()
        if not value:
            self.problems.append(f"{name} is not set")
        return value

    def identifier(self, name: str, default: str) -> str:
        value = self.values.get(name, default).strip()
        if not value:
            self.problems.append(f"{name} must not be empty")
        return value

    def choice(self, name: str, choices: tuple[Choice, ...]) -> Choice:
        """One of `choices` (any case); unset or empty means the first."""
        value = self.values.get(name, "").strip().lower() or choices[0]
        for choice in choices:
            if value == choice:
                return choice
        self.problems.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return choices[0]

    def number(self, name: str, default: float, low: float, high: float, *, whole: bool) -> float:
        raw = self.values.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if whole else float(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            kind = "a whole number" if whole else "a number of seconds"
            self.problems.append(f"{name} must be {kind} from {low:g} to {high:g}, got {raw!r}")
            return default
        return value
