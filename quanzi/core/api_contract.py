"""The answer contract: every API answer the test suite sees is one the schema documents.

The root ``conftest.py`` wraps Django's test client with ``check_response``: for each
request under ``/api/v1/`` it finds the operation in the committed ``docs/openapi.json``
and checks that

* the status code is documented for that operation;
* a JSON body validates against the documented schema for that status (so every error
  is ``{"code", "message", "detail"}`` and every success body has the documented fields
  and types);
* a documented answer without content (``204``) has no body.

A test that breaks the contract on purpose carries ``@pytest.mark.api_contract_exempt``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
API_PREFIX = "/api/v1/"
# The API's own documentation (Swagger UI, ReDoc and the schema itself): pages, not operations.
DOCUMENTATION = ("/api/v1/docs", "/api/v1/redoc", "/api/v1/redoc.js", "/api/v1/openapi.json")


class ContractViolation(AssertionError):
    pass


@cache
def _document() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _routes() -> list[tuple[str, re.Pattern, str]]:
    routes = []
    for template, methods in _document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
        for method in methods:
            routes.append((method.upper(), pattern, template))
    # Literal paths before templated ones (``/me/shop`` before ``/me/{x}``).
    routes.sort(key=lambda route: route[2].count("{"))
    return routes


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for route_method, pattern, template in _routes():
        if route_method == method.upper() and pattern.match(path):
            return template, _document()["paths"][template][method.lower()]
    return None


@cache
def _validator(template: str, method: str, status: str):
    import jsonschema_rs

    answer = _document()["paths"][template][method.lower()]["responses"][status]
    content = answer.get("content", {}).get("application/json")
    if content is None:
        return None
    schema = dict(content["schema"])
    schema["components"] = _document()["components"]
    return jsonschema_rs.Draft202012Validator(schema)


def check_response(method: str, path: str, response) -> None:
    """Raise ``ContractViolation`` when ``response`` is not what the schema documents."""
    if not path.startswith(API_PREFIX) or path in DOCUMENTATION:
        return
    found = find_operation(method, path)
    if found is None:
        if response.status_code == 404:
            return  # an address no endpoint serves: the API's JSON 404
        raise ContractViolation(f"{method} {path}: no such operation in {SCHEMA_PATH.name}")
    template, operation = found
    status = str(response.status_code)
    where = f"{method} {template} answered {status}"
    if status not in operation["responses"]:
        documented = ", ".join(sorted(operation["responses"]))
        raise ContractViolation(f"{where}, which the schema does not document ({documented})")
    validator = _validator(template, method, status)
    raw = response.content
    if validator is None:
        if raw and response.status_code == 204:
            raise ContractViolation(f"{where} with a body, documented without content")
        return
    if not response.get("Content-Type", "").startswith("application/json"):
        raise ContractViolation(f"{where} as {response.get('Content-Type')}, not JSON")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ContractViolation(f"{where} with a body that is not JSON: {raw[:200]!r}") from exc
    errors = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)
    ]
    if errors:
        raise ContractViolation(
            f"{where} with a body that does not match the schema:\n  " + "\n  ".join(errors[:10])
        )
