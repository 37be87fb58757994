"""`rewards generate --dirty` data through `rewards run`: rewards from the clean rows, every
injected defect counted under its reason (R12) in the printed summary and in its quality
warning, nothing blocking, and the reconciliation closing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.pipeline import quarantine_warnings, query, shell_env

from orchestration.contract import all_reasons

REWARDS = str(Path(sys.executable).parent / "rewards")


def test_dirty_generated_landing_end_to_end(tmp_path):
    landing = tmp_path / "landing"
    done = subprocess.run(
        [REWARDS, "generate", "--out", str(landing), "--orders", "5000", "--seed", "11", "--dirty"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((landing / "_manifest.json").read_text())
    expected = manifest["expected_quarantine"]
    assert expected and all(n > 0 for n in expected.values())

    warehouse = tmp_path / "w.duckdb"
    run = subprocess.run(
        [REWARDS, "run"],
        capture_output=True,
        text=True,
        timeout=600,
        env=shell_env(landing, warehouse),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    summary = lines[lines.index(next(x for x in lines if x.startswith("accounts enrolled"))) :]

    # the summary's quarantine section, reason by reason
    for reason, n in expected.items():
        assert f"  {reason:<28}{n:>8,}" in summary, reason
    assert f"quarantined rows    {sum(expected.values()):>14,}" in summary
    assert "reconciliation      closes (R12)" in summary
    # each contract reason also failed its warn check with the same count, and nothing else did
    warned = quarantine_warnings(x.strip() for x in summary if x.strip().startswith(("!", "✗")))
    assert warned == {r: n for r, n in expected.items() if r in set(all_reasons())}
    assert any(
        x.startswith("data docs") and x.endswith("w.gx/data_docs/index.html") for x in summary
    )
    eligible, accounts = query(
        warehouse, "select count(*) filter (where is_eligible), count(*) from marts.account_rewards"
    )[0]
    assert accounts > 0 and 0 < eligible < accounts
    # no quarantined order id reaches the reward path
    leaked = query(
        warehouse,
        """
        select count(*) from intermediate.int_short_video_orders o
        join marts.quarantine q on q.record->>'order_id' = o.order_id
        where o.treatment <> 'quarantined' and q.dataset = 'orders'
    """,
    )
    assert leaked == [(0,)]
