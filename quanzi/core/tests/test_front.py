"""The async front (``quanzi.core.front``) hands what it does not answer to a real Django
over HTTP and gives back Django's answer as it is: status, body, headers (every
``Set-Cookie`` of it), with its own length and none of the connection's headers; an
upstream that is down is ``502 upstream_unavailable``.

The upstream is pytest-django's ``live_server`` (a threaded Django server on the test
database); the front is called in-process with the ASGI request uvicorn would give it,
and each answer is compared with the same request sent straight to ``live_server``."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import threading
from http.cookies import SimpleCookie
from urllib.parse import unquote, urlencode, urlsplit

import pytest
from django.http import StreamingHttpResponse
from django.urls import include, path

from quanzi.core.front import Front, Upstream, environ_of

live = pytest.mark.django_db(transaction=True)

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


# --- the test's own URLs: Django's, plus an answer streamed with no length of its own ---


def _streamed(request):
    return StreamingHttpResponse(
        (f"part {i};".encode() for i in range(50)), content_type="text/plain"
    )


urlpatterns = [
    path("front-test/streamed", _streamed),
    path("", include("quanzi.urls")),
]


# --- the two ways to Django: through the front, and straight ------------------------------


class _Answer:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers  # (lowercase name, value), in the order sent, repeats kept
        self.body = body

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    def json(self):
        return json.loads(self.body)

    def cookies(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Each ``Set-Cookie`` by name: (value, attributes but ``expires``)."""
        found = {}
        for header in self.all("set-cookie"):
            parsed = SimpleCookie()
            parsed.load(header)
            assert len(parsed) == 1, header
            for name, morsel in parsed.items():
                attrs = {k: str(v) for k, v in morsel.items() if v and k != "expires"}
                found[name] = (morsel.value, attrs)
        return found

    def comparable(self) -> list[tuple[str, str]]:
        """The headers but the clock's and the cookies' random values."""
        return sorted((k, v) for k, v in self.headers if k not in ("date", "set-cookie"))


def _scope(method: str, target: str, headers, *, server=("127.0.0.1", 8001)) -> dict:
    """The ASGI request uvicorn builds of ``method target`` with ``headers``."""
    raw_path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("ascii"),
        "query_string": query.encode("ascii"),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50123),
        "server": server,
    }


def _through(front: Front, method: str, target: str, headers=(), body: bytes = b"", **kw):
    """``front`` answering one request on an event loop of its own."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    async def serve():
        try:
            await front(_scope(method, target, headers, **kw), receive, send)
        finally:
            await front.upstream.close()  # its session belongs to this loop

    asyncio.run(serve())
    start, *rest = sent
    assert start["type"] == "http.response.start"
    assert [m["type"] for m in rest] == ["http.response.body"]
    headers_out = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start["headers"]]
    return _Answer(start["status"], headers_out, b"".join(m.get("body", b"") for m in rest))


def _straight(base_url: str, method: str, target: str, headers=(), body: bytes = b""):
    """The same request sent to ``base_url`` with http.client: nothing added, no redirect
    followed, every header of the answer kept."""
    where = urlsplit(base_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        answer = conn.getresponse()
        return _Answer(
            answer.status, [(k.lower(), v) for k, v in answer.getheaders()], answer.read()
        )
    finally:
        conn.close()


@pytest.fixture
def django_at(live_server):
    """(the front with ``live_server`` as its upstream, a request's usual headers)."""
    front = Front(upstream=Upstream(live_server.url))
    headers = [
        ("Host", urlsplit(live_server.url).netloc),
        ("Accept", "*/*"),
        ("User-Agent", "quanzi-test"),
        ("Accept-Language", "en"),
        ("X-Request-ID", "req-front-handover"),
    ]
    return live_server.url, front, headers


def _both(django_at, method, target, extra=(), body=b""):
    """The request through the front and straight to Django; the front's answer checked
    for its length and the connection's headers."""
    url, front, headers = django_at
    headers = [*headers, *extra]
    straight = _straight(url, method, target, headers, body)
    sent = [*headers, ("Content-Length", str(len(body)))] if body else headers
    through = _through(front, method, target, sent, body)
    assert int(through.one("content-length")) == len(through.body)
    assert not _HOP & {k for k, _ in through.headers}
    return straight, through


def _same(straight: _Answer, through: _Answer) -> None:
    assert through.status == straight.status
    assert through.body == straight.body
    assert through.comparable() == straight.comparable()


# --- requests and their answers -----------------------------------------------------------


@live
def test_a_get_with_a_query_string_is_djangos_answer(django_at, make_product):
    make_product(title="东北大米 5kg")
    make_product(title="蓝牙耳机")
    # Two products; the query string (percent-encoded UTF-8 too) reaches Django as sent.
    straight, through = _both(django_at, "GET", "/api/v1/products?limit=1")
    _same(straight, through)
    assert through.status == 200
    page = through.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert through.one("x-request-id") == "req-front-handover"
    assert through.one("content-language") == "en"
    assert through.one("content-type") == "application/json; charset=utf-8"

    straight, through = _both(django_at, "GET", "/api/v1/products?q=%E5%A4%A7%E7%B1%B3")
    _same(straight, through)
    assert [p["title"] for p in through.json()["items"]] == ["东北大米 5kg"]

    straight, through = _both(django_at, "GET", "/api/v1/flash-sales?limit=1")
    _same(straight, through)
    assert (through.status, through.json()["items"]) == (200, [])

    straight, through = _both(django_at, "GET", "/api/v1/products?limit=abc")
    _same(straight, through)
    assert (through.status, through.json()["code"]) == (422, "validation_error")


@live
def test_an_unknown_api_path_is_djangos_404(django_at):
    straight, through = _both(django_at, "GET", "/api/v1/no-such-thing/%E4%B8%AD?x=1")
    _same(straight, through)
    assert through.status == 404
    assert through.json() == {
        "code": "not_found",
        "message": "no such endpoint",
        "detail": {"path": "/api/v1/no-such-thing/中"},
    }


@live
def test_a_post_with_a_json_body_is_djangos_answer(django_at, make_user):
    user = make_user(phone="13900000077", nickname="阿明")
    json_type = [("Content-Type", "application/json")]
    wrong = json.dumps({"phone": "13900000077", "password": "not-it"}).encode()
    straight, through = _both(django_at, "POST", "/api/v1/auth/login", json_type, wrong)
    _same(straight, through)
    assert (through.status, through.json()["code"]) == (401, "invalid_credentials")

    right = json.dumps({"phone": "13900000077", "password": "secret123"}).encode()
    straight, through = _both(django_at, "POST", "/api/v1/auth/login", json_type, right)
    assert (straight.status, through.status) == (200, 200)
    assert through.json()["user_id"] == straight.json()["user_id"] == user.pk
    # The token the front brought back is Django's: it opens the account through the
    # front (the Authorization header reaches Django).
    bearer = [("Authorization", f"Bearer {through.json()['token']}")]
    straight, through = _both(django_at, "GET", "/api/v1/me", bearer)
    _same(straight, through)
    assert (through.status, through.json()["id"], through.json()["nickname"]) == (
        200,
        user.pk,
        "阿明",
    )


@live
def test_a_body_sent_to_the_front_in_chunks_reaches_django_whole(django_at, make_user):
    """A client's chunked request (uvicorn gives the body whole, the header kept): Django
    gets it with its length, not the client's framing."""
    url, front, headers = django_at
    make_user(phone="13900000078")
    body = json.dumps({"phone": "13900000078", "password": "not-it"}).encode()
    sent = [*headers, ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]
    through = _through(front, "POST", "/api/v1/auth/login", sent, body)
    assert (through.status, through.json()["code"]) == (401, "invalid_credentials")


# --- cookies ------------------------------------------------------------------------------


def _form_token(html: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1).decode()


def _cookie_header(*answers: _Answer) -> str:
    jar: dict[str, str] = {}
    for answer in answers:
        jar.update({name: value for name, (value, _) in answer.cookies().items()})
    return "; ".join(f"{k}={v}" for k, v in jar.items())


@live
def test_every_cookie_of_an_answer_survives_and_signs_a_shopper_in(django_at, make_user):
    url, front, headers = django_at
    make_user(phone="13900000079", nickname="小慧")
    # The sign-in form sets two cookies in one answer: the CSRF token and the device id.
    straight, through = _both(django_at, "GET", "/login/")
    assert through.status == straight.status == 200
    assert len(through.all("set-cookie")) == len(straight.all("set-cookie")) == 2
    cookies = through.cookies()
    assert set(cookies) == {"csrftoken", "qz_device"}
    assert {n: attrs for n, (_, attrs) in cookies.items()} == {
        n: attrs for n, (_, attrs) in straight.cookies().items()
    }
    assert cookies["qz_device"][1] == {
        "path": "/",
        "max-age": str(5 * 365 * 86_400),
        "httponly": "True",
        "samesite": "Lax",
    }
    assert through.comparable() == straight.comparable()

    # Signing in through the front: the redirect comes back as it is (not followed), with
    # both the session cookie and the CSRF cookie the sign-in rotates.
    form = urlencode(
        {
            "phone": "13900000079",
            "password": "secret123",
            "next": "/me/",
            "csrfmiddlewaretoken": _form_token(through.body),
        }
    ).encode()
    signed = _through(
        front,
        "POST",
        "/login/",
        [
            *headers,
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", str(len(form))),
            ("Cookie", _cookie_header(through)),
        ],
        form,
    )
    assert (signed.status, signed.one("location")) == (302, "/me/")
    assert set(signed.cookies()) == {"sessionid", "csrftoken"}
    session_attrs = signed.cookies()["sessionid"][1]
    assert session_attrs["httponly"] == "True" and session_attrs["path"] == "/"
    assert int(signed.one("content-length")) == len(signed.body)

    # The session cookie the front passed on is the shopper's.
    me = _through(front, "GET", "/me/", [*headers, ("Cookie", _cookie_header(through, signed))])
    assert me.status == 200
    assert "小慧".encode() in me.body


# --- the answer's framing -----------------------------------------------------------------


@live
@pytest.mark.urls(__name__)
def test_an_answer_without_a_length_gets_its_own_and_not_the_connections_close(django_at):
    """Django's server sends a streamed answer with ``Connection: close`` and no length
    (the body ends with the connection); the front's answer has its length and no
    ``Connection`` header (it is the front's connection that stays open)."""
    straight, through = _both(django_at, "GET", "/front-test/streamed")
    assert straight.all("connection") == ["close"]
    assert straight.all("content-length") == []
    expected = b"".join(f"part {i};".encode() for i in range(50))
    assert straight.body == through.body == expected
    assert through.status == 200
    assert through.one("content-length") == str(len(expected))
    assert through.all("connection") == []
    assert through.one("x-request-id") == "req-front-handover"


class _ChunkedUpstream:
    """An upstream answering as a WSGI server does a streamed answer: chunked, with the
    connection's own headers, and two cookies; it keeps the requests it was sent."""

    ANSWER = (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Connection: keep-alive\r\n"
        b"Keep-Alive: timeout=5\r\n"
        b"Set-Cookie: first=1; Path=/; HttpOnly\r\n"
        b"Set-Cookie: second=2; Path=/shop; Max-Age=60\r\n"
        b"X-Upstream: yes\r\n"
        b"\r\n"
        b"6\r\nhello \r\n"
        b"6\r\nworld!\r\n"
        b"0\r\n\r\n"
    )

    def __init__(self):
        self.requests: list[tuple[str, bytes]] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                while length and len(body) < int(length.group(1)):
                    body += conn.recv(65536)
                self.requests.append((head.decode("latin-1"), body))
                conn.sendall(self.ANSWER)

    def close(self):
        self._sock.close()
        self._thread.join(timeout=5)


def test_a_chunked_keep_alive_answer_is_passed_on_whole_with_its_length():
    upstream = _ChunkedUpstream()
    try:
        front = Front(upstream=Upstream(upstream.url))
        body = b'{"note": "x"}'
        through = _through(
            front,
            "POST",
            "/api/v1/flash-sales/7/orders?lang=en",
            [
                ("Host", "shop.example.com"),
                ("Content-Type", "application/json"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "keep-alive"),
                ("Keep-Alive", "300"),
                ("TE", "trailers"),
                ("X-Request-ID", "req-chunked"),
                ("Cookie", "django_language=en"),
            ],
            body,
        )
    finally:
        upstream.close()
    assert through.status == 200
    assert through.body == b"hello world!"
    assert through.one("content-length") == "12"
    assert not _HOP & {k for k, _ in through.headers}
    assert through.all("set-cookie") == [
        "first=1; Path=/; HttpOnly",
        "second=2; Path=/shop; Max-Age=60",
    ]
    assert through.one("x-upstream") == "yes"
    # What the upstream was sent: the request as it came, its body with its own length,
    # none of the client's connection headers.
    [(head, received)] = upstream.requests
    lines = head.split("\r\n")
    assert lines[0] == "POST /api/v1/flash-sales/7/orders?lang=en HTTP/1.1"
    sent = [line.split(": ", 1) for line in lines[1:]]
    sent = [(k.lower(), v) for k, v in sent]
    names = [k for k, _ in sent]
    assert received == body
    assert names.count("content-length") == 1
    assert ("content-length", str(len(body))) in sent
    assert not _HOP & set(names)
    assert ("x-request-id", "req-chunked") in sent
    assert ("cookie", "django_language=en") in sent
    assert ("host", "shop.example.com") in sent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_upstream_that_is_down_is_a_502():
    front = Front(upstream=Upstream(f"http://127.0.0.1:{_free_port()}"))
    through = _through(front, "GET", "/api/v1/products?limit=1", [("Host", "shop.example.com")])
    assert through.status == 502
    assert through.json()["code"] == "upstream_unavailable"
    assert through.one("content-type") == "application/json; charset=utf-8"
    assert through.one("content-length") == str(len(through.body))


# --- environ_of: the WSGI environ `quanzi serve` builds ----------------------------------------

ECHO_APP = """
import json
import os

def application(environ, start_response):
    # The server also copies its own process's environment in (as CGI did): left out.
    body = json.dumps(
        {k: v for k, v in environ.items()
         if k.isupper() and isinstance(v, str) and os.environ.get(k) != v}
        | {"wsgi.url_scheme": environ["wsgi.url_scheme"],
           "wsgi.input": environ["wsgi.input"].read().decode()}
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
"""


def _served_environ(tmp_path, raw: bytes) -> dict:
    """The environ ``quanzi serve``'s HTTP server (granian, a real process) builds of the
    request ``raw``, as an application behind it reads it."""
    import subprocess
    import sys
    import time

    (tmp_path / "environ_echo.py").write_text(ECHO_APP)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--no-ws", "--workers", "1"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
        + ["--working-dir", str(tmp_path), "environ_echo:application"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the server never listened"
                time.sleep(0.1)
        with conn:
            conn.sendall(raw.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    finally:
        server.terminate()
        server.wait(timeout=30)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    environ = json.loads(body)
    environ.pop("HTTP_CONNECTION")
    return environ


def test_environ_of_is_the_environ_the_wsgi_server_builds(tmp_path):
    body = b'{"sku_id": 1}'
    headers = [
        ("Host", "shop.example.com"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("X-Forwarded-For", "203.0.113.9"),
        ("X-Forwarded-For", "10.0.0.2"),
        ("Accept-Language", "zh-hans"),
        ("Authorization", "Bearer abc"),
        ("X-Device-Id", "dev-1"),
    ]
    target = "/api/v1/flash-sales/12/orders?lang=en&q=%E4%B8%AD"
    raw = (
        f"POST {target} HTTP/1.1\r\n".encode()
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)
        + b"\r\n"
        + body
    )
    served = _served_environ(tmp_path, raw)
    client = (served["REMOTE_ADDR"], int(served.get("REMOTE_PORT", 0)))
    server = (served["SERVER_NAME"], int(served["SERVER_PORT"]))
    ours = environ_of(_scope("POST", target, headers, server=server) | {"client": client}, body)

    # The CGI keys and the scheme, as the server has them (less what it adds that nothing
    # here reads: its name, the gateway's version, the client's port).
    keys = {k for k in served if k.isupper()} - {
        "GATEWAY_INTERFACE",
        "REMOTE_PORT",
        "SERVER_SOFTWARE",
    }
    assert {k for k in ours if k.isupper()} == keys
    assert {k: ours[k] for k in keys} == {k: served[k] for k in keys}
    assert ours["wsgi.url_scheme"] == served["wsgi.url_scheme"] == "http"
    assert ours["wsgi.input"].read() == body == served["wsgi.input"].encode()

    # What that is, spelled out.
    assert ours["QUERY_STRING"] == "lang=en&q=%E4%B8%AD"
    assert ours["PATH_INFO"] == "/api/v1/flash-sales/12/orders"
    assert ours["CONTENT_TYPE"] == "application/json; charset=utf-8"
    assert ours["CONTENT_LENGTH"] == str(len(body))
    assert "HTTP_CONTENT_TYPE" not in ours and "HTTP_CONTENT_LENGTH" not in ours
    assert ours["HTTP_X_FORWARDED_FOR"] == "203.0.113.9,10.0.0.2"
    assert ours["REMOTE_ADDR"] == "127.0.0.1"
    assert ours["HTTP_AUTHORIZATION"] == "Bearer abc"


def test_environ_of_an_https_request_without_a_body():
    scope = _scope("GET", "/api/v1/me", [("Host", "shop.example.com")]) | {
        "scheme": "https",
        "client": ("2001:db8::1", 443),
        "server": ("shop.example.com", 443),
    }
    environ = environ_of(scope, b"")
    assert environ["wsgi.url_scheme"] == "https"
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("", "/api/v1/me")
    assert environ["REMOTE_ADDR"] == "2001:db8::1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("shop.example.com", "443")
    assert environ["QUERY_STRING"] == ""
    assert "CONTENT_LENGTH" not in environ and "CONTENT_TYPE" not in environ
    assert environ["wsgi.input"].read() == b""
