"""Searching and set primitives: indices and counts, which never carry gradients.

Results are the default integer dtype: int64, or int32 where 64-bit integers are off (JAX
outside its 64-bit mode, which would truncate int64 with a warning). ``nonzero``
returns its index arrays stacked as one ``(ndim, count)`` array (a primitive has one output);
the ``unique_*`` primitives each return one field of the backend's ``unique_all``.
"""

from __future__ import annotations

__all__ = [
    "nonzero",
    "searchsorted",
    "unique_counts",
    "unique_indices",
    "unique_inverse",
    "unique_values",
]

from ._primitive import Primitive
from .index import _index_dtype


def _indices(name, nin, forward):
    """A primitive of ``nin`` inputs whose integer result never carries gradients."""
    return Primitive(
        name,
        forward=lambda xp, *inputs, **params: xp.astype(
            forward(xp, *inputs, **params), _index_dtype(xp)
        ),
        vjp=(None,) * nin,
        jvp=(None,) * nin,
    )


nonzero = _indices("nonzero", 1, lambda xp, x: xp.stack(xp.nonzero(x)))
searchsorted = _indices(
    "searchsorted", 2, lambda xp, x1, x2, *, side: xp.searchsorted(x1, x2, side=side)
)
unique_indices = _indices("unique_indices", 1, lambda xp, x: xp.unique_all(x).indices)
unique_inverse = _indices("unique_inverse", 1, lambda xp, x: xp.unique_all(x).inverse_indices)
unique_counts = _indices("unique_counts", 1, lambda xp, x: xp.unique_all(x).counts)
# from unique_all too, so that values, counts and indices always come in the same order
unique_values = Primitive(
    "unique_values", forward=lambda xp, x: xp.unique_all(x).values, vjp=(None,), jvp=(None,)
)
