"""The payout ledger: what has been paid, as append-only rows in a DuckDB file of its own
(`<warehouse>.ledger.duckdb`, schema `ledger`; D24, D35-D38).

* `publish` (publish.py) turns the serving copy's rewards, and the adjustments waiting, into a
  numbered payout run, pending approval;
* `approve` / `reject` (decisions.py) decide it, by someone other than its publisher;
* `adjust` (adjustments.py) records a manual adjustment for the next run to carry;
* `verify` (chain.py) re-checks every record against the digest chain;
* history.py reads it all back the same way for every reader.

Runs never open the ledger, so a failed or killed run cannot touch it; each command holds its
lock for one short transaction. No statement updates or deletes a row.
"""

from .adjustments import Adjustment, adjust
from .chain import verify
from .decisions import Decision, approve, reject
from .publish import PublishResult, publish
from .schema import Actor, LedgerError

__all__ = [
    "Actor",
    "Adjustment",
    "Decision",
    "LedgerError",
    "PublishResult",
    "adjust",
    "approve",
    "publish",
    "reject",
    "verify",
]
