"""Views: an in-place change made through ``x[0]``, ``x.t()``, ``x.view(-1)``, ``x.detach()``,
``w.data[a:b]`` and the other view operations reaches the base, as in PyTorch. Each program
runs on dualgrad (every backend) and on PyTorch, written once for both; the values, the
gradients through the change (both modes) and the errors must be PyTorch's."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from tensors import assert_close, values
from torch_compare import torch_or_skip

import dualgrad
from dualgrad import nn

START = np.arange(12.0).reshape(3, 4) - 5.0

# A view of a (3, 4) tensor, written once for both libraries.
VIEWS: dict[str, Callable[[Any, Any], Any]] = {
    "x[1]": lambda lib, x: x[1],
    "x[:, 1:3]": lambda lib, x: x[:, 1:3],
    "x[1, ::2]": lambda lib, x: x[1, ::2],
    "x[-1]": lambda lib, x: x[-1],
    "x[tensor(1)]": lambda lib, x: x[lib.tensor(1)],
    "x[1, tensor(-2)]": lambda lib, x: x[1, lib.tensor(-2)],
    "x[..., None]": lambda lib, x: x[..., None],
    "x[None, 0]": lambda lib, x: x[None, 0],
    "x.view(-1)": lambda lib, x: x.view(-1),
    "x.view(2, 6)": lambda lib, x: x.view(2, 6),
    "x.reshape(4, 3)": lambda lib, x: x.reshape(4, 3),
    "x.view_as": lambda lib, x: x.view_as(lib.zeros(6, 2)),
    "x.flatten()": lambda lib, x: x.flatten(),
    "x.unsqueeze(1)": lambda lib, x: x.unsqueeze(1),
    "x[None].squeeze(0)": lambda lib, x: x.unsqueeze(0).squeeze(0),
    "x.t()": lambda lib, x: x.t(),
    "x.T": lambda lib, x: x.T,
    "x.mT": lambda lib, x: x.mT,
    "x.transpose(0, 1)": lambda lib, x: x.transpose(0, 1),
    "x.swapaxes(0, 1)": lambda lib, x: x.swapaxes(0, 1),
    "x.permute(1, 0)": lambda lib, x: x.permute(1, 0),
    "x.movedim(0, 1)": lambda lib, x: x.movedim(0, 1),
    "x.narrow(1, 1, 2)": lambda lib, x: x.narrow(1, 1, 2),
    "x.narrow(0, -2, 2)": lambda lib, x: x.narrow(0, -2, 2),
    "x.select(1, 2)": lambda lib, x: x.select(1, 2),
    "x.unbind(1)[2]": lambda lib, x: x.unbind(1)[2],
    "x.split(3, 1)[1]": lambda lib, x: x.split(3, 1)[1],
    "x.split([1, 2])[1]": lambda lib, x: x.split([1, 2])[1],
    "x.chunk(2, 1)[0]": lambda lib, x: x.chunk(2, 1)[0],
    "x.detach()": lambda lib, x: x.detach(),
    "x.data[1:]": lambda lib, x: x.data[1:],
    "x.t()[1]": lambda lib, x: x.t()[1],
    "x[1:].t()[0]": lambda lib, x: x[1:].t()[0],
    "x.view(-1)[::3]": lambda lib, x: x.view(-1)[::3],
    "list(x)[2]": lambda lib, x: list(x)[2],
    "torch.narrow": lambda lib, x: lib.narrow(x, 1, 0, 3),
    "torch.select": lambda lib, x: lib.select(x, 0, 1),
    "torch.permute": lambda lib, x: lib.permute(x, (1, 0)),
    "torch.transpose": lambda lib, x: lib.transpose(x, 0, 1),
    "torch.unsqueeze": lambda lib, x: lib.unsqueeze(x, 0),
    "torch.unbind": lambda lib, x: lib.unbind(x)[1],
    "torch.split": lambda lib, x: lib.split(x, 2)[0],
    "torch.chunk": lambda lib, x: lib.chunk(x, 3)[2],
}

# An in-place change of a view.
CHANGES: dict[str, Callable[[Any, Any], Any]] = {
    "add_": lambda lib, v: v.add_(1.5),
    "mul_": lambda lib, v: v.mul_(-2.0),
    "fill_": lambda lib, v: v.fill_(7.0),
    "zero_": lambda lib, v: v.zero_(),
    "copy_": lambda lib, v: v.copy_(lib.arange(v.numel(), dtype=v.dtype).reshape(v.shape)),
    "clamp_": lambda lib, v: v.clamp_(-1.0, 2.0),
    "+=": lambda lib, v: v.__iadd__(10.0),
    "v[...] = ": lambda lib, v: v.__setitem__(..., 3.0),
    "exp_": lambda lib, v: v.exp_(),
}


def _tensor(lib: Any, array: np.ndarray, requires_grad: bool = False) -> Any:
    if lib is dualgrad:
        return dualgrad.asarray(dualgrad.get_backend().from_numpy(array.copy())).requires_grad_(
            requires_grad
        )
    return lib.from_numpy(array.copy()).requires_grad_(requires_grad)


def _both(program: Callable[[Any], Any]) -> tuple[Any, Any]:
    torch = torch_or_skip()
    return program(dualgrad), program(torch)


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("view", VIEWS)
def test_a_change_through_a_view_reaches_the_base(backend: Any, view: str, change: str) -> None:
    def program(lib: Any) -> Any:
        x = _tensor(lib, START)
        v = VIEWS[view](lib, x)
        CHANGES[change](lib, v)
        return x, v

    (x, v), (tx, tv) = _both(program)
    assert_close(x, tx, 1e-14, 0, f"the base after {view}.{change}")
    assert_close(v, tv, 1e-14, 0, f"the view after {view}.{change}")


@pytest.mark.parametrize("view", ["x[1]", "x.t()", "x.view(-1)", "x.select(1, 2)", "x.t()[1]"])
def test_a_view_written_by_a_step_of_a_module_under_no_grad(backend: Any, view: str) -> None:
    """A parameter changed through a view under ``no_grad()`` (the initialisation idiom)."""

    def program(lib: Any) -> Any:
        w = _tensor(lib, START, requires_grad=True)
        with lib.no_grad():
            VIEWS[view](lib, w).mul_(0.5)
        (w * w).sum().backward()
        return w, w.grad

    (w, grad), (tw, tgrad) = _both(program)
    assert_close(w, tw, 1e-14, 0, "the parameter")
    assert_close(grad, tgrad, 1e-14, 0, "its gradient")
    assert w.requires_grad and w.is_leaf


def test_the_forget_gate_bias_idiom_through_data(backend: Any) -> None:
    """``bias.data[n:2n].fill_(1.0)``, outside ``no_grad()``, as LSTM code sets it."""

    def program(lib: Any) -> Any:
        lib.manual_seed(0)
        lstm = lib.nn.LSTM(3, 2)
        for name, bias in lstm.named_parameters():
            if "bias" in name:
                bias.data[2:4].fill_(1.0)
        return [p.detach().numpy().copy() for name, p in lstm.named_parameters() if "bias" in name]

    ours, theirs = _both(program)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a[2:4], b[2:4])
        np.testing.assert_array_equal(a[2:4], 1.0)


GRADIENT_PROGRAMS: dict[str, Callable[[Any, Any, Any], Any]] = {
    # A non-leaf base changed through its view: the gradient flows as PyTorch's CopySlices.
    "a[0].mul_(b)": lambda lib, a, b: a[0].mul_(b[0]),
    "a.t()[1].add_(b)": lambda lib, a, b: a.t()[1].add_(b[:3]),
    "a.view(-1)[2:5].copy_(b)": lambda lib, a, b: a.view(-1)[2:5].copy_(b[:3].sin()),
    "a[:, 1].exp_()": lambda lib, a, b: a[:, 1].exp_(),
    "a.narrow(1, 1, 2).mul_(a[:, :2])": lambda lib, a, b: a.narrow(1, 1, 2).mul_(
        a[:, :2].detach() + b[:2]
    ),
    "a[1][2] = b": lambda lib, a, b: a[1].__setitem__(2, b[0] * b[1]),
    "a.detach()[0].fill_(1.0)": lambda lib, a, b: a.detach()[0].fill_(1.0),
}


@pytest.mark.parametrize("name", GRADIENT_PROGRAMS)
def test_gradients_through_a_change_made_through_a_view(
    backend: Any, mode: Any, name: str
) -> None:
    def program(lib: Any) -> Any:
        leaf = _tensor(lib, START / 4, requires_grad=True)
        b = _tensor(lib, np.linspace(-1.0, 1.0, 4), requires_grad=True)
        a = leaf * 1.0
        GRADIENT_PROGRAMS[name](lib, a, b)
        names = str(a.grad_fn).split()[0]
        (a * a.cos()).sum().backward()
        return a, leaf.grad, b.grad, names

    (a, leaf_grad, b_grad, names), (ta, t_leaf_grad, t_b_grad, t_names) = _both(program)
    if mode == "reverse":
        assert names == t_names  # <CopySlices, as PyTorch names the changed base
    assert_close(a, ta, 1e-12, 1e-12, "the base")
    assert_close(leaf_grad, t_leaf_grad, 1e-12, 1e-12, "the leaf's gradient")
    if t_b_grad is None:
        assert b_grad is None or not values(b_grad).any()
    else:
        assert_close(b_grad, t_b_grad, 1e-12, 1e-12, "the other input's gradient")


@pytest.mark.parametrize("view", ["x[1]", "x.t()", "x.view(-1)", "x.narrow(1, 1, 2)", "x.T"])
def test_a_view_of_a_leaf_that_requires_grad_refuses_outside_no_grad(
    backend: Any, view: str
) -> None:
    torch = torch_or_skip()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        VIEWS[view](torch, _tensor(torch, START, requires_grad=True)).add_(1.0)
    w = _tensor(dualgrad, START, requires_grad=True)
    v = VIEWS[view](dualgrad, w)
    before = values(v).copy()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        v.add_(1.0)
    np.testing.assert_array_equal(values(w), START)  # nothing changed
    np.testing.assert_array_equal(values(v), before)
    assert w._version == 0


@pytest.mark.parametrize(
    "piece",
    [
        lambda a: a.unbind(0)[2],
        lambda a: a.split(2)[1],
        lambda a: a.chunk(2, 1)[0],
        lambda a: a.split([1, 2])[0],
    ],
)
def test_a_recorded_change_to_one_of_several_views_refuses(backend: Any, piece: Any) -> None:
    """PyTorch refuses to change a piece of unbind, split or chunk that requires grad; under
    no_grad, or of a tensor that does not require grad, the change reaches the base."""
    torch = torch_or_skip()
    messages = []
    for lib in (torch, dualgrad):
        a = _tensor(lib, START, requires_grad=True) * 1.0
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace") as info:
            piece(a).zero_()
        messages.append(str(info.value))
        np.testing.assert_array_equal(a.detach().numpy(), START)
        with lib.no_grad():
            piece(a).zero_()
        assert (a.detach().numpy() == 0).any()
    assert messages[0] == messages[1]


def test_detach_of_a_leaf_changes_it_outside_the_graph(backend: Any) -> None:
    """As PyTorch's shared storage: allowed outside no_grad, not recorded, version counted."""

    def program(lib: Any) -> Any:
        w = _tensor(lib, START, requires_grad=True)
        w.detach().mul_(2.0)
        (w * 3.0).sum().backward()
        return w, w.grad

    (w, grad), (tw, tgrad) = _both(program)
    assert_close(w, tw, 1e-14, 0, "w")
    assert_close(grad, tgrad, 1e-14, 0, "w.grad")
    assert w.is_leaf and w.grad_fn is None


def test_a_change_through_a_view_invalidates_values_saved_for_backward(backend: Any) -> None:
    torch = torch_or_skip()
    for lib in (torch, dualgrad):
        leaf = _tensor(lib, START, requires_grad=True)
        a = leaf * 1.0
        b = a.sin()  # saves a
        a[0].add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()


def test_a_view_catches_up_with_its_base_before_it_changes(backend: Any) -> None:
    def program(lib: Any) -> Any:
        x = _tensor(lib, START)
        v, t = x[0], x.t()
        x.add_(100.0)
        v.add_(1.0)  # x[0] is 100 above START, and 1 more
        t[2].mul_(2.0)  # x's column 2, with both changes
        return x

    x, tx = _both(program)
    assert_close(x, tx, 1e-14, 0, "x")


def test_reading_a_view_after_its_base_changed_gives_the_values_it_was_made_with() -> None:
    """The one difference from PyTorch left (docs/coming-from-pytorch.md): reading never pays
    for views, so a view read after its base changed in place has its old values."""
    x = dualgrad.zeros(2, 2)
    flat = x.view(-1)
    x.add_(1.0)
    assert values(flat).tolist() == [0.0, 0.0, 0.0, 0.0]
    flat[0] = 5.0  # a change through it catches up first
    assert values(x).tolist() == [[5.0, 1.0], [1.0, 1.0]]


def test_advanced_indexing_copies_as_in_pytorch(backend: Any) -> None:
    def program(lib: Any) -> Any:
        x = _tensor(lib, START)
        x[[0, 2]].fill_(1.0)
        x[x > 0].zero_()
        x[:, lib.tensor([1, 3])].mul_(0.0)
        x[lib.tensor([2])].zero_()
        return x

    x, tx = _both(program)
    assert_close(x, tx, 1e-14, 0, "x")
    np.testing.assert_array_equal(values(x), START)


def test_a_view_of_a_temporary_changes_nothing_else(backend: Any) -> None:
    x = _tensor(dualgrad, START)
    (x + 1.0)[0].fill_(3.0)
    (x * 2.0).t().zero_()
    np.testing.assert_array_equal(values(x), START)


def test_state_dict_values_are_views_so_an_ema_of_them_updates_the_model() -> None:
    """timm's ModelEmaV2 updates its copy through ``state_dict().values()`` with ``copy_``."""

    def program(lib: Any) -> Any:
        model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        ema = copy.deepcopy(model)
        before = [p.detach().numpy().copy() for p in ema.parameters()]
        with lib.no_grad():
            for p in model.parameters():
                p.add_(1.0)
            for ema_v, model_v in zip(
                ema.state_dict().values(), model.state_dict().values(), strict=True
            ):
                if ema_v.dtype.is_floating_point:
                    ema_v.copy_(ema_v * 0.9 + 0.1 * model_v)
        after = [p.detach().numpy().copy() for p in ema.parameters()]
        return [a - b for a, b in zip(after, before, strict=True)]

    for moved in _both(program):  # 0.9 ema + 0.1 (ema + 1) = ema + 0.1
        for step in moved:
            np.testing.assert_allclose(step, 0.1, rtol=1e-5)


def test_clip_gradients_through_detach(backend: Any) -> None:
    """PyTorch's own gradient clipping scales ``p.grad.detach()`` in place."""

    def program(lib: Any) -> Any:
        w = _tensor(lib, START, requires_grad=True)
        (w**2).sum().backward()
        w.grad.detach().mul_(0.25)
        return w.grad

    grad, tgrad = _both(program)
    assert_close(grad, tgrad, 1e-14, 0, "w.grad")


def test_views_inside_vmap_write_back_to_the_mapped_argument() -> None:
    def f(x: Any) -> Any:
        x[0].add_(1.0)
        x.t()[1].mul_(2.0) if x.ndim > 1 else x[1:].mul_(2.0)
        return x.sum()

    x = dualgrad.tensor(START.copy())
    expected = START.copy()
    for row in expected:
        row[0] += 1.0
        row[1:] *= 2.0
    dualgrad.func.vmap(f)(x)
    np.testing.assert_array_equal(values(x), expected)


def test_views_inside_a_compiled_step() -> None:
    pytest.importorskip("jax")
    with dualgrad.use_backend("jax"):
        w = dualgrad.tensor(START.copy(), requires_grad=True)

        def step(x: Any) -> Any:
            loss = (w * x).sum()
            loss.backward()
            with dualgrad.no_grad():
                w.t()[1].sub_(0.5 * w.grad.t()[1])
                w.grad = None
            return loss

        compiled = dualgrad.jit(step)
        x = dualgrad.ones(3, 4)
        for _ in range(3):
            compiled(x)
    expected = START.copy()
    expected[:, 1] -= 1.5
    np.testing.assert_allclose(values(w), expected)


def test_copies_and_pickles_of_a_view_are_plain_tensors() -> None:
    x = dualgrad.tensor(START.copy())
    for copied in (copy.deepcopy(x[1]), pickle.loads(pickle.dumps(x.t())), copy.copy(x[0])):
        assert type(copied) is dualgrad.Tensor
    c = copy.deepcopy(x.detach())
    c.fill_(0.0)
    np.testing.assert_array_equal(values(x), START)


def test_select_as_pytorch(backend: Any) -> None:
    torch = torch_or_skip()
    x = _tensor(dualgrad, START)
    assert_close(x.select(0, -1), _tensor(torch, START).select(0, -1), 1e-14, 0, "select")
    assert_close(dualgrad.select(x, 1, 0), torch.select(_tensor(torch, START), 1, 0), 1e-14, 0, "")
    for bad in (
        lambda t: t.select(0, 3),
        lambda t: t.select(2, 0),
        lambda t: t[0, 0].select(0, 0),
    ):
        with pytest.raises(IndexError):
            bad(_tensor(torch, START))
        with pytest.raises(IndexError):
            bad(x)


def test_a_view_is_a_tensor_to_every_operation(backend: Any, mode: Any) -> None:
    """Views go through every function as tensors do (unary, binary, reductions, nn)."""
    w = _tensor(dualgrad, START / 10, requires_grad=True)
    layer = nn.Linear(3, 2).double()
    out = layer(w.t()).tanh().sum() + w[0].exp().mean() + dualgrad.sin(w.T).sum()
    out.backward()
    torch = torch_or_skip()
    tw = _tensor(torch, START / 10, requires_grad=True)
    tlayer = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(values(layer.weight).copy()))
        tlayer.bias.copy_(torch.from_numpy(values(layer.bias).copy()))
    tout = tlayer(tw.t()).tanh().sum() + tw[0].exp().mean() + torch.sin(tw.T).sum()
    tout.backward()
    assert_close(out, tout, 1e-12, 1e-12, "the value")
    assert_close(w.grad, tw.grad, 1e-12, 1e-12, "the gradient")
