"""`rewards statements --out DIR [--account ID]`: one self-contained HTML statement per enrolled
account, in Chinese and English (the payees read Chinese), plus `index.html` with the
programme's totals and the accrual chart (D39).

A statement shows, in order: the programme terms from the published run's rule vars, the
eligibility and the snapshot it was judged on, baseline and window GMV with order counts (and
the counted orders), the orders excluded with their reasons, the over-quota days and the GMV
they cost, the formula with its numbers and the cap, the payout history (the lines of approved
runs, paid, and of a pending run, marked pending; an adjustment with its reason and reference:
the payee's money and nothing internal, D66), and paid to date (approved runs only). Everything
is read from the serving copy and the ledger, so the statements can be written while a run is
going; nothing is computed here that the marts or the ledger did not write. The set is written
aside and moved into place as a whole (D63).

Pages are rendered by Jinja2 with autoescape on, from files in templates/; they load nothing
(styles inline, the chart is inline SVG), so they open from a copied folder or an email.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ...rule_vars import period_days
from ...serving_layout import local_now
from ..explain import UnknownAccount, eligibility_tests
from ..ledger.history import read_ledger
from ..serving import open_serving_copy, read_build_info, require_marts
from ..writing import foreign_entries, write_folder
from .data import account_batches, read_index, read_programme, read_statements
from .render import accrual_chart, environment, statement_file_name

# R10's tests in Chinese, by the marts' column (explain.eligibility_tests gives the English)
TESTS_ZH = {
    "passes_enrolled_in_time": "在活动结束前报名",
    "passes_snapshot_exists": "报名日或之前有账号快照",
    "passes_enrollment_channel": "按账号类型的渠道报名（商家：店铺账号；带货者：视频号）",
    "passes_commerce_enabled": "已开通短视频带货",
    "passes_follower_threshold": "粉丝数达到门槛，或为自营店",
}


@dataclass(frozen=True)
class Written:
    statements: int
    index: Path
    seconds: float


def programme_terms(rule_vars: dict[str, Any]) -> dict[str, Any]:
    """The rule vars as a statement states them (R1, R3, R5-R11)."""
    v = {k: str(val) if not isinstance(val, list) else val for k, val in rule_vars.items()}
    tiers = v["quota_tiers"]
    tiers = json.loads(tiers) if isinstance(tiers, str) else tiers
    tiers = sorted((int(low), int(quota)) for low, quota in tiers)
    rows = []
    for i, (low, quota) in enumerate(tiers):
        high = tiers[i + 1][0] - 1 if i + 1 < len(tiers) else None
        label = f"{low:,} – {high:,}" if high is not None else f"≥ {low:,}"
        rows.append({"label": label, "quota": quota})
    if tiers and tiers[0][0] > 0:
        rows.insert(0, {"label": f"< {tiers[0][0]:,}", "quota": 0})
    return {
        **v,
        "reward_cap_points": int(v["reward_cap_points"]),
        "min_followers": int(v["min_followers"]),
        "window_days": period_days(v, "campaign_start", "campaign_end"),
        "baseline_days": period_days(v, "baseline_start", "baseline_end"),
        "quota_tiers": rows,
    }


def write_statements(
    serving_copy: Path, ledger: Path, out_dir: Path, *, account_id: str | None = None
) -> Written:
    """Every enrolled account's statement (or `account_id`'s alone) and the index, written into
    a new folder beside `out_dir` that then replaces it as a whole (D63): a failed run leaves
    `out_dir` as it was, never part of a set or a new set mixed with an old one."""
    started = time.monotonic()
    written = write_folder(
        out_dir,
        lambda folder: _write_set(serving_copy, ledger, folder, account_id),
        may_replace=lambda folder: _not_a_set_to_replace(folder, account_id),
    )
    return Written(written, out_dir / "index.html", time.monotonic() - started)


def _not_a_set_to_replace(folder: Path, account_id: str | None) -> str | None:
    """Why an existing `folder` must not be replaced by a new set, or None (D63): it holds other
    files than statements (someone's folder), or, for one account's statement, the statements
    of other accounts (a whole set, which one statement must not replace)."""
    foreign = foreign_entries(folder, ".html")
    if foreign:
        return (
            f"it holds {foreign[0]}"
            + (f" and {len(foreign) - 1:,} more" if len(foreign) > 1 else "")
            + ", not statements, and a new set of statements replaces the whole folder"
        )
    if account_id is not None:
        keep = {"index.html", statement_file_name(account_id)}
        others = [p.name for p in folder.iterdir() if p.name.endswith(".html")]
        others = [name for name in others if name not in keep]
        if others:
            return (
                f"it holds the statements of {len(others):,} other account(s), which one "
                "account's statement would replace"
            )
    return None


def _write_set(serving_copy: Path, ledger: Path, out_dir: Path, account_id: str | None) -> int:
    """Write the statements and the index into the new folder `out_dir`; returns how many."""
    env = environment()
    statement_page = env.get_template("statement.html.j2")
    index_page = env.get_template("index.html.j2")
    with open_serving_copy(serving_copy, ledger) as con:
        build = read_build_info(con)
        require_marts(con, "reward_accrual")
        read_ledger(con)
        terms = programme_terms(build.rule_vars)
        issued_at = local_now(build.rule_vars["timezone"])
        batches = account_batches(con, account_id)
        if account_id is not None and not batches:
            raise UnknownAccount(
                f"{account_id} is not an enrolled account in the published marts "
                f"(run {build.dagster_run_id}); only enrolled accounts have statements (R10)"
            )
        rows = read_index(con)
        for row in rows:
            row["file"] = statement_file_name(row["account_id"])
        programme = read_programme(con)
        written = 0
        with click.progressbar(
            length=sum(len(b) for b in batches), label="statements", file=sys.stderr, show_pos=True
        ) as progress:
            for batch in batches:
                for s in read_statements(con, batch):
                    tests = [
                        {"zh": TESTS_ZH[column], "en": label, "result": passed}
                        for column, label, passed in eligibility_tests(
                            s.eligibility, build.rule_vars
                        )
                    ]
                    page = statement_page.render(
                        s=s, build=build, terms=terms, tests=tests, issued_at=issued_at
                    )
                    (out_dir / statement_file_name(s.account_id)).write_text(page, "utf-8")
                    written += 1
                progress.update(len(batch))
    chart = accrual_chart(programme["accrual"], terms["window_days"])
    (out_dir / "index.html").write_text(
        index_page.render(
            rows=rows,
            programme=programme,
            chart=chart,
            build=build,
            terms=terms,
            issued_at=issued_at,
        ),
        "utf-8",
    )
    return written
