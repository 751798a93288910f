"""``quanzi serve`` as an operator runs it, a real process: N worker processes named after
the port, clients' connections kept alive between requests, ``414 uri_too_long`` for a
request line over 8,190 bytes, a killed worker replaced, ``HUP`` replacing the workers
while the server keeps answering, ``TERM`` stopping it cleanly.

The server runs on an SQLite file nobody migrated: ``/readyz`` then answers ``503``
(migrations missing), which is all these tests need of the application."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quanzi.core.server import MAX_REQUEST_LINE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == pid:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode().strip()
    return found


def _workers(server) -> dict[int, str]:
    return {pid: title for pid, title in _children(server.pid).items() if "worker-" in title}


def _two_workers(server, *, not_of) -> dict[int, str] | None:
    """The server's two workers, once none of them is one of ``not_of``."""
    workers = _workers(server)
    if len(workers) == 2 and not set(workers) & set(not_of):
        return workers
    return None


def _get(port: int, target: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", target)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def _answers(port: int) -> bool:
    try:
        return _get(port, "/readyz")[0] in {200, 503}
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANZI_")}
    env.update({"QUANZI_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "quanzi.settings"})
    log = open(data / "serve.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [sys.executable, "-m", "quanzi.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait("the server to answer", lambda: server.poll() is not None or _answers(port), 120)
        assert server.poll() is None, (data / "serve.log").read_text()
        _wait("two workers", lambda: len(_workers(server)) == 2)
        yield server, port, data / "serve.log"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
        log.close()


def test_the_workers_are_processes_named_after_the_port(served):
    server, port, _ = served
    titles = sorted(_workers(server).values())
    assert titles == [f"quanzi-serve-{port} worker-1", f"quanzi-serve-{port} worker-2"]


def test_a_client_connection_stays_open_between_requests(served):
    _, port, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/readyz")
        first = conn.getresponse()
        first.read()
        opened = conn.sock
        conn.request("GET", "/readyz")
        second = conn.getresponse()
        body = json.loads(second.read())
        assert (first.status, second.status) == (503, 503)
        assert body["migrations"] == "pending"
        assert first.getheader("Connection", "").lower() != "close"
        assert conn.sock is opened  # the same socket: no reconnect in between
    finally:
        conn.close()


def test_more_open_connections_than_workers_are_all_answered(served):
    """Clients that keep their connections open (an app, nginx's upstream pool) are more
    than the processes: each is still answered, in turn, never left waiting on a process
    that holds another's idle connection."""
    _, port, _ = served
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(6)]
    try:
        for _ in range(2):
            for conn in conns:
                conn.request("GET", "/readyz")
                answer = conn.getresponse()
                answer.read()
                assert answer.status == 503
    finally:
        for conn in conns:
            conn.close()


def test_a_request_line_over_8190_bytes_is_answered_414(served):
    _, port, _ = served
    fixed = len("GET ") + len(" HTTP/1.1")  # the request line, less its target
    target = "/readyz?q="
    longest = target + "a" * (MAX_REQUEST_LINE - fixed - len(target))
    status, _ = _get(port, longest)
    assert status == 503  # served: exactly at the limit
    status, body = _get(port, longest + "a")
    assert status == 414
    error = json.loads(body)
    assert error["code"] == "uri_too_long"
    assert error["detail"] == {"limit": MAX_REQUEST_LINE}


def test_the_limit_counts_the_path_as_sent_percent_encoded(served):
    _, port, _ = served
    fixed = len("GET ") + len(" HTTP/1.1")
    word = "%E4%B8%AD"  # 中: nine bytes on the line, three in the WSGI path
    words, spare = divmod(MAX_REQUEST_LINE - fixed - len("/x/"), len(word))
    longest = "/x/" + word * words + "a" * spare
    assert fixed + len(longest) == MAX_REQUEST_LINE
    assert _get(port, longest)[0] == 404  # served: no such page
    status, body = _get(port, longest + "a")
    assert status == 414
    assert json.loads(body)["code"] == "uri_too_long"


def test_a_killed_worker_is_replaced_and_hup_replaces_them_all(served):
    server, port, _ = served
    before = _workers(server)
    killed = min(before)
    os.kill(killed, signal.SIGKILL)
    after = _wait("the killed worker's replacement", lambda: _two_workers(server, not_of=[killed]))
    assert set(after) & set(before) == set(before) - {killed}
    assert _answers(port)

    server.send_signal(signal.SIGHUP)
    renewed = _wait("every worker replaced after HUP", lambda: _two_workers(server, not_of=after))
    assert sorted(renewed.values()) == sorted(after.values())
    assert server.poll() is None
    assert _answers(port)


def test_term_stops_the_server_and_its_workers(served):
    server, port, log = served
    workers = _workers(server)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0, log.read_text()
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert not _answers(port)
