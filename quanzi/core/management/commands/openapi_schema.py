"""Print the API's OpenAPI schema, write it, or check it against the committed file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def current_schema() -> str:
    from quanzi.core.api import api

    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print, write (--write FILE) or check (--check FILE) the OpenAPI schema."

    def add_arguments(self, parser):
        parser.add_argument("--write", metavar="FILE")
        parser.add_argument("--check", metavar="FILE")

    def handle(self, *args, write=None, check=None, **options):
        schema = current_schema()
        if write:
            Path(write).write_text(schema, encoding="utf-8")
            self.stdout.write(f"wrote {write}")
        elif check:
            path = Path(check)
            committed = path.read_text(encoding="utf-8") if path.exists() else ""
            if committed != schema:
                raise CommandError(
                    f"the API schema drifted from {check}; review the change and run "
                    f"`python manage.py openapi_schema --write {check}`"
                )
            self.stdout.write("openapi schema ok")
        else:
            self.stdout.write(schema, ending="")
