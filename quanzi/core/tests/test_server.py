"""``quanzi serve``'s master: what it loads before forking is warmed once and frozen."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc, sys
import django
django.setup()
from quanzi.core.server import warm_up
warm_up(freeze=sys.argv[1] == "1")
print(gc.get_freeze_count())
"""


def _frozen_after_warm_up(tmp_path, freeze: bool) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANZI_")}
    env.update({"QUANZI_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "quanzi.settings"})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "1" if freeze else "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_the_master_freezes_what_it_loaded_so_no_worker_collection_walks_it(tmp_path):
    # The URLconf, the API with its schemas, the translations: hundreds of thousands of
    # objects that live as long as the process.
    assert _frozen_after_warm_up(tmp_path, freeze=True) > 100_000
    # A process that is not about to fork (the async front's thread) freezes nothing.
    assert _frozen_after_warm_up(tmp_path, freeze=False) == 0
