"""The shipped Caddyfile (contrib/proxy/Caddyfile) in a real Caddy: valid, and the secret
webhook path kept out of its log when the listener is down."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import SECRET, free_port, post, wait_until_serving

ROOT = Path(__file__).parent.parent.parent
SHIPPED = ROOT / "contrib" / "proxy" / "Caddyfile"
CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(
    CADDY is None, reason="Caddy is not installed here (Debian: apt install caddy)"
)


def caddy_env(tmp_path: Path) -> dict[str, str]:
    """Caddy keeps its data and config under these: this test's folder."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}  # fmt: skip


def test_the_shipped_caddyfile_is_valid(tmp_path: Path) -> None:
    """`caddy adapt` reads the shipped file as it is."""
    assert CADDY is not None
    run = subprocess.run(
        [CADDY, "adapt", "--config", str(SHIPPED)],
        env=caddy_env(tmp_path), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("keep_handle_errors", [True, False])
def test_the_secret_stays_out_of_caddy_s_log(
    tmp_path: Path, refusing_port: int, keep_handle_errors: bool
) -> None:
    """A webhook while the listener is down (502): with the shipped file Caddy's log does
    not hold the secret; without its handle_errors block (the control) it does."""
    assert CADDY is not None
    port = free_port()
    text = SHIPPED.read_text().replace("portal.example.com {", f"http://127.0.0.1:{port} {{")
    text = text.replace("127.0.0.1:8765", f"127.0.0.1:{refusing_port}")
    if not keep_handle_errors:
        text = text[: text.index("\thandle_errors {")] + "}\n"
    conf = tmp_path / "Caddyfile"
    conf.write_text("{\n\tadmin off\n}\n" + text)
    caddy = subprocess.Popen(
        [CADDY, "run", "--config", str(conf), "--adapter", "caddyfile"],
        env=caddy_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until_serving(port, caddy)
        assert post(port, b'{"_model": "sale.order", "_id": 1}') == 502
    finally:
        caddy.send_signal(signal.SIGINT)  # a graceful stop: its log is complete after it
        log, _ = caddy.communicate(timeout=30)
    assert "serving initial configuration" in log  # the log is the one written
    assert (SECRET in log) is not keep_handle_errors
