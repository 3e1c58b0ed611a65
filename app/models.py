"""Every table's model, imported in one place so Alembic (env.py) and tests see the whole schema.

Add one import line per domain `models.py` (no definitions here).
"""

from __future__ import annotations

import app.documents.models
import app.extraction.models
import app.jobs.models
import app.jobs.registry
import app.statements.models  # noqa: F401
from app.core.db import Base


def load_all_models() -> type[Base]:
    """The declarative Base, with every model above registered on its metadata."""
    return Base
