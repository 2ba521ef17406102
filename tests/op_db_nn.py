"""Op table lines for the nn family (joined into ``op_db.OP_DB``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from op_db import NONZERO, UNARY, Arg, OpSpec, Params

import dualgrad
import dualgrad.nn.functional as F
from dualgrad import ops


def _log_softmax_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=params["axis"], keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=params["axis"], keepdims=True))


def _softmax_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return np.exp(_log_softmax_reference(arrays, params))


def _softplus_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    z = x * params["beta"]
    return np.where(z > params["threshold"], x, np.logaddexp(0.0, z) / params["beta"])


def _log_sigmoid_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    return -np.logaddexp(0.0, -arrays[0])


def _unfold_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    """im2col by loops over the kernel: each patch position's column, channel-major."""
    (x,) = arrays
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
        params[key] for key in ("kernel_size", "dilation", "padding", "stride")
    )
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)])
    oh = (padded.shape[-2] - dh * (kh - 1) - 1) // sh + 1
    ow = (padded.shape[-1] - dw * (kw - 1) - 1) // sw + 1
    columns = np.zeros((*x.shape[:-2], kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            for r in range(oh):
                for c in range(ow):
                    columns[..., i, j, r, c] = padded[..., i * dh + r * sh, j * dw + c * sw]
    return columns.reshape(*x.shape[:-3], x.shape[-3] * kh * kw, oh * ow)


def _fold_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    """col2im by loops: each column entry added where unfold took it from."""
    (columns,) = arrays
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
        params[key] for key in ("kernel_size", "dilation", "padding", "stride")
    )
    height, width = params["output_size"][0] + 2 * ph, params["output_size"][1] + 2 * pw
    oh = (height - dh * (kh - 1) - 1) // sh + 1
    ow = (width - dw * (kw - 1) - 1) // sw + 1
    channels = columns.shape[-2] // (kh * kw)
    blocks = columns.reshape(*columns.shape[:-2], channels, kh, kw, oh, ow)
    image = np.zeros((*columns.shape[:-2], channels, height, width), dtype=columns.dtype)
    for i in range(kh):
        for j in range(kw):
            for r in range(oh):
                for c in range(ow):
                    image[..., i * dh + r * sh, j * dw + c * sw] += blocks[..., i, j, r, c]
    return image[..., ph : height - ph, pw : width - pw]


def _standardize_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    (x,) = arrays
    axis = params["axis"]
    centered = x - x.mean(axis=axis, keepdims=True)
    return centered / np.sqrt((centered**2).mean(axis=axis, keepdims=True) + params["eps"])


def _patches(
    kernel: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    stride: tuple[int, int] = (1, 1),
) -> Params:
    return {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}


def _torch_patches(name: str) -> Any:
    return lambda torch, ts, params: getattr(torch.nn.functional, name)(ts[0], **params)


# (input shape, params): batched and not, square and not, each option away from its default.
UNFOLD_CASES = [
    (((2, 3, 5, 4),), _patches((2, 2))),
    (((3, 5, 5),), _patches((3, 2), padding=(1, 0))),
    (((1, 2, 7, 6),), _patches((3, 3), stride=(2, 3))),
    (((2, 1, 7, 7),), _patches((2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 1))),
]


def _fold_case(image: tuple[int, ...], params: Params) -> tuple[tuple[tuple[int, ...]], Params]:
    """The fold that undoes an unfold of ``image`` with ``params``: columns in, image out."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
        params[key] for key in ("kernel_size", "dilation", "padding", "stride")
    )
    oh = (image[-2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (image[-1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    columns = (*image[:-3], image[-3] * kh * kw, oh * ow)
    return (columns,), {"output_size": image[-2:], **params}


def _layer_norm_call(tensors: Sequence[Any], params: Params) -> Any:
    axis = params["axis"]
    return F.layer_norm(tensors[0], tensors[0].shape[axis[0] :], eps=params["eps"])


def _batch_norm_call(tensors: Sequence[Any], params: Params) -> Any:
    return F.batch_norm(tensors[0], None, None, training=True, eps=params["eps"])


def _softmax_call(function: Any) -> Any:
    # The public functions take one dim; the op table's axis is a one-axis tuple.
    return lambda tensors, params: function(tensors[0], dim=params["axis"][0])


def _torch_softmax(name: str) -> Any:
    return lambda torch, ts, params: getattr(torch, name)(ts[0], dim=params["axis"][0])


SOFTMAX_CASES = [
    (((3, 4),), {"axis": (-1,)}),
    (((2, 3, 4),), {"axis": (-2,)}),
    (((4,),), {"axis": (-1,)}),
    (((2, 0),), {"axis": (-1,)}),
]

SPECS: list[OpSpec] = [
    OpSpec(
        ops.unfold,
        cases=UNFOLD_CASES,
        call=lambda tensors, params: F.unfold(tensors[0], **params),
        reference=_unfold_reference,
        torch=_torch_patches("unfold"),
    ),
    OpSpec(
        ops.fold,
        cases=[_fold_case(shapes[0], params) for shapes, params in UNFOLD_CASES],
        call=lambda tensors, params: F.fold(tensors[0], **params),
        reference=_fold_reference,
        torch=_torch_patches("fold"),
    ),
    OpSpec(
        ops.standardize,
        cases=[
            (((3, 5),), {"axis": (-1,), "eps": 1e-5}),
            (((2, 3, 4),), {"axis": (-2, -1), "eps": 0.1}),
        ],
        call=_layer_norm_call,
        reference=_standardize_reference,
        torch=lambda torch, ts, params: torch.nn.functional.layer_norm(
            ts[0], ts[0].shape[params["axis"][0] :], eps=params["eps"]
        ),
        label="-layer_norm",
    ),
    OpSpec(
        ops.standardize,
        cases=[
            (((4, 3),), {"axis": (-2,), "eps": 1e-5}),
            (((3, 2, 2, 3),), {"axis": (-4, -2, -1), "eps": 1e-3}),
        ],
        call=_batch_norm_call,
        reference=_standardize_reference,
        torch=lambda torch, ts, params: torch.nn.functional.batch_norm(
            ts[0], None, None, training=True, eps=params["eps"]
        ),
        label="-batch_norm",
    ),
    OpSpec(
        ops.relu,
        shapes=UNARY,
        args=(NONZERO,),  # away from the kink at 0
        call=lambda tensors, params: F.relu(tensors[0]),
        reference=lambda arrays, params: np.maximum(arrays[0], 0.0),
        torch=lambda torch, ts, params: torch.relu(ts[0]),
    ),
    OpSpec(
        ops.log_softmax,
        cases=SOFTMAX_CASES,
        low=-5.0,
        high=5.0,
        call=_softmax_call(F.log_softmax),
        reference=_log_softmax_reference,
        torch=_torch_softmax("log_softmax"),
    ),
    OpSpec(
        ops.softmax,
        cases=SOFTMAX_CASES,
        low=-5.0,
        high=5.0,
        call=_softmax_call(F.softmax),
        reference=_softmax_reference,
        torch=_torch_softmax("softmax"),
    ),
    OpSpec(
        ops.softplus,
        shapes=UNARY,
        params=[{"beta": 1.0, "threshold": 20.0}, {"beta": 2.0, "threshold": 3.0}],
        low=-4.0,
        high=4.0,
        call=lambda tensors, params: F.softplus(tensors[0], **params),
        reference=_softplus_reference,
        torch=lambda torch, ts, params: torch.nn.functional.softplus(ts[0], **params),
    ),
    OpSpec(
        ops.log_sigmoid,
        shapes=UNARY,
        low=-6.0,
        high=6.0,
        call=lambda tensors, params: F.logsigmoid(tensors[0]),
        reference=_log_sigmoid_reference,
        torch=lambda torch, ts, params: torch.nn.functional.logsigmoid(ts[0]),
    ),
]


def _binary_cross_entropy_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    x, y = arrays
    return -(y * np.maximum(np.log(x), -100.0) + (1 - y) * np.maximum(np.log1p(-x), -100.0))


SPECS.append(
    OpSpec(
        ops.binary_cross_entropy,
        shapes=[((3, 4), (3, 4)), ((), ()), ((2, 0), (2, 0))],
        # predictions inside (0, 1), where the loss is smooth; the ends are boundary cases
        args=(Arg(low=0.05, high=0.95), Arg(low=0.0, high=1.0)),
        # the function takes equal shapes; random programs hand the primitive broadcastable ones
        call=lambda tensors, params: F.binary_cross_entropy(
            *dualgrad.broadcast_arrays(*tensors), reduction="none"
        ),
        reference=_binary_cross_entropy_reference,
        torch=lambda torch, ts, params: torch.nn.functional.binary_cross_entropy(
            *torch.broadcast_tensors(*ts), reduction="none"
        ),
    )
)


def _nll_loss_reference(arrays: Sequence[np.ndarray], params: Params) -> np.ndarray:
    x, target, weight = arrays
    axis, ignore_index = params["axis"], params["ignore_index"]
    counted = target != ignore_index
    safe = np.where(counted, target, 0)
    picked = np.squeeze(np.take_along_axis(x, np.expand_dims(safe, axis), axis=axis), axis)
    weights = np.where(counted, weight[safe] if params["weighted"] else 1.0, 0.0)
    losses = np.where(counted, -weights * picked, 0.0)
    if params["reduction"] == "none":
        return losses
    return losses.sum() / (weights.sum() if params["reduction"] == "mean" else 1.0)


def _nll_loss_cases() -> list[tuple[tuple[tuple[int, ...], ...], Params]]:
    """Inputs (classes along ``axis``), class-index targets and class weights; four classes.
    An ``ignore_index`` among the classes drops the targets of that class; unweighted, the
    weights are not read (ones)."""
    shapes = [((5, 4), (5,), (4,)), ((3, 4, 2), (3, 2), (4,)), ((4,), (), (4,))]
    cases = [
        (case, {"axis": -len(case[0]) + (1 if len(case[0]) > 1 else 0), "ignore_index": -100})
        for case in shapes
    ]
    cases.append((shapes[0], {"axis": -1, "ignore_index": 1}))
    cases.append((shapes[0], {"axis": -1, "ignore_index": -100, "weighted": False}))
    cases.append((shapes[1], {"axis": -2, "ignore_index": 2, "weighted": False}))
    return [
        (case, {"weighted": True, **params, "reduction": reduction})
        for case, params in cases
        for reduction in ("mean", "sum", "none")
    ]


SPECS.append(
    OpSpec(
        ops.nll_loss,
        cases=_nll_loss_cases(),
        args=(Arg(low=-3.0, high=0.0), Arg("int64", 0, 4), Arg(low=0.5, high=2.0)),
        # the weight is a constant (PyTorch refuses one that requires grad)
        call=lambda tensors, params: F.nll_loss(
            tensors[0],
            tensors[1],
            weight=tensors[2].detach() if params["weighted"] else None,
            ignore_index=params["ignore_index"],
            reduction=params["reduction"],
        ),
        reference=_nll_loss_reference,
        torch=lambda torch, ts, params: torch.nn.functional.nll_loss(
            ts[0],
            ts[1],
            weight=ts[2].detach() if params["weighted"] else None,
            ignore_index=params["ignore_index"],
            reduction=params["reduction"],
        ),
    )
)
