"""Every primitive dualgrad can differentiate, by family; ``REGISTRY`` maps names to them."""

from __future__ import annotations

from ._primitive import REGISTRY, Primitive
from .elementwise import *  # noqa: F403
from .fft import *  # noqa: F403
from .index import *  # noqa: F403
from .linalg import *  # noqa: F403
from .nn import *  # noqa: F403
from .numbers import *  # noqa: F403
from .reduce import *  # noqa: F403
from .search import *  # noqa: F403
from .shape import *  # noqa: F403
from .special import *  # noqa: F403

__all__ = ["REGISTRY", "Primitive", *REGISTRY]
