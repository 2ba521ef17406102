"""Weight initialisation, as ``torch.nn.init``: fill a tensor in place from the seeded RNG.

Every function draws from the tensor's own backend generator, which ``dualgrad.manual_seed``
seeds, fills the tensor in place without recording anything, and returns it.

Example:
    >>> import dualgrad
    >>> from dualgrad import nn
    >>> w = nn.Parameter(dualgrad.empty(64, 2))
    >>> bound = nn.init.calculate_gain("relu") * (3 / 2) ** 0.5
    >>> bool((nn.init.kaiming_uniform_(w, nonlinearity="relu").abs() <= bound).all())
    True
"""

from __future__ import annotations

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

import math

from .. import functions as fn
from .. import special
from ..autograd.grad_mode import no_grad
from ..functions._args import require_floating
from ..tensor import Tensor

_LINEAR_GAINS = (
    "linear",
    "identity",
    "sigmoid",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, sigmoid), 5/3 (tanh), sqrt(2)
    (relu), sqrt(2 / (1 + slope**2)) (leaky_relu, slope ``param`` or 0.01), 3/4 (selu).

    Raises:
        ValueError: an unknown nonlinearity, or a slope that is not a number.
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            msg = f"negative_slope {param!r} is not a valid number"
            raise ValueError(msg)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    msg = (
        f"unsupported nonlinearity {nonlinearity!r}; choose one of: "
        f"{', '.join(_LINEAR_GAINS)}, tanh, relu, leaky_relu, selu"
    )
    raise ValueError(msg)


def _fill(tensor: Tensor, draw: str, shift: float, scale: float) -> Tensor:
    """Fill ``tensor`` in place with ``shift + scale * sample``, sample from its backend's
    ``rand`` (uniform on [0, 1)) or ``randn``."""
    backend = tensor._backend
    sample = Tensor._wrap(getattr(backend, draw)(tensor.shape, tensor.dtype), backend)
    with no_grad():
        tensor.copy_(sample * scale + shift)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples from the uniform distribution on [a, b).

    Raises:
        ValueError: ``a > b``.
    """
    require_floating(tensor, "nn.init.uniform_")
    if a > b:
        msg = f"nn.init.uniform_: the lower bound a={a} exceeds the upper bound b={b}"
        raise ValueError(msg)
    return _fill(tensor, "rand", a, b - a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples from the normal distribution N(mean, std**2).

    Raises:
        ValueError: a negative ``std``.
    """
    require_floating(tensor, "nn.init.normal_")
    if std < 0:
        msg = f"nn.init.normal_: std must be >= 0, got {std}"
        raise ValueError(msg)
    return _fill(tensor, "randn", mean, std)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    require_floating(tensor, "nn.init.constant_")
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def _fans(tensor: Tensor, name: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight ``(out, in, *kernel)``, as PyTorch computes them."""
    if tensor.ndim < 2:
        msg = (
            f"nn.init.{name}: fan in and fan out can not be computed for a tensor with fewer "
            f"than 2 dimensions, got shape {tuple(tensor.shape)}"
        )
        raise ValueError(msg)
    receptive_field = math.prod(tensor.shape[2:])
    fan_in, fan_out = tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field
    # An empty tensor has nothing to fill; a fan of 1 keeps the bound finite.
    return max(fan_in, 1), max(fan_out, 1)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): uniform on [-b, b], ``b = gain * sqrt(6 / (fan_in + fan_out))``.

    Raises:
        ValueError: a tensor with fewer than 2 dimensions.
    """
    fan_in, fan_out = _fans(require_floating(tensor, "nn.init.xavier_uniform_"), "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, "rand", -bound, 2 * bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Raises:
        ValueError: a tensor with fewer than 2 dimensions.
    """
    fan_in, fan_out = _fans(require_floating(tensor, "nn.init.xavier_normal_"), "xavier_normal_")
    return _fill(tensor, "randn", 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, name: str) -> float:
    fan_in, fan_out = _fans(require_floating(tensor, f"nn.init.{name}"), name)
    if mode not in ("fan_in", "fan_out"):
        msg = f"nn.init.{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}"
        raise ValueError(msg)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He et al. (2015): uniform on [-b, b], ``b = gain * sqrt(3 / fan)``.

    Args:
        a: the negative slope of the leaky_relu after this layer.
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
        nonlinearity: as for ``calculate_gain``.

    Raises:
        ValueError: a tensor with fewer than 2 dimensions, or an unknown mode or nonlinearity.
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _fill(tensor, "rand", -bound, 2 * bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He et al. (2015): N(0, std**2), ``std = gain / sqrt(fan)``; arguments as
    ``kaiming_uniform_``.

    Raises:
        ValueError: a tensor with fewer than 2 dimensions, or an unknown mode or nonlinearity.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill(tensor, "randn", 0.0, std)


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Fill with samples from N(mean, std**2) truncated to [a, b], by inverting the normal CDF
    of uniform samples between those of ``a`` and ``b``, as PyTorch draws them.

    Raises:
        ValueError: a negative ``std``, or ``a > b``.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.nn.init.trunc_normal_(dualgrad.empty(1000), std=0.02, a=-0.04, b=0.04)
        >>> bool((w.abs() <= 0.04).all())
        True
    """
    require_floating(tensor, "nn.init.trunc_normal_")
    if std < 0 or a > b:
        msg = f"nn.init.trunc_normal_: needs std >= 0 and a <= b, got std={std}, a={a}, b={b}"
        raise ValueError(msg)

    def cdf(value: float) -> float:  # the standard normal's
        return (1.0 + math.erf(value / math.sqrt(2.0))) / 2.0

    if std == 0:
        return constant_(tensor, min(max(mean, a), b))
    low, high = cdf((a - mean) / std), cdf((b - mean) / std)
    _fill(tensor, "rand", 2 * low - 1, 2 * (high - low))
    with no_grad():
        drawn = special.erfinv(tensor) * (std * math.sqrt(2.0)) + mean
        tensor.copy_(fn.clip(drawn, min=a, max=b))
    return tensor


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with a (semi-)orthogonal matrix, as in Saxe et al. (2013): the Q of the QR
    decomposition of a normal sample, its columns' signs fixed by R's diagonal, times ``gain``;
    a tensor of more than 2 axes is filled as its ``(shape[0], -1)`` flattening.

    Raises:
        ValueError: a tensor with fewer than 2 dimensions.

    Example:
        >>> import dualgrad
        >>> w = dualgrad.nn.init.orthogonal_(dualgrad.empty(3, 5))
        >>> bool(dualgrad.allclose(w @ w.T, dualgrad.eye(3), atol=1e-5))
        True
    """
    require_floating(tensor, "nn.init.orthogonal_")
    if tensor.ndim < 2:
        msg = (
            f"nn.init.orthogonal_: only tensors with 2 or more dimensions are supported, got "
            f"shape {tuple(tensor.shape)}"
        )
        raise ValueError(msg)
    if tensor.numel() == 0:
        return tensor  # nothing to fill
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    with no_grad():
        flattened = _fill(fn.empty_like(tensor).reshape(rows, cols), "randn", 0.0, 1.0)
        if rows < cols:
            flattened = flattened.T
        q, r = fn.linalg.qr(flattened)
        q = q * fn.sign(fn.diagonal(r))
        if rows < cols:
            q = q.T
        tensor.copy_(fn.reshape(q, tensor.shape) * gain)
    return tensor


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal of a rectangular
    one), which keeps the inputs of a ``Linear`` layer.

    Raises:
        ValueError: a tensor that is not 2-D.

    Example:
        >>> import dualgrad
        >>> dualgrad.nn.init.eye_(dualgrad.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    if tensor.ndim != 2:
        msg = f"nn.init.eye_: only tensors with 2 dimensions are supported, got {tensor.ndim}"
        raise ValueError(msg)
    with no_grad():
        return tensor.copy_(fn.eye(*tensor.shape, dtype=tensor.dtype))
