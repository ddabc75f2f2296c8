"""`orderamt check`: what it is about to try, then one line per part and a verdict."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from orderamt.models import CheckResult
from orderamt.report.jsondoc import print_json
from orderamt.report.terminal import make_console, plural, printable


def print_check_header(lines: Sequence[str]) -> None:
    """What `check` is about to try, printed before it tries."""
    console, _ = make_console()
    for line in lines:
        console.print(printable(line), soft_wrap=True)


def print_checks(results: Sequence[CheckResult], *, as_json: bool, exit_code: int) -> None:
    """`orderamt check`: one line per part and a verdict (or one JSON document)."""
    if as_json:
        print_json(
            {
                "exit_code": exit_code,
                "checks": [
                    {"label": r.label, "passed": r.passed, "warning": r.warning,
                     "detail": r.detail, "exit_code": r.exit_code}
                    for r in results
                ],
            }
        )  # fmt: skip
        return
    console, emoji = make_console()
    console.print("")
    marks = {True: ("✅ ", "[ok]   "), False: ("❌ ", "[FAIL] "), None: ("⏭️  ", "[--]   ")}
    for result in results:
        mark = marks[result.passed][0 if emoji else 1]
        style = {True: "green", False: "red", None: "dim"}[result.passed]
        if result.warning:
            mark, style = ("⚠️  " if emoji else "[warn] "), "yellow"
        line = printable(f"{mark}{result.label}: {result.detail}")
        console.print(Text(line, style=style), soft_wrap=True)
    failures = [r for r in results if r.passed is False]
    warnings = [r for r in results if r.warning]
    console.print("")
    if not failures and warnings:
        console.print(
            Text(f"All checks passed; {plural(len(warnings), 'warning')}.", style="bold yellow")
        )
    elif not failures:
        console.print(Text("All checks passed.", style="bold green"))
    else:
        console.print(Text(f"{plural(len(failures), 'check')} failed.", style="bold red"))
