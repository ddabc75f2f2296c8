"""The failures `OdooDouble.fail` injects: production Odoo's and its proxy's ways to fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orderamt.testing._faults import TRACEBACK_HEAD
from orderamt.testing._http import Call

FailMode = Literal["http", "hang", "reset", "html", "fault", "access"]
FAIL_MODES: tuple[str, ...] = ("http", "hang", "reset", "html", "fault", "access")

DEFAULT_FAULT = (1, f"{TRACEBACK_HEAD}Exception: fault injected by OdooDouble.fail\n")


@dataclass
class Failure:
    """One `fail()` rule and how many requests it has seen and failed."""

    mode: str
    status: int
    fault: tuple[int, str]
    after: int
    times: int | None
    on: str | None
    seen: int = 0
    fired: int = 0

    def matches(self, call: Call) -> bool:
        if self.on is not None and call.method != self.on:
            return False
        if self.mode == "fault":
            return call.rpc  # a plain page has no way to carry a fault
        if self.mode == "access":
            return call.model == "sale.order"
        return True

    def fires(self) -> bool:
        """Count one matching request; True when this one is to fail."""
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True
