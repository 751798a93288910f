import asyncio
import json
import urllib.request
import urllib.error
from urllib.parse import urlsplit

import pytest

from quanzi.core.front import Front, Upstream

pytestmark = pytest.mark.django_db(transaction=True)


def _drive(front, method, target, headers=(), body=b""):
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 9),
    }
    sent = []
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(m):
        sent.append(m)
    async def serve():
        try:
            await front(scope, receive, send)
        finally:
            await front.upstream.close()
    asyncio.run(serve())
    return sent


@pytest.mark.parametrize("target", ["/static/storefront/app.css", "/login/", "/api/v1/flash-sales?limit=1"])
def test_probe(live_server, target):
    host = urlsplit(live_server.url).netloc
    front = Front(upstream=Upstream(live_server.url))
    for extra in ([], [("If-Modified-Since", "Wed, 01 Jan 2031 00:00:00 GMT")]):
        sent = _drive(front, "GET", target, [("Host", host)] + extra)
        print(target, extra, sent[0]["status"], sent[0]["headers"], len(sent[1]["body"]))
        req = urllib.request.Request(live_server.url + target, headers=dict(extra))
        try:
            with urllib.request.urlopen(req) as r:
                print("direct", r.status, r.headers.items())
        except urllib.error.HTTPError as e:
            print("direct", e.code, e.headers.items())
    assert 0
