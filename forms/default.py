"""The default form `household_digital` (version 2025.1), shipped as YAML beside this module."""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATH = Path(__file__).with_name("household_digital.yaml")


@lru_cache(maxsize=1)
def _parsed():
    with PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def household_digital() -> dict[str, Any]:
    """A fresh copy of the default household form document (a plain dict, JSON-compatible)."""
    return copy.deepcopy(_parsed())
