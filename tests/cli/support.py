"""Running the real console script in a subprocess: what a user sees on a terminal (logging
set-up, signals, stderr) is only what the process itself prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import tokenusage

SRC = Path(tokenusage.__file__).resolve().parent.parent


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any TOKENUSAGE_* setting of the caller, this tree first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENUSAGE_")}
    env["PYTHONPATH"] = str(SRC)
    return env | extra


def tokenusage_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "tokenusage", *args]


def run_cli(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        tokenusage_cmd(*args), env=env, capture_output=True, text=True, timeout=120, **kwargs
    )
