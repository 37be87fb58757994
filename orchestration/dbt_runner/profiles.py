"""A dbt profile written for one warehouse (or one Spark folder), from dbt_project/profiles.yml.

dbt_project/profiles.yml is the one description of the targets. Its file paths and resources
come from `env_var()` calls, with defaults, so `dbt build` typed in dbt_project/ works as any dbt
project does. The project's own invocations never rely on the environment: `write_profile` takes
the output of one target from that file, puts the given values where its `env_var()` calls are
(a value not given is read from the environment, as `env_var()` would, else its default), and
writes the result as a profiles.yml of its own, which dbt is pointed at with `--profiles-dir`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..settings import DBT_PROJECT_DIR

PROFILE_NAME = "short_video_rewards"
PROFILES_FILE = "profiles.yml"
_ENV_VAR = re.compile(
    r"\{\{\s*env_var\(\s*'(\w+)'\s*(?:,\s*'([^']*)'\s*)?\)\s*(\|\s*as_number\s*)?\}\}"
)
_JINJA_OPENERS = ("{{", "{%", "{#")


def _literal(text: str) -> str:
    """`text` as dbt renders it: unchanged, unless it holds something Jinja would read."""
    if any(opener in text for opener in _JINJA_OPENERS):
        return "{% raw %}" + text + "{% endraw %}"
    return text


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if not isinstance(value, str):
        return value

    def found(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        text = values.get(name, os.environ.get(name, default))
        if text is None:
            raise ValueError(f"dbt profile needs a value for {name}")
        return str(text)

    whole = _ENV_VAR.fullmatch(value.strip())
    if whole and whole.group(3):  # `{{ env_var(...) | as_number }}`: dbt's way to a number
        text = found(whole)
        try:
            return int(text)
        except ValueError:
            raise ValueError(
                f"dbt profile needs a number for {whole.group(1)}, not {text!r}"
            ) from None
    return _ENV_VAR.sub(lambda match: _literal(found(match)), value)


def profile_output(target: str, values: Mapping[str, str]) -> dict[str, Any]:
    """profiles.yml's output `target`, with `values` in place of its `env_var()` calls."""
    profiles = yaml.safe_load((DBT_PROJECT_DIR / PROFILES_FILE).read_text())
    outputs = profiles[PROFILE_NAME]["outputs"]
    if target not in outputs:
        raise ValueError(f"profiles.yml has no target {target!r}")
    return _fill(outputs[target], values)


def write_profile(folder: Path, target: str, values: Mapping[str, str]) -> Path:
    """Write `<folder>/profiles.yml` with the one target `target` filled in; returns `folder`.

    Written whole and renamed into place: a process reading it never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        {PROFILE_NAME: {"target": target, "outputs": {target: profile_output(target, values)}}},
        sort_keys=False,
        allow_unicode=True,
    )
    path = folder / PROFILES_FILE
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        partial = folder / f".{PROFILES_FILE}.{os.getpid()}.tmp"
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return folder
