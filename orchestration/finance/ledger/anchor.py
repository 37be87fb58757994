"""The ledger's anchor: evidence, kept outside the ledger file, that this warehouse has a ledger
and how far it goes (D45).

A digest chain inside one file cannot tell that the file is gone, nor that its last records were
cut off or that an older backup was put in its place: the chain is whole, it just ends earlier.
So beside the ledger, in `<warehouse>.ledger.anchor`, every command that writes the ledger
appends one line -- the ledger's identity (the digest of its first record), its head digest and
its number of records after the write, what was written, by whom and when. Lines are only ever
appended. Before any finance command reads or appends, the ledger is checked against the last
line:

* no ledger file, but an anchor: the ledger is missing. Refused, naming the head it must have.
* another identity: it is not this warehouse's ledger. Refused.
* its head is the anchor's last head: it is whole.
* its chain runs through the anchor's last head and beyond: records were written without their
  anchor line (an earlier version of `rewards`, or a command stopped between the two writes).
  The anchor catches up.
* its head is an earlier line's head: it is older than its anchor (a cut-off tail, a stale
  backup). Refused, naming both heads.
* anything else: its history differs from the anchor's. Refused.

A ledger without an anchor (one started before anchors, or whose anchor was removed) gets one at
its current head on the first command that can write beside it, with nothing else changed.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from .files import LedgerDamaged, LedgerMissing, LedgerUnavailable, anchor_path
from .schema import LedgerError

FORMAT = 1


@dataclass(frozen=True)
class AnchorLine:
    ledger_id: str  # the digest of the ledger's first record
    head: str  # its last record's digest after the write
    records: int  # its records (chain links) after the write
    action: str  # what was written: "ledger started by alice", "payout run 3 approved by bob"
    at: str  # when, an ISO-8601 instant
    os_user: str
    host: str
    ledger: str  # the ledger file's path then
    format: int = FORMAT

    def describe(self) -> str:
        return (
            f"{self.records:,} record{'s' if self.records != 1 else ''} up to head "
            f"{self.head[:16]}… ({self.action}, {self.at})"
        )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def new_line(ledger: Path, ledger_id: str, head: str, records: int, action: str) -> AnchorLine:
    return AnchorLine(
        ledger_id=ledger_id,
        head=head,
        records=records,
        action=action,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        os_user=_os_user(),
        host=socket.gethostname(),
        ledger=str(ledger),
    )


class Anchor:
    """The anchor of the ledger at `ledger`."""

    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger
        self.path = anchor_path(ledger)

    def lines(self) -> list[AnchorLine]:
        """Every line, oldest first. A last line cut short (a write stopped half way) is left
        out; any other line that is not one of ours makes the anchor damaged."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LedgerUnavailable(
                f"the ledger's anchor {self.path} cannot be read: {exc}"
            ) from exc
        raw = text.split("\n")
        torn = raw.pop() if raw else ""  # after the last newline: empty, or a torn write
        del torn
        lines = []
        for number, line in enumerate(raw, start=1):
            try:
                fields = json.loads(line)
                lines.append(AnchorLine(**fields))
            except (ValueError, TypeError) as exc:
                raise LedgerDamaged(
                    f"the ledger's anchor {self.path} is damaged at line {number} ({exc}): "
                    "restore it from a backup; nothing was read or written"
                ) from exc
        return lines

    def append(self, line: AnchorLine, *, create_only: bool = False) -> bool:
        """Append `line` and flush it to disk. With `create_only`, only into a new anchor (False:
        another process created it first)."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_EXCL if create_only else 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, (json.dumps(asdict(line), ensure_ascii=False) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def check_writable(self) -> None:
        """Raise the OSError a line's append would meet now, so that a command refuses before
        it writes the ledger rather than leave the anchor behind it."""
        if self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND))
        else:  # the folder must take a new file
            probe = self.path.with_name(f".{self.path.name}.probe-{os.getpid()}")
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            probe.unlink()


def catch_up(ledger: Path, chain: list[str], state: str, *, reader: bool) -> None:
    """Give an unanchored ledger its anchor, or bring a lagging anchor up to the ledger's head
    (`state` from `check`). Safe for readers too: DuckDB lets no process write the ledger while
    another has it open, and a writer appends its anchor line before it closes the file. A
    `reader` leaves the anchor as it is where it cannot write (a read-only share)."""
    action = {
        "unanchored": "anchor started at the ledger's head",
        "ahead": "caught up with records written without their anchor line",
    }.get(state)
    if action is None:
        return
    line = new_line(ledger, chain[0], chain[-1], len(chain), action)
    try:
        Anchor(ledger).append(line, create_only=state == "unanchored")
    except OSError:
        if not reader:
            raise
        # not writable here (a read-only share): the next command that can, will


def refuse_if_missing(ledger: Path) -> bool:
    """True when the ledger file exists. When it does not but its anchor records one, it is
    missing: refused in one line (LedgerMissing)."""
    if ledger.exists():
        return True
    anchor = Anchor(ledger)
    lines = anchor.lines()
    if lines:
        last = lines[-1]
        raise LedgerMissing(
            f"the ledger {ledger} is missing: its anchor {anchor.path} records ledger "
            f"{last.ledger_id[:16]}… with {last.describe()}; restore that file (the copy "
            f"whose head digest is {last.head}) before any finance command; nothing was read "
            "or written"
        )
    return False


def check(ledger: Path, chain: list[str], lines: list[AnchorLine]) -> str:
    """Compare the verified chain of the ledger at `ledger` with its anchor's lines: "whole",
    "ahead" (records written without their line: the anchor catches up), "unanchored" (no
    anchor yet) or "empty" (neither records nor anchor: no ledger started); raises LedgerError
    when the ledger is not the one, or not as far as, its anchor says."""
    if not lines:
        return "unanchored" if chain else "empty"
    last = lines[-1]
    anchor = anchor_path(ledger)
    if not chain:
        raise LedgerError(
            f"the ledger {ledger} holds no record, but its anchor {anchor} records "
            f"{last.describe()}: it was emptied or replaced; restore the copy whose head digest "
            f"is {last.head}; nothing was read or written"
        )
    if chain[0] != last.ledger_id:
        raise LedgerError(
            f"the ledger {ledger} is not this warehouse's ledger: it starts with record "
            f"{chain[0][:16]}…, its anchor {anchor} records ledger {last.ledger_id[:16]}… with "
            f"{last.describe()}; put back the right file; nothing was read or written"
        )
    if chain[-1] == last.head:
        return "whole"
    if last.head in chain:
        return "ahead"
    earlier = next((line for line in reversed(lines) if line.head == chain[-1]), None)
    if earlier is not None:
        raise LedgerError(
            f"the ledger {ledger} is older than its anchor {anchor}: it ends at "
            f"{earlier.describe()}, the anchor records {last.describe()} -- its last records "
            "were cut off or an older backup was restored; restore the copy whose head digest "
            f"is {last.head}; nothing was read or written"
        )
    raise LedgerError(
        f"the ledger {ledger} does not follow its anchor {anchor}: its head "
        f"{chain[-1][:16]}… ({len(chain):,} records) is not one the anchor recorded, which "
        f"ends at {last.describe()}; restore the copy whose head digest is {last.head}; "
        "nothing was read or written"
    )
