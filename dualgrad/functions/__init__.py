"""dualgrad's functions, one module per family of primitives in ``dualgrad.ops``, and the
differentiable namespace.

Each family module validates and canonicalizes arguments (``_args``) and hands primitives to the
dispatcher, and declares the Tensor methods and operators its functions provide. Its
``__all__`` lists its public functions. Those of every family are dualgrad's top-level
functions (``__all__`` here), except the special functions and the neural-network ones, which
have their namespaces (``dualgrad.special``, ``dualgrad.nn.functional``), and ``linalg``'s
beyond the top-level ones (``dualgrad.linalg``).

This package is also the namespace derivative rules are handed when their result must itself be
differentiable (``dualgrad._namespace``): every name a rule calls on ``xp`` exists here, taking
and returning Tensors; so do the dtypes, and ``linalg`` and ``fft`` are the Array API's
extensions (``fft``'s functions stay in their namespace, as the standard has them).
"""

from __future__ import annotations

from .._dtypes import *  # noqa: F403 - rules spell dtypes by name on their namespace
from . import (
    conversion,  # noqa: F401 - Tensor's to, cpu, type, data, ...
    creation,
    elementwise,
    fft,  # noqa: F401 - rules call xp.fft; its functions stay in their namespace
    index,
    linalg,
    numbers,
    random,
    reduce,
    search,
    shape,
)
from .creation import *  # noqa: F403
from .elementwise import *  # noqa: F403
from .index import *  # noqa: F403
from .index import index_add  # noqa: F401 - rules scatter with xp.index_add
from .linalg import *  # noqa: F403
from .nn import *  # noqa: F403
from .numbers import *  # noqa: F403
from .random import *  # noqa: F403
from .reduce import *  # noqa: F403
from .search import *  # noqa: F403
from .shape import *  # noqa: F403
from .special import *  # noqa: F403

__all__ = [
    *creation.__all__,
    *elementwise.__all__,
    *index.__all__,
    *linalg.__all__,
    *numbers.__all__,
    *random.__all__,
    *reduce.__all__,
    *search.__all__,
    *shape.__all__,
]
