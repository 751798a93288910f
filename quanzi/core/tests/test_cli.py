"""The command line explains itself: every flag says what it does, and ``quanzi demo``
prints both demo logins (the operator's and the shopper's) and both API doc pages."""

from __future__ import annotations

import argparse

import pytest

from quanzi import cli


def _parsers(parser: argparse.ArgumentParser, name: str = "quanzi"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_flag_of_every_command_has_help():
    missing = []
    for name, parser in _parsers(cli.build_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_demo_prints_the_operator_and_the_shopper_logins(monkeypatch, capsys):
    from quanzi.core import demo as demo_module
    from quanzi.core import server

    monkeypatch.setenv("QUANZI_LOG_LEVEL", "INFO")  # cmd_demo sets its own default
    monkeypatch.setattr(cli, "_setup", lambda: None)
    monkeypatch.setattr(demo_module, "demo_load", lambda: False)
    monkeypatch.setattr(server, "serve", lambda **kwargs: 0)
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **k: None)

    class Worker:
        def send_signal(self, sig): ...

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(cli.subprocess, "Popen", lambda *a, **k: Worker())
    assert cli.main(["demo", "--port", "18479"]) == 0
    out = capsys.readouterr().out
    operator, customer = demo_module.DEMO_OPERATOR, demo_module.DEMO_CUSTOMER
    assert f"{operator[0]} / {operator[1]}" in out
    assert f"{customer[0]} / {customer[1]}" in out
    assert "/api/v1/docs" in out and "/api/v1/redoc" in out


@pytest.mark.django_db
def test_api_docs_pages_point_at_local_files(client):
    docs = client.get("/api/v1/docs").content.decode()
    redoc = client.get("/api/v1/redoc").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert "/api/v1/redoc.js" in redoc and "cdn" not in redoc.lower()
    script = client.get("/api/v1/redoc.js").content
    assert b"cdn.redoc.ly" not in script and len(script) > 100_000
