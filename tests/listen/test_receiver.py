"""The receiver in this process: what each request is answered, and that only a good webhook
ever reaches the sync."""

from __future__ import annotations

import pytest

from tests.listen.harness import HOOK, INTERVAL, SECRET, FakeClock, InProcessListener

GOOD = b'{"_model": "sale.order", "_id": 1}'


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/orderamt/" + "y" * len(SECRET), GOOD, 404),
        ("POST", "/orderamt/", GOOD, 404),
        ("POST", "/", GOOD, 404),
        ("GET", HOOK, b"", 405),
        ("POST", HOOK, b"{not json", 400),
        ("POST", HOOK, b"\xff\xfe", 400),
        ("POST", HOOK, b"[1]", 422),
        ("POST", HOOK, b"x" * (65 * 1024), 413),
        ("POST", HOOK, b'{"_model": "res.partner", "_id": 1}', 422),
        ("POST", HOOK, b'{"_model": "sale.order"}', 422),
        ("POST", HOOK, b'{"_model": "sale.order", "_id": "1"}', 422),
        ("POST", HOOK, b'{"_model": "sale.order", "_id": true}', 422),
        ("POST", HOOK, b'{"_model": "sale.order", "_id": 2147483648}', 422),
    ],
)
def test_a_bad_request_is_answered_and_syncs_nothing(
    listener: InProcessListener, clock: FakeClock, method: str, path: str, body: bytes, status: int
) -> None:
    """Each bad request gets its status and queues nothing: no batch goes out however long
    the listener runs, only the polls."""
    assert listener.request(method, path, body)[0] == status
    assert listener.healthz()[1]["queue"] == 0
    clock.advance(INTERVAL * 2)
    assert listener.batches == []
    assert listener.polls == [0, INTERVAL, 2 * INTERVAL]


def test_a_good_webhook_is_accepted_with_its_id(listener: InProcessListener) -> None:
    """A sale order's webhook at the secret path is 202 with the id queued; `id` does for
    `_id`, and the model may be left out."""
    assert listener.request("POST", HOOK, GOOD) == (202, {"queued": 1})
    assert listener.request("POST", HOOK, b'{"id": 3}') == (202, {"queued": 3})
    assert listener.healthz()[1]["queue"] == 2
