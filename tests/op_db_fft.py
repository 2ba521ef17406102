"""Op table lines for the Fourier transforms' primitives (joined into ``op_db.OP_DB``): each
direction and norm, over one axis and several, with odd and even lengths (``irfftn``'s rule
weighs the Nyquist bin of an even length apart)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from op_db import Arg, OpSpec, Params, _apply

from dualgrad import ops

COMPLEX = Arg("complex128")


def _c2c_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    transform = np.fft.ifftn if params["inverse"] else np.fft.fftn
    return transform(arrays[0], axes=params["axes"], norm=params["norm"])


def _c2r_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    x, axes = arrays[0], params["axes"]
    sizes = [*(x.shape[axis] for axis in axes[:-1]), params["n"]]
    return np.fft.irfftn(x, s=sizes, axes=axes, norm=params["norm"])


def _torch(name: str | Callable[[Params], str]) -> Any:
    def counterpart(torch: Any, tensors: Sequence[Any], params: Params) -> Any:
        function = getattr(torch.fft, name(params) if callable(name) else name)
        return function(tensors[0], dim=params["axes"], norm=params["norm"])

    return counterpart


def _torch_c2r(torch: Any, tensors: Sequence[Any], params: Params) -> Any:
    x, axes = tensors[0], params["axes"]
    sizes = [*(x.shape[axis] for axis in axes[:-1]), params["n"]]
    return torch.fft.irfftn(x, s=sizes, dim=axes, norm=params["norm"])


SPECS: list[OpSpec] = [
    OpSpec(
        ops.fft_c2c,
        call=_apply(ops.fft_c2c),
        cases=[
            (((3, 5),), {"axes": (-1,), "norm": "backward", "inverse": False}),
            (((3, 4),), {"axes": (-2, -1), "norm": "ortho", "inverse": True}),
            (((2, 3, 4),), {"axes": (-3, -1), "norm": "forward", "inverse": False}),
        ],
        args=(COMPLEX,),
        reference=_c2c_reference,
        torch=_torch(lambda params: "ifftn" if params["inverse"] else "fftn"),
    ),
    OpSpec(
        ops.fft_r2c,
        call=_apply(ops.fft_r2c),
        cases=[
            (((3, 5),), {"axes": (-1,), "norm": "backward"}),
            (((3, 4),), {"axes": (-2, -1), "norm": "ortho"}),
            (((2, 3, 6),), {"axes": (-3, -1), "norm": "forward"}),
        ],
        reference=lambda arrays, params: np.fft.rfftn(arrays[0], **params),
        torch=_torch("rfftn"),
    ),
    OpSpec(
        ops.fft_c2r,
        call=_apply(ops.fft_c2r),
        cases=[
            (((3, 3),), {"axes": (-1,), "n": 5, "norm": "backward"}),
            (((3, 3),), {"axes": (-2, -1), "n": 4, "norm": "ortho"}),
            (((2, 3, 4),), {"axes": (-3, -1), "n": 6, "norm": "forward"}),
        ],
        args=(COMPLEX,),
        reference=_c2r_reference,
        torch=_torch_c2r,
    ),
]
