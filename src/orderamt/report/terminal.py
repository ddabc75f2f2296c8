"""What the terminal, the pipe or the cron mail can show: glyphs, emoji or not, the console."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # loaded by make_console, when something is to be printed
    from rich.console import Console


@dataclass(frozen=True)
class Glyphs:
    """The decorations of the report; plain ASCII for terminals that cannot show emoji."""

    start: str
    updated: str
    pushed: str
    skipped: str
    warning: str
    arrow: str
    done: str
    attention: str


EMOJI = Glyphs("🔄 ", "✅ ", "✅ ", "⏭️  ", "⚠️  ", "→", "✅ ", "⚠️  ")
PLAIN = Glyphs("", "[updated] ", "[pushed] ", "[unchanged] ", "[warning] ", "->", "", "[warning] ")


COERCED_LOCALES = ("C.UTF-8", "C.utf8", "UTF-8")
"""What Python writes into LC_CTYPE when it coerces a C locale at start-up (PEP 538)."""


def can_show_emoji(
    stream: TextIO, environ: Mapping[str, str], *, locale_coerced: bool = False
) -> bool:
    """Whether the output can carry emoji: its encoding takes them and the locale is UTF-8.

    Under a C locale Python switches to UTF-8 (and sets LC_CTYPE itself, which
    `locale_coerced` says to see through), so the stream encodes emoji fine, but the
    terminal or the mail reader behind it still shows garbage: the user's locale decides.
    """
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        (EMOJI.start + EMOJI.skipped + EMOJI.warning + EMOJI.arrow).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    settings = {name: environ.get(name, "") for name in ("LC_ALL", "LC_CTYPE", "LANG")}
    if locale_coerced and not settings["LC_ALL"] and settings["LC_CTYPE"] in COERCED_LOCALES:
        settings["LC_CTYPE"] = ""
    locale = next((value for value in settings.values() if value), "")
    if not locale:
        # Windows has no LANG; its console encoding, checked above, is what counts there.
        return "WINDIR" in environ or "windir" in environ
    return "UTF8" in locale.upper().replace("-", "")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 controls but tab and newline, DEL and C1: what would move the cursor, clear the
screen, retitle the window or ring the bell instead of being read; and the invisible
direction and width marks (U+200B-200F, U+202A-202E, U+2066-2069), which would show a
value reversed or two values as one."""


def printable(line: str) -> str:
    """One line as it may be shown: its control characters dropped, a newline made a space.
    An order number, a mapped value or an Odoo fault message holding ESC [2J or a CR must
    not clear an operator's screen or hide a line in cron mail (rich drops only BEL, BS, VT,
    FF and CR and passes ESC on), nor a newline add a line of its own to what is read."""
    return _CONTROL.sub("", line.replace("\n", " "))


def print_lines(lines: Iterable[str], stream: TextIO | None = None) -> None:
    """Lines without style, as they are (no wrapping), and without loading rich: what the
    console printed for them, with markup, highlighting and emoji codes off."""
    stream = stream if stream is not None else sys.stdout
    if stream is None:  # started with standard output closed (`>&-`): nowhere to say it
        return
    prepare_output(stream)
    stream.write("".join(f"{printable(line)}\n" for line in lines))
    stream.flush()


def make_console(stream: TextIO | None = None) -> tuple[Console, bool]:
    """A console for the report: colour only on a terminal, emoji only where they show."""
    stream = stream if stream is not None else sys.stdout
    return new_console(stream), prepare_output(stream)


def prepare_output(stream: TextIO) -> bool:
    """Whether `stream` shows emoji; one that cannot encode them replaces what it cannot
    encode, so an order number the code page lacks does not crash the report."""
    emoji = can_show_emoji(stream, os.environ, locale_coerced=bool(sys.flags.utf8_mode))
    if not emoji and isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="replace")
    return emoji


def new_console(stream: TextIO) -> Console:
    """The rich console the reports print on: colour only on a terminal."""
    from rich.console import Console

    return Console(file=stream, highlight=False, markup=False, emoji=False, soft_wrap=True)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
