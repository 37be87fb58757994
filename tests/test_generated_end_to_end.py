"""`rewards generate --dirty` data through `rewards run`: rewards from the clean rows, every
injected defect counted under its reason (R12) in the printed summary and in its quality
warning, nothing blocking, and the reconciliation closing."""

from __future__ import annotations

import json
import re
import subprocess

from support.pipeline import REWARDS, quarantine_warnings, query, shell_env

from orchestration.contract import all_reasons


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
    start = lines.index(next(x for x in lines if x.startswith("all enrolled accounts")))
    progress, summary = lines[:start], lines[start:]

    # the summary's quarantine figures (program_summary, D61), per dataset, reason and rule,
    # added up by reason
    quarantined: dict[str, int] = {}
    for line in summary:
        found = re.fullmatch(r"quarantined rows: \w+: (\w+) \(R\d+\) +([\d,]+) rows?", line)
        if found:
            reason, n = found.group(1), int(found.group(2).replace(",", ""))
            quarantined[reason] = quarantined.get(reason, 0) + n
    assert quarantined == expected
    total = sum(expected.values())
    assert re.search(
        rf"^quarantined rows \(all datasets\) +{total:,} rows$", "\n".join(summary), re.M
    )
    assert "reconciliation      closes (R12)" in summary
    # each contract reason also failed its warn check with the same count, and nothing else did:
    # as the run went; the summary does not list them again (D62)
    failed = [x.split("] ", 1)[1].strip() for x in progress if "! warning" in x or "✗" in x]
    warned = quarantine_warnings(failed)
    assert warned == {r: n for r, n in expected.items() if r in set(all_reasons())}
    assert not [x for x in summary if "warning:" in x]
    assert any(
        x.startswith("quality checks")
        and x.endswith(
            f"{len(failed)} warnings ({len(failed)} of them the contract's quarantined rows above)"
        )
        for x in summary
    )
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
