"""The shipped nginx lines (contrib/proxy/nginx-orderamt.conf) in a real nginx: valid, and
the secret webhook path kept out of its logs when the listener is down or a body too big."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.examples.conftest import SECRET, free_port, post, wait_until_serving

ROOT = Path(__file__).parent.parent.parent
SHIPPED = ROOT / "contrib" / "proxy" / "nginx-orderamt.conf"
NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed here (Debian: apt install nginx)"
)


def site(tmp_path: Path, upstream: int, *, keep_error_log_line: bool = True) -> Path:
    """An nginx.conf whose one server includes the shipped lines, with its logs, its pid and
    its upstream moved to this test's places; the site's own error log at `info`."""
    lines = SHIPPED.read_text().replace("/var/log/nginx/error.log", str(tmp_path / "error.log"))
    lines = lines.replace("127.0.0.1:8765", f"127.0.0.1:{upstream}")
    if not keep_error_log_line:
        lines = "\n".join(line for line in lines.splitlines() if "error_log" not in line)
    (tmp_path / "orderamt.conf").write_text(lines)
    temp = tmp_path / "temp"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'} info;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path / 'access.log'};\n"
        + "".join(f"    {kind}_temp_path {temp / kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    server {{\n        listen 127.0.0.1:{free_port()};\n"
        f"        include {tmp_path / 'orderamt.conf'};\n    }}\n"
        "}\n"
    )  # fmt: skip
    return conf


def test_the_shipped_lines_pass_nginx_t(tmp_path: Path, refusing_port: int) -> None:
    """`nginx -t` accepts the shipped lines inside a server block, as the comment says to use
    them."""
    assert NGINX is not None
    conf = site(tmp_path, refusing_port)
    run = subprocess.run(
        [NGINX, "-t", "-p", f"{tmp_path}/", "-c", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "test is successful" in run.stderr


@pytest.mark.parametrize("keep_error_log_line", [True, False])
def test_the_secret_stays_out_of_the_logs(
    tmp_path: Path, refusing_port: int, keep_error_log_line: bool
) -> None:
    """A webhook while the listener is down (502) and one with a body over 64k (413): with
    the shipped lines neither log holds the secret; without their error_log line (the
    control, nginx's default) the error log does."""
    assert NGINX is not None
    conf = site(tmp_path, refusing_port, keep_error_log_line=keep_error_log_line)
    port = int(conf.read_text().split("listen 127.0.0.1:")[1].split(";")[0])
    nginx = subprocess.Popen(
        [NGINX, "-p", f"{tmp_path}/", "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_serving(port, nginx)
        assert post(port, b'{"_model": "sale.order", "_id": 1}') == 502
        assert post(port, b"x" * (65 * 1024)) == 413
    finally:
        nginx.send_signal(signal.SIGQUIT)  # a graceful stop: the logs are complete after it
        nginx.communicate(timeout=30)
    error_log = (tmp_path / "error.log").read_text()
    assert "start worker process" in error_log  # the site's own log is written
    assert SECRET not in (tmp_path / "access.log").read_text()
    if keep_error_log_line:
        assert SECRET not in error_log
    else:
        assert f"POST /orderamt/{SECRET}" in error_log
