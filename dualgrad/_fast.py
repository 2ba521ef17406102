"""The switch of the fast paths, for the tests that check them.

The dispatcher's ``elementwise`` and forward mode's ``push_tangents`` each start with a guarded
head: the common case, handled in a few checks, before the general path that also handles it.
With ``enabled`` False every operation takes the general path, so a test can check that both
give the same results (tests/test_fast_paths.py). Nothing else turns it off.
"""

from __future__ import annotations

enabled = True
