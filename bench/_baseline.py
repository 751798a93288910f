"""The raw-SQL baseline: the order transaction without the application around it.

One transaction per order, the shape the application writes when an order is placed and
paid: reserve stock with a conditional update, insert the order and its line, insert the
payment's journal entry and its two postings. It runs against copies of the real tables
(same columns, indexes, checks and foreign keys) in a schema of its own, so it leaves
the application's data alone, with C connections for S seconds, by pgbench when it is
installed (a C client that costs the machine little) or by psycopg otherwise.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

from _common import libpq_url, pg_connect

SCHEMA = "bench_baseline"

_TABLES = {
    "sku": "catalog_sku",
    "orders": "orders_order",
    "orderline": "orders_orderline",
    "journalentry": "ledger_journalentry",
    "posting": "ledger_posting",
}

_SETUP = [
    f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE",
    f"CREATE SCHEMA {SCHEMA}",
    *[
        f"CREATE TABLE {SCHEMA}.{copy} (LIKE public.{real} INCLUDING ALL)"
        for copy, real in _TABLES.items()
    ],
    f"""ALTER TABLE {SCHEMA}.orders ADD FOREIGN KEY (user_id)
        REFERENCES public.accounts_user(id) DEFERRABLE INITIALLY DEFERRED""",
    f"""ALTER TABLE {SCHEMA}.orderline ADD FOREIGN KEY (order_id)
        REFERENCES {SCHEMA}.orders(id) DEFERRABLE INITIALLY DEFERRED""",
    f"""ALTER TABLE {SCHEMA}.orderline ADD FOREIGN KEY (sku_id)
        REFERENCES {SCHEMA}.sku(id) DEFERRABLE INITIALLY DEFERRED""",
    f"""ALTER TABLE {SCHEMA}.orderline ADD FOREIGN KEY (product_id)
        REFERENCES public.catalog_product(id) DEFERRABLE INITIALLY DEFERRED""",
    f"""ALTER TABLE {SCHEMA}.posting ADD FOREIGN KEY (entry_id)
        REFERENCES {SCHEMA}.journalentry(id) DEFERRABLE INITIALLY DEFERRED""",
    f"""ALTER TABLE {SCHEMA}.posting ADD FOREIGN KEY (account_id)
        REFERENCES public.ledger_account(id) DEFERRABLE INITIALLY DEFERRED""",
]

ADDRESS_JSON = '{"name": "压测", "city": "杭州市", "detail": "文三路 1 号"}'
BREAKDOWN_JSON = '{"retail": 0, "channel": 0, "coupon": 0, "points": 0, "paid": 0}'

# One statement per line: pgbench ends a command at ``;`` or at ``\gset``.
STATEMENTS = [
    "BEGIN",
    f"UPDATE {SCHEMA}.sku SET stock = stock - 1 WHERE id = :sku AND stock >= 1"
    " RETURNING product_id, price",
    f"INSERT INTO {SCHEMA}.orders (user_id, status, status_before_refund, channel, channel_ref,"
    " commission_enabled, total, discount, shipping, payable, points_used, refunded_amount,"
    " address, share_token, note, carrier, tracking_no, cancel_reason, created_at, expires_at,"
    " paid_at) VALUES (:uid, 'to_ship', '', 'normal', '', true, :price, 0, 0, :price, 0, 0,"
    f" '{ADDRESS_JSON}', '', '', '', '', '', now(), now() + interval '15 minutes', now())"
    " RETURNING id",
    f"INSERT INTO {SCHEMA}.orderline (order_id, sku_id, product_id, supplier_id, title,"
    " sku_name, image, qty, retail_price, unit_price, supply_price, coupon_discount,"
    " points_discount, paid, breakdown, refunded_qty, refunded_amount) VALUES (:order_id,"
    " :sku, :product_id, NULL, '压测商品', '规格 1', '', 1, :price, :price, 0, 0, 0, :price,"
    f" '{BREAKDOWN_JSON}', 0, 0)",
    f"INSERT INTO {SCHEMA}.journalentry (key, kind, order_id, payment_id, refund_id, memo,"
    " created_at) VALUES ('payment:' || :order_id, 'payment', :order_id, NULL, NULL, '', now())"
    " RETURNING id",
    f"INSERT INTO {SCHEMA}.posting (entry_id, account_id, unit, amount) VALUES"
    " (:entry_id, :acc_gw, 'CNY', :price), (:entry_id, :acc_cf, 'CNY', - :price)",
    "COMMIT",
]


def prepare(url: str, *, sku_ids: list[int]) -> None:
    """Copy the tables (empty) and the SKUs (with stock that never runs out)."""
    with pg_connect(url) as conn:
        for sql in _SETUP:
            conn.execute(sql)
        conn.execute(
            f"INSERT INTO {SCHEMA}.sku SELECT * FROM public.catalog_sku WHERE id = ANY(%s)",
            [sku_ids],
        )
        conn.execute(f"UPDATE {SCHEMA}.sku SET stock = 1000000000")
        conn.execute(f"ANALYZE {SCHEMA}.sku")


def drop(url: str) -> None:
    with pg_connect(url) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _pgbench_script() -> str:
    lines = [
        "\\set uid random(:uid_lo, :uid_hi)",
        "\\set sku random(:sku_lo, :sku_hi)",
    ]
    for sql in STATEMENTS:
        if "RETURNING product_id, price" in sql:
            lines.append(sql.replace(":sku", ":sku") + " \\gset")
        elif sql.startswith(f"INSERT INTO {SCHEMA}.orders "):
            lines.append(sql + " \\gset order_")
        elif sql.startswith(f"INSERT INTO {SCHEMA}.journalentry"):
            lines.append(sql + " \\gset entry_")
        else:
            lines.append(sql + ";")
    return "\n".join(lines) + "\n"


def pgbench(
    url: str,
    script: str,
    *,
    clients: int,
    seconds: float,
    threads: int,
    defines: dict[str, int] | None = None,
) -> dict:
    """Run pgbench's C clients on ``script`` (its text) against ``url`` for ``seconds``;
    ``defines`` become its ``-D`` variables. Returns tps, the transactions processed and
    the failed ones; raises when pgbench fails or prints no tps."""
    parts = urlsplit(libpq_url(url))
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(script)
        path = fh.name
    try:
        cmd = [shutil.which("pgbench") or "pgbench", "-n", "-M", "simple"]
        cmd += ["-c", str(clients), "-j", str(max(1, min(threads, clients)))]
        cmd += ["-T", str(max(1, int(round(seconds)))), "-f", path]
        for name, value in (defines or {}).items():
            cmd += ["-D", f"{name}={value}"]
        cmd += ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
        cmd += ["-U", parts.username or "postgres", parts.path.lstrip("/")]
        env = dict(os.environ)
        if parts.password:
            env["PGPASSWORD"] = parts.password
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(path)
    out = done.stdout + done.stderr
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    processed = re.search(r"number of transactions actually processed: (\d+)", out)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{out[-2000:]}")
    return {
        "tool": "pgbench",
        "tps": float(tps.group(1)),
        "transactions": int(processed.group(1)) if processed else 0,
        "failed": int(failed.group(1)) if failed else 0,
    }


async def _psycopg_loop(
    url: str,
    *,
    clients: int,
    seconds: float,
    uid_range: tuple[int, int],
    sku_range: tuple[int, int],
    accounts: tuple[int, int],
) -> dict:
    import random

    import psycopg

    def sql(index: int) -> str:
        text = STATEMENTS[index]
        for name in ("order_id", "entry_id", "product_id", "price", "uid", "sku"):
            text = text.replace(f":{name}", f"%({name})s")
        return (
            text.replace(":acc_gw", str(accounts[0]))
            .replace(":acc_cf", str(accounts[1]))
            .replace("%(uid)s", "%(uid)s")
        )

    update, order_ins, line_ins, entry_ins, post_ins = (sql(i) for i in range(1, 6))
    count = 0
    failed = 0

    async def worker(deadline: float) -> None:
        nonlocal count, failed
        rng = random.Random()
        async with await psycopg.AsyncConnection.connect(libpq_url(url)) as conn:
            while time.monotonic() < deadline:
                params = {
                    "uid": rng.randint(*uid_range),
                    "sku": rng.randint(*sku_range),
                }
                try:
                    async with conn.transaction():
                        cur = await conn.execute(update, params)
                        product_id, price = await cur.fetchone()
                        params.update(product_id=product_id, price=price)
                        cur = await conn.execute(order_ins, params)
                        params["order_id"] = (await cur.fetchone())[0]
                        await conn.execute(line_ins, params)
                        cur = await conn.execute(entry_ins, params)
                        params["entry_id"] = (await cur.fetchone())[0]
                        await conn.execute(post_ins, params)
                    count += 1
                except psycopg.Error:
                    failed += 1

    start = time.monotonic()
    await asyncio.gather(*(worker(start + seconds) for _ in range(clients)))
    elapsed = time.monotonic() - start
    return {"tool": "psycopg", "tps": count / elapsed, "transactions": count, "failed": failed}


def run(
    url: str,
    *,
    tool: str,
    clients: int,
    seconds: float,
    threads: int,
    uid_range: tuple[int, int],
    sku_range: tuple[int, int],
    accounts: tuple[int, int],
) -> dict:
    if tool == "auto":
        tool = "pgbench" if shutil.which("pgbench") else "psycopg"
    kwargs = dict(
        clients=clients,
        seconds=seconds,
        uid_range=uid_range,
        sku_range=sku_range,
        accounts=accounts,
    )
    if tool == "pgbench":  # the checkout's transaction shape (``_pgbench_script``)
        defines = {"uid_lo": uid_range[0], "uid_hi": uid_range[1]}
        defines |= {"sku_lo": sku_range[0], "sku_hi": sku_range[1]}
        defines |= {"acc_gw": accounts[0], "acc_cf": accounts[1]}
        script = _pgbench_script()
        return pgbench(
            url, script, clients=clients, seconds=seconds, threads=threads, defines=defines
        )
    return asyncio.run(_psycopg_loop(url, **kwargs))
