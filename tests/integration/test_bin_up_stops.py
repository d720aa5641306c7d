"""bin/up, the newcomer's command, stops everything it started on SIGTERM and on
Ctrl-C (SIGINT): daphne, the SMS stub and the outbox worker all exit, none is
left running. It runs here on its embedded default in a folder of its own
(VAR_DIR) and on free ports."""

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from tests.live_server import free_port, wait_for_http
from tests.waiting import wait_for

STOP_SECONDS = 20  # each child gets SIGTERM; bin/up itself uses SIGKILL only after 15 s


def children_of(pid: int) -> set[int]:
    """Every process below `pid` (from /proc), however deep."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_bin_up_stops_all_its_children(tmp_path, sig):
    port, sms_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"VAR_DIR": str(tmp_path / "var"), "PORT": str(port), "SMS_API_BASE": f"http://127.0.0.1:{sms_port}",
                "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "bin-up.log"
    with log.open("w") as out:
        up = subprocess.Popen([str(settings.BASE_DIR / "bin/up")], cwd=settings.BASE_DIR, env=env,
                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/accounts/login/", up, log, timeout=180)
        wait_for_http(f"http://127.0.0.1:{sms_port}/", up, log)
        children = wait_for(lambda: (c := children_of(up.pid)) and len(c) >= 3 and c, "bin/up's three servers", 20,
                            seen=lambda: children_of(up.pid))
        up.send_signal(sig)  # to bin/up alone, not its process group, as a service manager or `kill` would
        up.wait(timeout=STOP_SECONDS)
        wait_for(lambda: not any(alive(pid) for pid in children), "every child of bin/up gone", 5,
                 seen=lambda: [pid for pid in children if alive(pid)])
        assert up.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[sig], log.read_text()[-2000:]
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    assert (tmp_path / "var" / "db.sqlite3").exists()  # it ran in its own folder, not the checkout's var/
