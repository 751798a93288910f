#!/usr/bin/env bash
# A few-second run of each benchmark, to prove they still work. Figures only: timing
# never fails this; a crash, an error count or oversold units do (the scripts exit non-zero).
set -euo pipefail
cd "$(dirname "$0")/.."
URL="postgres://postgres@127.0.0.1:5432/qz_bench_ci"
python bench/checkout.py --database-url "$URL" --seconds 3 --clients 4 --users 200 --products 100
python bench/checkout.py --database-url "$URL" --seconds 3 --clients 4 --users 200 --products 100 --hot --hot-stock 20
python bench/groups.py --database-url "$URL" --seconds 3 --clients 4 --size 3 --expired 200
python bench/groups_refusal.py --database-url "$URL" --requests 40 --block 10
python bench/settlement.py --database-url "$URL" --orders 200
python bench/flash.py --database-url "$URL" --clients 4 --allotment 20 --baseline-seconds 1 --workers 2
# the same with no token cached: every buy handed by the front to quanzi serve
python bench/flash.py --database-url "$URL" --clients 4 --allotment 20 --baseline-seconds 1 --workers 2 --cold-tokens
# wrk's C clients buy, and pgbench measures the one-row limit beside them
python bench/flash.py --database-url "$URL" --clients 4 --allotment 20 --baseline-seconds 1 --workers 2 --driver wrk
# one process: the gate request through Django, the WSGI fast path and the async front
python bench/flash_profile.py --database-url "$URL" --orders 40 --gate-only
# the floor of one signed-in request, in one process and through quanzi serve
python bench/request_cost.py --database-url "$URL" --requests 100 --seconds 1 --rounds 1
