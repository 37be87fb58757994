"""What the serving copy holds: shared by the run that writes it (defs/serving/copy.py) and by
finance, which reads it (finance/serving.py), so neither imports the other."""

from __future__ import annotations

from datetime import datetime
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
