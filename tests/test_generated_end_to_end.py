"""`rewards generate --dirty` data through the whole pipeline: rewards from the clean rows, every
injected defect counted under its reason (R12), and the reconciliation closing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import query, run_pipeline_on

REWARDS = str(Path(sys.executable).parent / "rewards")


def test_dirty_generated_landing_end_to_end(tmp_path):
    landing = tmp_path / "landing"
    done = subprocess.run(
        [REWARDS, "generate", "--out", str(landing), "--orders", "5000", "--seed", "11",
         "--dirty"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((landing / "_manifest.json").read_text())
    expected = manifest["expected_quarantine"]
    assert expected and all(n > 0 for n in expected.values())

    warehouse = tmp_path / "w.duckdb"
    summary = run_pipeline_on(landing, warehouse)

    assert summary.quarantined_by_reason == expected
    assert summary.unbalanced_identities == []
    assert summary.accounts > 0 and 0 < summary.eligible < summary.accounts
    # no quarantined order id reaches the reward path
    leaked = query(warehouse, """
        select count(*) from intermediate.int_short_video_orders o
        join marts.quarantine q on q.record->>'order_id' = o.order_id
        where o.treatment <> 'quarantined' and q.dataset = 'orders'
    """)
    assert leaked == [(0,)]
