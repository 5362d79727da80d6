"""Where the shipped curriculum lives: `tutor/_knowledge` in a wheel, `knowledge/` in a checkout."""

from __future__ import annotations

import os
from pathlib import Path


def knowledge_dir() -> Path:
    override = os.environ.get("TUTOR_KNOWLEDGE_DIR")
    if override:
        return Path(override)
    here = Path(__file__).resolve().parent
    packaged = here / "_knowledge"
    return packaged if packaged.is_dir() else here.parent / "knowledge"
