"""The webhook receiver: Odoo's "Send Webhook Notification" POSTs in, order ids out.

Knows HTTP and time, nothing of SQL or Odoo's API: it hands the ids to `sync_ids` and runs
`poll` (the catch-up poll) on a timer; the wiring (app.py) gives both. A webhook only says
"this order changed": its payload can be stale (Odoo sends the write_date from before a
line change) or forged (anyone who knows the URL can post), so only the id is used and the
truth is read from Odoo.

`receiver` answers HTTP and queues ids in `Pending`; `worker` syncs them and polls;
`Health` is what the worker records and /healthz tells; `clock` is the time they all read.
"""

from orderamt.listen.clock import Clock, SystemClock
from orderamt.listen.health import Health
from orderamt.listen.pending import Pending
from orderamt.listen.receiver import HEALTH_PATH, MAX_BODY, PATH_PREFIX, WebhookApp
from orderamt.listen.worker import RETRY_PAUSE, Worker, gather_delay

__all__ = [
    "HEALTH_PATH",
    "MAX_BODY",
    "PATH_PREFIX",
    "RETRY_PAUSE",
    "Clock",
    "Health",
    "Pending",
    "SystemClock",
    "WebhookApp",
    "Worker",
    "gather_delay",
]
