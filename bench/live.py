"""The live benchmark: the catch-up poll (`sync --changed`) and the listener (`listen`).

    python bench/live.py            # the full run: about 4 minutes
    python bench/live.py --quick    # smaller sizes and a 10-second flood: under a minute
    python bench/live.py --help     # every option

Three measurements, each against orderamt's Odoo test double (Odoo 18 over XML-RPC by default)
made as slow as a real server (`--latency-ms`, 20 by default: what a quiet `search_read` on
`write_date` took on a real Odoo with 10,000 orders), and a SQLite portal already in step with
Odoo:

1. **Quiet poll.** `orderamt sync --changed --quiet` over a portal of `--poll-orders` (100,000)
   orders, its checkpoint set by a first poll and nothing changed in Odoo since: wall time
   from start to exit, interpreter start included, median of `--repeat` runs; Odoo calls, SQL
   statements and peak RSS of one more run through bench/launch.py.
2. **Save to portal.** `orderamt listen` (its default, version-chosen gather) over
   `--live-orders` orders; for each of `--samples` orders, the bench saves it in the double,
   which posts its webhook as the version does (19 after the commit; 17 and 18 before it,
   the commit following `commit_delay` later: `OdooDouble.save`), and polls the portal row
   every `--watch-ms` until it holds the new amount: the time from the save to the committed
   row, median and 95th percentile.
3. **Flood.** `--rate` webhooks a second for `--duration` seconds from `--senders` threads, each
   a save in the double with its webhook; then the bench waits for the listener to
   settle and checks that every changed order holds Odoo's final amount, that no journal entry
   is duplicated, and how the listener's resident memory moved.

With `--odoo-url` the first two parts run against a real Odoo instead (bench/live_changes.py:
part 2 then changes the price of an order's line, as the form's save does, and Odoo's own
automation rule posts the webhook; every price is put back at the end).

It prints the machine, the figures and, for each target, met or MISSED; it exits 1 when a
run did something wrong (a change lost, a duplicate journal entry, an exit code other than 0),
whatever the timings. See bench/README.md, "The live benchmark".

Where things are: the portal in step with Odoo, the listener as a process, the bench's read of
the portal and the journal, the machine's contention (bench/live_support.py); each part's
figures, the targets and the printed report (bench/live_report.py); the orders, the portal
databases, a run's environment and its statement counts are bench/run.py's (data.py,
servers.py, runs.py, launch.py). This file reads the options and runs the three parts.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import itertools
import json
import math
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from data import Dataset, load_portal, make_dataset, read_amounts, to_cents  # noqa: E402
from live_changes import DoubleChanges, OdooChanges  # noqa: E402
from live_report import (  # noqa: E402
    Flood,
    Latency,
    LiveReport,
    QuietPoll,
    evaluate,
    format_report,
    percentile,
)
from live_support import (  # noqa: E402
    Contention,
    JournalEntry,
    Listener,
    RowWatcher,
    checkpoint,
    child_env,
    cpu_seconds,
    journal_entries,
    odoo_time,
    run_modes,
    sqlite_path,
    synced_odoo_rows,
    timed,
    wait_for_quiet,
)
from runs import launch, run_env, warm_up  # noqa: E402
from servers import (  # noqa: E402
    KINDS,
    OdooAt,
    Portal,
    PortalServer,
    load_odoo_orders,
    real_odoo,
    start_odoo,
)

from orderamt.cli import MAX_DAYS  # noqa: E402
from orderamt.errors import OrderamtError, PushRefused  # noqa: E402
from orderamt.testing import OdooDouble  # noqa: E402
from report import machine_info  # noqa: E402

RECENT = 1_000
"""Orders created (and last written in Odoo) in the last 30 days: what the first poll reads."""
MARGIN = timedelta(seconds=300)
"""ORDERAMT_CHANGED_MARGIN's default: how far a poll reads back before its checkpoint."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def src_fingerprint() -> str:
    """A hash of orderamt's source as measured: the working tree may hold uncommitted work."""
    import orderamt

    digest = hashlib.sha256()
    root = Path(orderamt.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


ORDERAMT_PYTHON = [sys.executable]
"""The interpreter orderamt's own processes run in (`--python`; this one by default)."""


def orderamt_command() -> list[str]:
    """The console script of the environment orderamt runs in, as cron would call it."""
    script = Path(ORDERAMT_PYTHON[0]).parent / "orderamt"
    return [str(script)] if script.exists() else [ORDERAMT_PYTHON[0], "-m", "orderamt"]


def bench_env(
    options: argparse.Namespace, odoo: OdooDouble | OdooAt, portal: Portal, workdir: Path
) -> dict[str, str]:
    env = run_env(odoo, portal, workdir, None, options)
    return child_env(env, workdir) if options.bytecode_cache else env


def warm_up_bytecode(workdir: Path) -> None:
    """Compile everything a sync and the listener import into the bench's bytecode cache."""
    env = child_env(dict(os.environ), workdir)
    modules = "orderamt.cli, orderamt.app, orderamt.checks, orderamt.listen, waitress.server"
    for command in (
        [sys.executable, "-c", f"import {modules}, sqlalchemy.dialects.sqlite"],
        [*orderamt_command(), "--version"],
        [sys.executable, str(BENCH_DIR / "launch.py"), "orderamt", "--version"],
    ):
        subprocess.run(command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, check=True)


def synced_portal(portal: Portal, dataset: Dataset) -> None:
    log(f"  loading {dataset.n:,} orders into the portal")
    load_portal(portal.engine, dataset)


def fresh_odoo(options: argparse.Namespace, dataset: Dataset) -> OdooDouble:
    """The double with the dataset's orders, `--latency-ms` on every call and `--login-ms`
    more where a real Odoo checks the password's hash (`OdooDouble.login_latency`)."""
    odoo = start_odoo(options).start()
    odoo.add_orders(synced_odoo_rows(dataset))
    odoo.latency = options.latency_ms / 1000
    odoo.login_latency = options.login_ms / 1000
    return odoo


# -- 1. the quiet catch-up poll ---------------------------------------------------------------


def _double_search_ms(odoo: OdooDouble, since: str) -> float:
    """The double's own time for a quiet write_date search_read (its latency knob excluded)."""
    import xmlrpc.client

    proxy = xmlrpc.client.ServerProxy(odoo.url + "/xmlrpc/2/object")
    saved, odoo.latency = odoo.latency, 0.0
    try:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            proxy.execute_kw(
                "odoo",
                2,
                "admin",
                "sale.order",
                "search_read",
                [[("write_date", ">=", since)]],
                {
                    "fields": ["amount_total", "currency_id", "write_date"],
                    "order": "write_date asc, id asc",
                    "limit": 1000,
                },
            )
            times.append(time.perf_counter() - start)
    finally:
        odoo.latency = saved
    return statistics.median(times) * 1000


def quiet_poll(
    options: argparse.Namespace, server: PortalServer, workdir: Path, now: datetime
) -> QuietPoll:
    n = options.poll_orders
    problems: list[str] = []
    with server.portal() as portal:
        odoo: OdooDouble | None = None
        first_poll = ["sync", "--changed", "--quiet"]
        odoo_server: str | None = None
        if options.odoo_url:
            at, major, amounts, oldest = real_odoo(options.odoo_url, n)
            odoo_server = f"Odoo {major} at {at.url}"
            log(f"1. quiet poll over the first {len(amounts):,} orders of {odoo_server}; "
                "nothing is written to it")  # fmt: skip
            load_odoo_orders(portal.engine, amounts, now)
            env = bench_env(options, at, portal, workdir)
            n = len(amounts)
            # The first poll reads back --days (30 by default) of Odoo's writes: as far as
            # the oldest order loaded, or an Odoo left alone for a month sets no checkpoint.
            first_poll += ["--days", str(min(MAX_DAYS, (now - oldest).days + 2))]
        else:
            log(f"1. quiet poll over {n:,} orders")
            dataset = make_dataset(n, min(RECENT, n), now)
            odoo = fresh_odoo(options, dataset)
            synced_portal(portal, dataset)
            env = bench_env(options, odoo, portal, workdir)
        try:
            before = read_amounts(portal.engine)
            log("  the first poll (sets the checkpoint)")
            first = launch("orderamt", first_poll, env, workdir, odoo)
            if first.exit_code != 0:
                problems.append(f"first poll: exit {first.exit_code}: {first.stderr[-500:]}")
            mark = checkpoint(portal.engine)
            if mark is None:
                problems.append("the first poll set no checkpoint")
            runs_before = sum(run_modes(portal.engine).values())
            command = [*orderamt_command(), "sync", "--changed", "--quiet"]
            interpreter = [timed([sys.executable, "-c", "pass"], env, workdir)[0] for _ in range(3)]
            # The one import every command that reads the portal pays: how fast this machine
            # imports, to compare figures across machines (0.13 s here on 2026-11-30).
            alchemy = [
                timed([ORDERAMT_PYTHON[0], "-c", "import sqlalchemy"], env, workdir)[0]
                for _ in range(3)
            ]
            version = [timed([*orderamt_command(), "--version"], env, workdir)[0] for _ in range(3)]
            walls: list[float] = []
            foreign: list[float] = []
            waited: list[float] = []
            calls: Counter[str] = Counter()
            for attempt in range(options.repeat):
                waited.append(wait_for_quiet(options.quiet_wait))
                if odoo is not None:
                    odoo.reset_calls()
                contention = Contention.start()
                wall, code, out, err = timed(command, env, workdir)
                foreign.append(contention.foreign_cores())
                log(
                    f"  quiet poll {attempt + 1}/{options.repeat}: {wall:.3f} s "
                    f"(other processes: {foreign[-1]:.2f} cores; waited {waited[-1]:.1f} s)"
                )
                walls.append(wall)
                calls = Counter(odoo.calls if odoo is not None else {})
                if code != 0 or out.strip():
                    problems.append(f"quiet poll: exit {code}, printed {out[:200]!r} {err[-300:]}")
            if options.profile is not None:
                options.profile.mkdir(parents=True, exist_ok=True)
                target = options.profile.resolve() / "sync-changed-quiet.prof"
                profiled = [sys.executable, "-m", "cProfile", "-o", str(target), "-m", "orderamt"]
                timed([*profiled, "sync", "--changed", "--quiet"], env, workdir)
                log(f"  cProfile of one quiet poll: {target}")
            counted = launch("orderamt", ["sync", "--changed", "--quiet"], env, workdir, odoo)
            if counted.exit_code != 0:
                problems.append(f"counted poll: exit {counted.exit_code}")
            if checkpoint(portal.engine) != mark:
                problems.append(f"the checkpoint moved: {mark} -> {checkpoint(portal.engine)}")
            if read_amounts(portal.engine) != before:
                problems.append("a quiet poll changed portal amounts")
            runs_added = sum(run_modes(portal.engine).values()) - runs_before
            since = datetime.fromisoformat(mark[0] if mark else "2000-01-01 00:00:00")
            search_ms = None if odoo is None else _double_search_ms(odoo, odoo_time(since - MARGIN))
        finally:
            if odoo is not None:
                odoo.stop()
    return QuietPoll(
        orders=n,
        odoo_server=odoo_server,
        walls=walls,
        odoo_calls=dict(calls),
        statements=counted.statements,
        commits=counted.commits,
        peak_rss_mb=counted.peak_rss_mb,
        launch_wall=counted.wall_s,
        first_poll_wall=first.wall_s,
        interpreter_s=statistics.median(interpreter),
        sqlalchemy_s=statistics.median(alchemy),
        version_s=statistics.median(version),
        double_search_ms=search_ms,
        runs_added=runs_added,
        foreign_cores=foreign,
        waited_s=waited,
        problems=problems,
    )


# -- 2. from a change in Odoo to the portal row ----------------------------------------------


def _listener(
    options: argparse.Namespace,
    odoo: OdooDouble | OdooAt,
    portal: Portal,
    workdir: Path,
    secret: str | None = None,
    listen: str = "127.0.0.1:0",
) -> Listener:
    env = bench_env(options, odoo, portal, workdir)
    listener = Listener(
        env,
        workdir,
        secret or secrets.token_urlsafe(32),
        [ORDERAMT_PYTHON[0], "-m", "orderamt", "listen"],
        listen=listen,
    )
    listener.start()
    listener.wait_polled()
    return listener


def _free(address: str) -> None:
    """Stop with one line unless the listener could serve at HOST:PORT."""
    host, _, port = address.rpartition(":")
    with socket.socket() as probe:
        try:
            probe.bind((host, int(port)))
        except OSError as exc:
            raise SystemExit(f"--listen {address}: {exc.strerror or exc}") from None


def _by_webhook(portal: Portal, portal_id: int, amount: Decimal) -> bool:
    """Whether the listener's webhook batch, not its catch-up poll, wrote this amount."""
    return any(
        e.mode == "webhook"
        for e in journal_entries(portal.engine)
        if e.order_id == portal_id and e.new_amount == to_cents(amount)
    )


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # the `finally`s run: a real Odoo's prices are put back


def latency(
    options: argparse.Namespace, server: PortalServer, workdir: Path, now: datetime
) -> Latency:
    log(f"2. webhook to portal, {options.samples} samples over {options.live_orders:,} orders")
    rng = random.Random("orderamt-live-latency")
    samples: list[float] = []
    answers: list[float] = []
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    missed = by_poll = unmoved = 0
    listener: Listener | None = None
    saved_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with server.portal() as portal:
            changes: DoubleChanges | OdooChanges
            if options.odoo_url:
                _free(options.listen)
                changes, targets = OdooChanges.open(options, portal, now)
            else:
                changes, targets = DoubleChanges.open(options, portal, now)
            chosen = rng.sample(targets, options.samples)
            try:
                if isinstance(changes, OdooChanges):
                    secret = secrets.token_urlsafe(32)
                    base = (options.hook_url or f"http://{options.listen}").rstrip("/")
                    changes.make_rule(f"{base}/orderamt/{secret}")
                    log(f"  {len(targets):,} orders of {changes.server} may change; each "
                        f"sample writes a line's price; rule #{changes.rule_id} posts to "
                        f"{base}/orderamt/<secret>. The prices the bench may change "
                        "(order:line=price), put back at the end: "
                        + ", ".join(f"{t.odoo_id}:{changes.lines[t.odoo_id][0]}="
                                    f"{changes.lines[t.odoo_id][1]}" for t in chosen))  # fmt: skip
                    listener = _listener(options, changes.at, portal, workdir, secret,
                                         options.listen)  # fmt: skip
                else:
                    listener = _listener(options, changes.at, portal, workdir)
                watcher = RowWatcher(sqlite_path(portal.engine))
                try:
                    contention = Contention.start()
                    cpu_start = cpu_seconds(listener.pid) or 0.0
                    for k, target in enumerate(chosen):
                        start = time.perf_counter()
                        try:
                            status, answered, new = changes.change(target, rng, listener.hook_url)
                        except PushRefused as exc:  # a real Odoo's refusal: the next one
                            problems.append(f"sample {k + 1}: order {target.odoo_id}: {exc}")
                            continue
                        if new is None:
                            unmoved += 1
                            log(f"  sample {k + 1}: order {target.odoo_id}'s total did not "
                                "move (or is 0.00): not timed")  # fmt: skip
                            continue
                        if status:
                            statuses[status] += 1
                        answers.append((answered - start) * 1000)
                        seen = watcher.wait_for(
                            target.portal_id, new, options.sample_timeout, options.watch_ms / 1000
                        )
                        webhook = seen is not None and _by_webhook(portal, target.portal_id, new)
                        if seen is None:
                            missed += 1
                            log(f"  sample {k + 1}: not in the portal after "
                                f"{options.sample_timeout} s")  # fmt: skip
                        elif not webhook:
                            by_poll += 1
                            log(f"  sample {k + 1}: written by the catch-up poll, not timed")
                        else:
                            samples.append(seen - start)
                            if (k + 1) % 10 == 0 or k + 1 == len(chosen):
                                log(
                                    f"  {k + 1}/{len(chosen)}: median so far "
                                    f"{statistics.median(samples):.3f} s"
                                )
                        if options.odoo_url and not samples and missed + by_poll >= 2:
                            raise SystemExit(
                                f"no webhook of {changes.server} reached the listener at "
                                f"{options.listen} (2 changes waited for): Odoo posts from its own "
                                "host; give --hook-url an address it reaches, and --listen "
                                "one the listener may serve"
                            )
                        # Apart enough that no two samples share one batch of the listener.
                        time.sleep(rng.uniform(*options.gap))
                    foreign = contention.foreign_cores((cpu_seconds(listener.pid) or 0) - cpu_start)
                finally:
                    watcher.close()
            finally:
                # A real Odoo's prices back while the listener still answers (17 and 18 post
                # inside the save), then its rule deleted; the double stopped.
                problems += changes.close()
                if listener is not None:
                    listener.stop()
            modes = run_modes(portal.engine)
    finally:
        signal.signal(signal.SIGTERM, saved_sigterm)
    if listener.exit_code != 0:
        problems.append(f"listener exit {listener.exit_code}: {listener.errors[-5:]}")
    if missed:
        problems.append(f"{missed} changes not in the portal within {options.sample_timeout} s")
    if by_poll:
        problems.append(f"{by_poll} changes reached the portal by the catch-up poll, not by a "
                        "webhook: does Odoo reach --hook-url?")  # fmt: skip
    if statuses and set(statuses) != {202}:
        problems.append(f"webhook answers {dict(statuses)}")
    if unmoved:
        log(f"  {unmoved} samples left their order's total as it was and were not timed")
    return Latency(
        len(targets) if options.odoo_url else options.live_orders,
        samples,
        answers,
        dict(statuses),
        missed,
        listener.rss,
        listener.exit_code,
        listener.stop_s,
        modes,
        foreign,
        problems,
        odoo_version=changes.version,
        odoo_server=changes.server,
    )


# -- 3. the flood ----------------------------------------------------------------------------


@dataclass
class _Sender:
    """One sender thread's tally."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    answer_ms: list[float] = field(default_factory=list)
    changes: list[tuple[int, Decimal]] = field(default_factory=list)
    first: float = math.inf
    last: float = 0.0


def _send(
    odoo: OdooDouble,
    url: str,
    odoo_ids: Sequence[int],
    due: Sequence[float],
    cents: itertools.count[int],
    seed: int,
    tally: _Sender,
) -> None:
    rng = random.Random(seed)
    for when in due:
        pause = when - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        odoo_id = rng.choice(odoo_ids)
        amount = Decimal(next(cents)) / 100
        start = time.perf_counter()
        tally.first = min(tally.first, start)
        tally.changes.append((odoo_id, amount))
        try:
            status = odoo.save(odoo_id, url, amount_total=float(amount))
            tally.statuses[status] += 1
        except (OSError, http.client.HTTPException) as exc:
            tally.errors[type(exc).__name__] += 1
        end = time.perf_counter()
        tally.answer_ms.append((end - start) * 1000)
        tally.last = end


def flood(options: argparse.Namespace, server: PortalServer, workdir: Path, now: datetime) -> Flood:
    n = options.flood_orders
    log(
        f"3. flood: {options.rate:g} webhooks/s for {options.duration:g} s from "
        f"{options.senders} threads, over {n:,} orders"
    )
    dataset = make_dataset(n, min(RECENT, n), now)
    portal_of = {o.odoo_id: o.id for o in dataset.orders}
    problems: list[str] = []
    with server.portal() as portal:
        synced_portal(portal, dataset)
        odoo = fresh_odoo(options, dataset)
        try:
            listener = _listener(options, odoo, portal, workdir)
            watcher = RowWatcher(sqlite_path(portal.engine))
            try:
                time.sleep(3)  # let the listener's memory settle after its first poll
                rss_start = listener.rss_now() or 0
                map_start = listener.memory_map()
                cpu_start = cpu_seconds(listener.pid)
                contention = Contention.start()
                total = int(options.rate * options.duration)
                begin = time.perf_counter() + 0.2
                odoo_ids = [o.odoo_id for o in dataset.orders]
                cents = itertools.count(1_000_000)  # every amount of the flood is new
                tallies = [_Sender() for _ in range(options.senders)]
                threads = [
                    threading.Thread(
                        target=_send,
                        args=(
                            odoo,
                            listener.hook_url,
                            odoo_ids,
                            [begin + i / options.rate for i in range(s, total, options.senders)],
                            cents,
                            s,
                            tallies[s],
                        ),
                        daemon=True,
                    )
                    for s in range(options.senders)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                last_sent = max(t.last for t in tallies)
                odoo.committed()  # Odoo 17/18: the last saves commit after their webhooks
                log("  flood sent; waiting for the listener to settle")
                final = {
                    portal_of[i]: Decimal(repr(odoo.orders[i]["amount_total"])).quantize(
                        Decimal("0.01")
                    )
                    for t in tallies
                    for i, _ in t.changes
                }
                settle_s: float | None = None
                deadline = time.perf_counter() + options.settle_timeout
                lost = len(final)
                while time.perf_counter() < deadline:
                    amounts = watcher.amounts()
                    lost = sum(1 for i, a in final.items() if amounts.get(i) != a)
                    if lost == 0:
                        settle_s = time.perf_counter() - last_sent
                        break
                    time.sleep(0.25)
                listener.wait_idle(30)
                time.sleep(3)
                rss_end = listener.rss_now() or 0
                map_end = listener.memory_map()
                cpu_end = cpu_seconds(listener.pid)
                foreign = contention.foreign_cores((cpu_end or 0) - (cpu_start or 0))
            finally:
                watcher.close()
                listener.stop()
            entries = journal_entries(portal.engine)
            runs = run_modes(portal.engine)
        finally:
            odoo.stop()
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    answer_ms: list[float] = []
    set_amounts: dict[int, set[Decimal]] = defaultdict(set)
    for t in tallies:
        statuses.update(t.statuses)
        errors.update(t.errors)
        answer_ms += t.answer_ms
        for odoo_id, amount in t.changes:
            set_amounts[portal_of[odoo_id]].add(amount)
    by_run_order: dict[tuple[int, int], list[JournalEntry]] = defaultdict(list)
    for e in entries:
        by_run_order[(e.run_id, e.order_id)].append(e)
    repeated = [group for group in by_run_order.values() if len(group) > 1]
    unexplained_repeats = [
        group
        for group in repeated
        if group[0].mode != "changed" or len({e.new_amount for e in group}) < len(group)
    ]
    by_order_amount = Counter((e.order_id, e.new_amount) for e in entries)
    unexplained = [e for e in entries if e.new_amount not in set_amounts.get(e.order_id, set())]
    sent = sum(statuses.values()) + sum(errors.values())
    rss_samples = [kib for _, kib in listener.rss]
    result = Flood(
        orders=n,
        rate_asked=options.rate,
        duration_asked=options.duration,
        senders=options.senders,
        sent=sent,
        send_seconds=max(t.last for t in tallies) - min(t.first for t in tallies),
        statuses=dict(statuses),
        errors=dict(errors),
        answer_ms_p50=percentile(answer_ms, 0.5),
        answer_ms_p99=percentile(answer_ms, 0.99),
        answer_ms_max=max(answer_ms),
        orders_changed=len(final),
        changes=sum(len(t.changes) for t in tallies),
        settle_s=settle_s,
        lost=lost,
        journal_entries=len(entries),
        entries_by_mode=dict(Counter(e.mode for e in entries)),
        runs_by_mode=runs,
        dup_run_order=len(repeated),
        dup_run_order_unexplained=len(unexplained_repeats),
        dup_order_amount=sum(1 for c in by_order_amount.values() if c > 1),
        unexplained=len(unexplained),
        rss_kib=listener.rss,
        rss_start_kib=rss_start,
        rss_peak_kib=max(rss_samples),
        rss_end_kib=rss_end,
        map_start=map_start,
        map_end=map_end,
        cpu_s=None if cpu_start is None or cpu_end is None else cpu_end - cpu_start,
        foreign_cores=foreign,
        exit_code=listener.exit_code,
        stop_s=listener.stop_s,
    )
    if result.lost:
        problems.append(f"{result.lost} changed orders do not hold Odoo's final amount")
    if result.duplicates:
        problems.append(
            f"journal: {result.dup_run_order_unexplained} unexplained (run, order) and "
            f"{result.dup_order_amount} "
            f"(order, amount) duplicates, {result.unexplained} amounts never set in Odoo"
        )
    if listener.exit_code != 0:
        problems.append(f"listener exit {listener.exit_code}: {listener.errors[-5:]}")
    result.problems = problems
    return result


# -- options and main --------------------------------------------------------------------------

QUICK = {
    "poll_orders": 10_000,
    "repeat": 3,
    "live_orders": 2_000,
    "samples": 10,
    "flood_orders": 2_000,
    "duration": 10.0,
    "settle_timeout": 90.0,
}
PARTS = ("poll", "latency", "flood")


def _gap(value: str) -> tuple[float, float]:
    low, _, high = value.partition(",")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not SECONDS or MIN,MAX: {value!r}") from None
    if pair[0] < 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"not SECONDS or MIN,MAX: {value!r}")
    return pair


def _parts(value: str) -> list[str]:
    names = [p.strip() for p in value.split(",") if p.strip()]
    if not names or any(p not in PARTS for p in names):
        raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(PARTS)}")
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/live.py",
        description="Benchmark the catch-up poll (`orderamt sync --changed`) and the listener "
        "(`orderamt listen`) against the Odoo double with a real server's latency.",
    )
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="smaller sizes and a 10-second flood (under a minute): "
        + ", ".join(f"--{k.replace('_', '-')} {v:g}" for k, v in QUICK.items()),
    )
    add(
        "--only",
        type=_parts,
        default=list(PARTS),
        help="run only these parts: poll, latency, flood, comma-separated (default all)",
    )
    add(
        "--latency-ms",
        type=float,
        default=20.0,
        help="the double's latency per call, in ms (default 20: a quiet search_read on "
        "write_date on a real Odoo 18/19 with 10,000 orders took 18-22 ms)",
    )
    add(
        "--login-ms",
        type=float,
        default=330.0,
        help="more server time where Odoo checks a password's hash (each `authenticate`, the "
        "first `execute_kw` of a password), in ms, on top of --latency-ms (default 330: "
        "what live 17.0, 18.0 and 19.0 took, ../shared/odoo-facts.md)",
    )
    add(
        "--db",
        choices=KINDS,
        default="sqlite",
        help="the quiet poll's portal: sqlite (default), postgresql or mariadb (the test "
        "suite's server, ORDERAMT_TEST_POSTGRES_URL / ORDERAMT_TEST_MYSQL_URL); the other "
        "parts read their portal with sqlite3 and need sqlite",
    )
    add(
        "--odoo-version",
        type=int,
        choices=(17, 18, 19),
        default=18,
        help="17 or 18: XML-RPC with a password, the webhook posted before the save commits "
        "(default 18); 19: JSON-2 with an API key, the webhook posted after the commit",
    )
    add(
        "--poll-orders",
        type=int,
        default=100_000,
        help="orders in the quiet poll's portal (default 100000)",
    )
    add(
        "--repeat",
        type=int,
        default=7,
        help="timed quiet polls; the median is reported (default 7)",
    )
    add(
        "--live-orders",
        type=int,
        default=10_000,
        help="orders in the latency run's portal (default 10000)",
    )
    add(
        "--samples", type=int, default=50, help="changes timed from Odoo to the portal (default 50)"
    )
    add(
        "--gap",
        type=_gap,
        default=(0.3, 0.8),
        metavar="MIN,MAX",
        help="seconds between a sample's arrival and the next change, drawn at random "
        "(default 0.3,0.8)",
    )
    add(
        "--watch-ms",
        type=float,
        default=5.0,
        help="how often the bench reads the portal row (default 5 ms)",
    )
    add(
        "--sample-timeout",
        type=float,
        default=15.0,
        help="seconds a sample may take before it counts as not arrived (default 15)",
    )
    add(
        "--flood-orders",
        type=int,
        default=10_000,
        help="orders in the flood's portal (default 10000)",
    )
    add("--rate", type=float, default=200.0, help="webhooks a second (default 200)")
    add("--duration", type=float, default=60.0, help="seconds of flood (default 60)")
    add("--senders", type=int, default=4, help="sender threads (default 4)")
    add(
        "--settle-timeout",
        type=float,
        default=150.0,
        help="seconds after the flood for every change to arrive (default 150: more than the "
        "60-second catch-up poll)",
    )
    add(
        "--no-bytecode-cache",
        dest="bytecode_cache",
        action="store_false",
        help="run orderamt with this shell's own bytecode settings instead of a bytecode "
        "cache in the work directory (PYTHONPYCACHEPREFIX), compiled before the runs",
    )
    add(
        "--quiet-wait",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="before each timed quiet poll, wait up to this long for the machine to be quiet "
        "(other processes below 0.3 cores); 0 to not wait (default 20)",
    )
    add(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also run one quiet poll under cProfile, its stats written into DIR",
    )
    add(
        "--python",
        type=Path,
        help="the interpreter whose orderamt the timed polls and the listener run (default "
        "this one): another commit's install, against this bench and its double",
    )
    add(
        "--odoo-url",
        help="the quiet poll and the latency against a real Odoo instead of the double "
        "(--only poll,latency; --latency-ms, --login-ms and --odoo-version are then the "
        "server's own), logged in with ODOO_DB, ODOO_USERNAME and ODOO_PASSWORD from the "
        "environment. The poll reads its first --poll-orders sale orders and writes nothing. "
        "A poll reads again what Odoo wrote in the 5 minutes before its checkpoint "
        "(ORDERAMT_CHANGED_MARGIN): it is quiet once nothing was written for that long (SQL "
        "statements 7, not more). The latency part makes an automation rule posting to the "
        "listener (--listen, --hook-url), changes the price of a line of --samples of its "
        "first --live-orders orders (quotations first), and at the end puts each price back "
        "and deletes the rule; see bench/README.md for what else it leaves in Odoo",
    )
    add(
        "--listen",
        default="127.0.0.1:8769",
        metavar="HOST:PORT",
        help="with --odoo-url: where the listener serves (default 127.0.0.1:8769)",
    )
    add(
        "--hook-url",
        metavar="URL",
        help="with --odoo-url: the address Odoo's rule posts to (default http://--listen); "
        "Odoo posts from its own host, so an Odoo on another machine or in a container needs "
        "an address of this machine that it reaches, and --listen one the listener may serve",
    )
    add("--json", type=Path, help="also write every figure to this JSON file")
    add(
        "--workdir",
        type=Path,
        help="where the SQLite portals and the log go (default: a new temporary directory)",
    )
    options = parser.parse_args(argv)
    if options.quick:
        given = {arg.split("=", 1)[0] for arg in (sys.argv[1:] if argv is None else argv)}
        for name, value in QUICK.items():
            if f"--{name.replace('_', '-')}" not in given:  # an explicit size wins
                setattr(options, name, type(getattr(options, name))(value))
    if options.db != "sqlite" and set(options.only) - {"poll"}:
        parser.error("--db other than sqlite is for --only poll")
    if options.odoo_url and "flood" in options.only:
        parser.error("--odoo-url is for --only poll,latency: the flood would write a real "
                     "Odoo's orders 200 times a second")  # fmt: skip
    if options.samples > options.live_orders:
        parser.error("--samples cannot exceed --live-orders")
    return options


def main(argv: Sequence[str] | None = None) -> LiveReport:
    options = parse_args(argv)
    if options.python is not None:
        ORDERAMT_PYTHON[0] = str(options.python)
    with contextlib.ExitStack() as stack:
        if options.workdir is None:
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="orderamt-live-"))
            )
        else:
            workdir = options.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        server = PortalServer(options.db, None, workdir)
        machine = machine_info([server])
        machine["orderamt source hash"] = src_fingerprint()
        report = LiveReport(options, machine)
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        if options.bytecode_cache:
            warm_up_bytecode(workdir)
        else:
            warm_up()
        if "poll" in options.only:
            report.poll = quiet_poll(options, server, workdir, now)
        if "latency" in options.only:
            report.latency = latency(options, server, workdir, now)
        if "flood" in options.only:
            report.flood = flood(options, server, workdir, now)
        evaluate(report)
    if options.json:
        options.json.write_text(json.dumps(report.as_json(), indent=1, default=str))
    return report


if __name__ == "__main__":
    try:
        live_report = main()
    except KeyboardInterrupt:  # the `finally`s have run: a real Odoo is as it was, or said
        print("stopped by Ctrl-C", file=sys.stderr)
        sys.exit(130)
    except OrderamtError as exc:  # a real Odoo's refusal (no Settings rights for the rule)
        print(exc.message, file=sys.stderr)
        sys.exit(1)
    print(format_report(live_report))
    sys.exit(1 if live_report.problems else 0)
