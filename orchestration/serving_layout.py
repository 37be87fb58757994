"""What the serving copy holds: shared by the run that writes it (defs/serving/copy.py) and by
finance, which reads it (finance/serving.py), so neither imports the other."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# The marts copied, in the order written; reward_order_lines is a view in the warehouse and
# becomes a table here.
SERVED_MARTS = (
    "account_rewards",
    "account_eligibility",
    "reward_order_lines",
    "video_quota",
    "program_summary",
    "reward_accrual",
    "quarantine",
    "reconciliation",
)


def local_now(timezone: str) -> str:
    """Now, ISO-8601 with the offset of the programme's timezone (Beijing, R1)."""
    return datetime.now(ZoneInfo(timezone)).isoformat(timespec="seconds")


def served_generation(serving_copy: Path) -> str | None:
    """The file finance's serving copy is now (the link's target), None when there is none: a
    run that publishes switches the link to the other generation (D23)."""
    if serving_copy.is_symlink():
        return os.readlink(serving_copy)
    return str(serving_copy.stat().st_mtime_ns) if serving_copy.exists() else None
