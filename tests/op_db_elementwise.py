"""Op table lines for the elementwise family (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from op_db import OpSpec

SPECS: list[OpSpec] = []
