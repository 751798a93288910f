"""A stand-in for WeChat's HTTP API, served on a local port for the tests (no internet).

It answers the calls Quanzi makes (code2Session, the access token, OAuth, the JS-SDK
ticket, getwxacodeunlimit, subscribe send, the phone number, msg_sec_check) the way
WeChat does, errors included, and records what it was asked. ``fail(path, ...)`` queues
answers for a path: an ``errcode`` (40029, 42001, 45009…) or ``"timeout"`` (it answers
too late).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

# The colour of the "小程序码" the stand-in draws (a plain square, easy to find).
CODE_GREEN = (7, 193, 96)


def code_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (280, 280), CODE_GREEN).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Person:
    openid: str
    unionid: str = ""
    nickname: str = "微信用户"
    session_key: str = ""


@dataclass
class State:
    apps: dict[str, str] = field(default_factory=dict)  # app id → secret
    codes: dict[str, tuple[str, Person]] = field(default_factory=dict)  # code → (app, who)
    used_codes: set[str] = field(default_factory=set)
    tokens: dict[str, str] = field(default_factory=dict)  # live token → app id
    expired_tokens: set[str] = field(default_factory=set)
    tickets: dict[str, str] = field(default_factory=dict)  # ticket → app id
    phone_codes: dict[str, str] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # word → "risky" / "review"
    failures: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    calls: Counter = field(default_factory=Counter)  # path → count
    sent: list[dict] = field(default_factory=list)  # subscribe messages delivered
    log: list[tuple[str, dict, dict]] = field(default_factory=list)
    delay: float = 0.0  # seconds every answer waits (to widen races)
    slow_seconds: float = 2.0  # how long a "timeout" answer waits


class FakeWechat:
    def __init__(self, port: int):
        self.state = State()
        self.lock = threading.Lock()
        handler = _handler_for(self)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.state = State()

    # -- scripting --------------------------------------------------------------------

    def add_app(self, app_id: str, secret: str) -> None:
        self.state.apps[app_id] = secret

    def code_for(self, app_id: str, person: Person) -> str:
        code = "code-" + secrets.token_hex(6)
        if not person.session_key:
            person.session_key = _b64(secrets.token_bytes(16))
        self.state.codes[code] = (app_id, person)
        return code

    def fail(self, path: str, *answers) -> None:
        self.state.failures[path].extend(answers)

    def expire_tokens(self) -> None:
        with self.lock:
            self.state.expired_tokens.update(self.state.tokens)
            self.state.tokens.clear()

    # -- answering --------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict, body: dict):
        """(status, content type, bytes or JSON-able, extra headers)."""
        st = self.state
        with self.lock:
            st.calls[path] += 1
            st.log.append((path, query, body))
            queued = st.failures.get(path)
            failure = queued.pop(0) if queued else None
        if st.delay:
            time.sleep(st.delay)
        if failure == "timeout":
            time.sleep(st.slow_seconds)
            return _err(-1, "system busy")
        if isinstance(failure, int):
            return _err(failure, f"stand-in error {failure}")
        route = ROUTES.get(path)
        if route is None:
            return 404, "application/json", {"errcode": 404, "errmsg": "no such api"}, {}
        if path in NEEDS_TOKEN:
            token = query.get("access_token", "")
            if token in st.expired_tokens:
                return _err(42001, "access_token expired")
            if token not in st.tokens:
                return _err(40001, "invalid credential, access_token is invalid")
            query["_app"] = st.tokens[token]
        return route(self, query, body)


def _err(errcode: int, errmsg: str):
    return 200, "application/json", {"errcode": errcode, "errmsg": errmsg}, {}


def _ok(data: dict):
    return 200, "application/json", data, {}


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def _redeem_code(fake: FakeWechat, q: dict, code: str):
    """WeChat's checks on a login code: the app's secret, then the code (once, for this
    app). Returns the person, or the error answer."""
    st = fake.state
    if st.apps.get(q.get("appid")) != q.get("secret"):
        return None, _err(40125, "invalid appsecret")
    with fake.lock:
        if code in st.used_codes:
            return None, _err(40163, "code been used")
        found = st.codes.get(code)
        if found is None or found[0] != q.get("appid"):
            return None, _err(40029, "invalid code")
        st.used_codes.add(code)
    return found[1], None


def _code2session(fake: FakeWechat, q: dict, body: dict):
    person, error = _redeem_code(fake, q, q.get("js_code", ""))
    if error:
        return error
    data = {"openid": person.openid, "session_key": person.session_key}
    if person.unionid:
        data["unionid"] = person.unionid
    return _ok(data)


def _token(fake: FakeWechat, q: dict, body: dict):
    st = fake.state
    app_id = q.get("appid", "")
    if st.apps.get(app_id) != q.get("secret"):
        return _err(40125, "invalid appsecret")
    token = "tok-" + secrets.token_hex(8)
    with fake.lock:
        st.tokens[token] = app_id
    return _ok({"access_token": token, "expires_in": 7200})


def _oauth_authorize(fake: FakeWechat, q: dict, body: dict):
    """WeChat's consent page: the person in ``oauth_person`` agrees at once."""
    st = fake.state
    person = getattr(fake, "oauth_person", None)
    if person is None or q.get("appid") not in st.apps:
        return 400, "text/plain", b"no WeChat user", {}
    code = fake.code_for(q["appid"], person)
    st.codes[code] = (q["appid"], person)
    target = q["redirect_uri"]
    sep = "&" if "?" in target else "?"
    location = f"{target}{sep}{urlencode({'code': code, 'state': q.get('state', '')})}"
    return 302, "text/plain", b"", {"Location": location}


def _oauth_token(fake: FakeWechat, q: dict, body: dict):
    st = fake.state
    person, error = _redeem_code(fake, q, q.get("code", ""))
    if error:
        return error
    token = "web-" + secrets.token_hex(8)
    st.tokens[token] = q["appid"]
    data = {
        "access_token": token,
        "expires_in": 7200,
        "refresh_token": "r-" + token,
        "openid": person.openid,
        "scope": "snsapi_userinfo",
    }
    if person.unionid:
        data["unionid"] = person.unionid
    fake.state.oauth_people = getattr(fake.state, "oauth_people", {})
    fake.state.oauth_people[token] = person
    return _ok(data)


def _userinfo(fake: FakeWechat, q: dict, body: dict):
    person = getattr(fake.state, "oauth_people", {}).get(q.get("access_token", ""))
    if person is None:
        return _err(40001, "invalid credential")
    data = {"openid": person.openid, "nickname": person.nickname, "headimgurl": ""}
    if person.unionid:
        data["unionid"] = person.unionid
    return _ok(data)


def _ticket(fake: FakeWechat, q: dict, body: dict):
    ticket = "ticket-" + secrets.token_hex(8)
    fake.state.tickets[ticket] = q["_app"]
    return _ok({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": 7200})


def _wxacode(fake: FakeWechat, q: dict, body: dict):
    scene = str(body.get("scene", ""))
    if not scene or len(scene) > 32:
        return _err(40169, "invalid length for scene")
    return 200, "image/png", code_png(), {}


def _subscribe_send(fake: FakeWechat, q: dict, body: dict):
    if not body.get("touser") or not body.get("template_id"):
        return _err(47003, "argument invalid")
    fake.state.sent.append(body)
    return _ok({"errcode": 0, "errmsg": "ok", "msgid": len(fake.state.sent)})


def _phone(fake: FakeWechat, q: dict, body: dict):
    phone = fake.state.phone_codes.pop(str(body.get("code", "")), None)
    if phone is None:
        return _err(40029, "invalid code")
    return _ok(
        {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {"phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86"},
        }
    )


def _sec_check(fake: FakeWechat, q: dict, body: dict):
    if not body.get("openid"):
        return _err(40003, "invalid openid")
    text = str(body.get("content", ""))
    for word, suggest in fake.state.words.items():
        if word in text:
            return _ok({"errcode": 0, "result": {"suggest": suggest, "label": 20001}})
    return _ok({"errcode": 0, "result": {"suggest": "pass", "label": 100}})


ROUTES = {
    "/sns/jscode2session": _code2session,
    "/cgi-bin/token": _token,
    "/connect/oauth2/authorize": _oauth_authorize,
    "/sns/oauth2/access_token": _oauth_token,
    "/sns/userinfo": _userinfo,
    "/cgi-bin/ticket/getticket": _ticket,
    "/wxa/getwxacodeunlimit": _wxacode,
    "/cgi-bin/message/subscribe/send": _subscribe_send,
    "/wxa/business/getuserphonenumber": _phone,
    "/wxa/msg_sec_check": _sec_check,
}
NEEDS_TOKEN = {
    "/cgi-bin/ticket/getticket",
    "/wxa/getwxacodeunlimit",
    "/cgi-bin/message/subscribe/send",
    "/wxa/business/getuserphonenumber",
    "/wxa/msg_sec_check",
}


def _handler_for(fake: FakeWechat):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _serve(self, method: str) -> None:
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {}
            status, ctype, payload, headers = fake.answer(method, parsed.path, query, body)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler
