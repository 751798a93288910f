"""The API's base ``Schema`` and the shared field types.

Every API schema derives from ``Schema`` here, never from ``ninja.Schema`` directly:

* **Strict types.** An ``int`` field takes a JSON integer and nothing else: not ``true``,
  not ``1.0``, not ``" 1"``. A ``bool`` takes ``true`` / ``false`` only, a ``str`` only a
  string. Money, quantities and ids are therefore never guessed from a lookalike.
  Dates and times are the one exception: JSON has no date type, so ``Datetime`` / ``Date`` / ``Time``
  take ISO 8601 strings.
* **Unknown fields are ignored** (not refused): a client built against a newer schema
  keeps working against an older server, and a field the server does not know never
  reaches a service, because services read the schema's fields, not the raw body.
* **Bounded integers.** ``Id`` is positive and fits a database id column; ``Money`` (fen),
  ``Qty`` and ``Count`` have ceilings far above any real shop, so an out-of-range number is
  a 422 at the door instead of a database error.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from ninja import Schema as NinjaSchema
from pydantic import ConfigDict, Field

MAX_ID = 2**63 - 1  # bigint / SQLite INTEGER
MAX_INT32 = 2**31 - 1  # integer columns
MAX_MONEY = 100_000_000_000  # fen: one billion yuan
MAX_QTY = 1_000_000


class Schema(NinjaSchema):
    model_config = ConfigDict(strict=True, extra="ignore")


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Money = Annotated[int, Field(ge=0, le=MAX_MONEY)]
Qty = Annotated[int, Field(ge=1, le=MAX_QTY)]
Count = Annotated[int, Field(ge=0, le=MAX_INT32)]
Datetime = Annotated[datetime, Field(strict=False)]
Date = Annotated[date, Field(strict=False)]
Time = Annotated[time, Field(strict=False)]


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any]
