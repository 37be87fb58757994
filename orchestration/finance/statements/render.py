"""Rendering the statements: Jinja2 templates with autoescape on (whatever an account id or a
reason holds -- `<script>`, quotes -- is shown as text), safe file names, the Chinese labels of
the marts' codes, and the accrual chart as inline SVG (no script, no network)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ...formatting import MONEY_UNIT, money, number, quantity

TEMPLATES = Path(__file__).parent / "templates"

# The marts' codes in Chinese (the English is the code itself, shown beside it)
ZH = {
    # R10's reasons
    "enrolled_after_campaign": "活动结束后才报名",
    "no_snapshot": "报名日无账号快照",
    "wrong_enrollment_channel": "报名渠道与账号类型不符",
    "commerce_not_enabled": "未开通短视频带货",
    "below_follower_threshold": "粉丝数未达门槛且非自营店",
    # reward_order_lines' reasons (D22)
    "video_not_found": "视频不存在",
    "video_not_commerce": "非带货视频",
    "video_of_other_account": "视频属于其他账号",
    "over_quota": "超出当日发布配额",
    "outside_periods": "不在基准期或活动期内",
    "refunded": "已退款",
    "cancelled": "已取消",
    "not_yet_settled": "已付款，尚未结算",
    "settled_after_cutoff": "结算晚于截止日",
    # periods, account types
    "baseline": "基准期",
    "window": "活动期",
    "outside": "期外",
    "merchant": "商家",
    "promoter": "带货者",
    # ledger lines and states
    "initial": "首次发放",
    "increase": "补发",
    "clawback": "追回",
    "adjustment": "人工调整",
    "pending": "待审批",
    "approved": "已审批",
    "rejected": "已驳回",
    "recorded": "待下次发放",
    # program_summary's metrics
    "enrolled_accounts": "报名账号",
    "accounts_by_status": "按资格的账号",
    "rewarded_accounts": "获得积分的账号",
    "capped_accounts": "封顶账号",
    "new_entrants": "新账号",
    "reward_points": "奖励积分",
    "reward_points_uncapped": "封顶前积分",
    "new_entrant_points": "新账号积分",
    "reward_base": "奖励基数",
    "window_gmv": "活动期 GMV",
    "baseline_gmv": "基准 GMV",
    "over_quota_gmv": "超配额 GMV",
    "quarantined_rows": "隔离的数据行",
    # the populations program_summary's figures count (D61)
    "eligible accounts": "符合资格的账号",
    "all enrolled accounts": "全部报名账号",
    "all datasets": "全部数据集",
}

_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_RESERVED = {"index", "con", "prn", "aux", "nul"} | {
    f"{d}{n}" for d in ("com", "lpt") for n in range(10)
}


def statement_file_name(account_id: str) -> str:
    """A file name inside the output folder for any account id: the id itself when it is plain
    (lower-case letters, digits, `.`, `_`, `-`), else its plain characters and a digest of the
    whole id -- no path separator, no leading dot, no two ids on one name, even on a
    case-insensitive file system."""
    if _SAFE_NAME.fullmatch(account_id) and account_id.split(".")[0] not in _RESERVED:
        return f"{account_id}.html"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", account_id).strip("_-")[:60] or "account"
    return f"{slug}-{hashlib.sha256(account_id.encode()).hexdigest()[:12]}.html"


def _money(value: Decimal | None) -> str:
    return "" if value is None else money(value)


def _points(value: int | None) -> str:
    return "" if value is None else f"{int(value):,}"


def _signed(value: int | None) -> str:
    return "" if value is None else f"{int(value):+,}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=_money,
        points=_points,
        signed=_signed,
        quantity=quantity,
        signed_money=lambda value: number(value, MONEY_UNIT, signed=True),
    )
    env.globals["zh"] = lambda code: ZH.get(code, "") if code else ""
    return env


def accrual_chart(
    rows: Sequence[dict[str, Any]], window_days: int, width: int = 720, height: int = 260
) -> dict[str, Any] | None:
    """The accrual's two lines -- points to date and the projection -- as SVG coordinates over
    the whole window (pixels, not money: the numbers themselves are printed beside the chart)."""
    if not rows:
        return None
    left, right, top, bottom = 70, 20, 20, 40
    top_value = max(max(r["projected_points"], r["points_to_date"]) for r in rows) or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(day: int) -> float:
        return round(left + plot_w * (day - 1) / max(window_days - 1, 1), 1)

    def y(value: int) -> float:
        return round(top + plot_h * (1 - value / top_value), 1)

    def line(column: str) -> str:
        return " ".join(f"{x(r['days_elapsed'])},{y(r[column])}" for r in rows)

    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "top": top,
        "bottom": height - bottom,
        "points_line": line("points_to_date"),
        "projected_line": line("projected_points"),
        "y_ticks": [(y(v), f"{v:,}") for v in (0, top_value // 2, top_value)],
        "x_ticks": [(x(d), d) for d in sorted({1, (window_days + 1) // 2, window_days})],
        "last": rows[-1],
    }
