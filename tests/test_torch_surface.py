"""PyTorch's everyday surface: dtype aliases, Size, devices, constructors, both faces of the
module-level functions, Tensor.data, and the autograd semantics PyTorch programs rely on.

Each behaviour runs on every backend (and in both modes where autograd is involved), and is
compared with PyTorch where it is installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tensors import assert_close, values
from torch_compare import compare, torch_or_skip

import dualgrad

DATA = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])


def _x() -> dualgrad.Tensor:
    return dualgrad.asarray(DATA)


# --- dtypes and Size --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("alias", "dtype"),
    [
        ("float", "float32"),
        ("double", "float64"),
        ("half", "float16"),
        ("long", "int64"),
        ("int", "int32"),
        ("short", "int16"),
        ("cfloat", "complex64"),
        ("cdouble", "complex128"),
    ],
)
def test_dtype_alias_is_the_same_dtype(alias, dtype):
    assert getattr(dualgrad, alias) is getattr(dualgrad, dtype)
    assert isinstance(getattr(dualgrad, alias), dualgrad.dtype)


def test_shape_is_a_size_that_prints_as_pytorchs(backend):
    shape = dualgrad.zeros(2, 3).shape
    assert isinstance(shape, dualgrad.Size) and isinstance(shape, tuple)
    assert shape == (2, 3) and shape.numel() == 6
    assert str(shape) == repr(shape) == "torch.Size([2, 3])"
    assert f"{dualgrad.zeros(()).shape}" == "torch.Size([])"


# --- devices ----------------------------------------------------------------------------------
def test_device_parses_and_prints_as_pytorchs():
    assert repr(dualgrad.device("cpu")) == "device(type='cpu')"
    assert str(dualgrad.device("cuda:1")) == "cuda:1"
    assert dualgrad.device("cuda", 0) == "cuda:0" == dualgrad.device("cuda:0")
    assert dualgrad.device("cuda") != dualgrad.device("cuda:0")
    assert dualgrad.device(dualgrad.device("cpu")).type == "cpu"
    with pytest.raises(ValueError, match="expected a device type"):
        dualgrad.device("cuda:x")


def test_tensor_device_names_the_backends_device(backend):
    x = dualgrad.ones(2)
    assert isinstance(x.device, dualgrad.device)
    assert x.device.type in ("cpu", "cuda", "tpu")
    assert dualgrad.asarray(x, device=x.device) is x


def test_cuda_is_available_answers_for_the_active_backend(backend):
    has_gpu = any(d.type == "cuda" for d in dualgrad._device.available_devices(backend))
    assert dualgrad.cuda.is_available() == has_gpu
    assert dualgrad.cuda.device_count() == (1 if has_gpu else 0) or has_gpu


def test_accelerator_answers_for_the_active_backend_as_pytorch(backend):
    devices = dualgrad._device.available_devices(backend)  # the torch backend's include "meta"
    accelerators = [d for d in devices if d.type in ("cuda", "tpu", "mps")]
    accelerator = dualgrad.accelerator
    assert accelerator.is_available() == bool(accelerators)
    if not accelerators:  # PyTorch's CPU build answers the same
        torch = torch_or_skip()
        assert accelerator.current_accelerator() is torch.accelerator.current_accelerator()
        assert accelerator.device_count() == torch.accelerator.device_count() == 0
        for library in (accelerator, torch.accelerator):
            with pytest.raises(RuntimeError, match="none is available"):
                library.current_device_index()
    device = accelerator.current_accelerator().type if accelerator.is_available() else "cpu"
    assert dualgrad.ones(1, device=device).device.type == device  # the tutorials' idiom


def test_accelerator_names_a_gpu_the_backend_has(backend, monkeypatch):
    class FakeGpu:  # a JAX device, as JAX's CUDA and Metal builds name them
        def __init__(self, platform, id):
            self.platform, self.id = platform, id

    for platform, kind in (("gpu", "cuda"), ("METAL", "mps")):
        devices = [dualgrad.device("cpu")] + [
            dualgrad._device._as_torch_device(FakeGpu(platform, i)) for i in (0, 1)
        ]
        monkeypatch.setattr(dualgrad._device, "available_devices", lambda _, d=devices: d)
        assert dualgrad.accelerator.is_available()
        assert dualgrad.accelerator.current_accelerator() == dualgrad.device(kind)
        assert dualgrad.accelerator.current_accelerator().index is None
        assert dualgrad.accelerator.device_count() == 2
        assert dualgrad.accelerator.current_device_index() == 0
        assert dualgrad.backends.mps.is_available() == (kind == "mps")
        assert dualgrad.cuda.is_available() == (kind == "cuda")


def test_torch_backends_flags_are_pytorchs_cpu_builds(backend):
    torch = torch_or_skip()
    for name in ("is_available", "is_built"):
        assert getattr(dualgrad.backends.mps, name)() is getattr(torch.backends.mps, name)()
    assert dualgrad.backends.cudnn.is_available() is torch.backends.cudnn.is_available()
    assert dualgrad.backends.cudnn.version() is torch.backends.cudnn.version() is None
    assert dualgrad.backends.cuda.is_built() is torch.backends.cuda.is_built()
    for mine, theirs, names in (
        (dualgrad.backends.cudnn, torch.backends.cudnn, "enabled benchmark deterministic"),
        (dualgrad.backends.cuda.matmul, torch.backends.cuda.matmul, "allow_tf32"),
    ):
        for name in [*names.split(), "allow_tf32"]:
            assert getattr(mine, name) == getattr(theirs, name), name
    # Set as training scripts do; they configure nothing dualgrad runs.
    before = dualgrad.backends.cudnn.benchmark
    dualgrad.backends.cudnn.benchmark = True
    try:
        assert dualgrad.backends.cudnn.benchmark is True
        assert_close(dualgrad.ones(2) * 2, [2.0, 2.0])
    finally:
        dualgrad.backends.cudnn.benchmark = before


@pytest.mark.parametrize("backend_name", ["numpy", "array_api_strict"])
def test_a_device_the_backend_lacks_raises_and_changes_nothing(backend_name):
    pytest.importorskip(backend_name)
    with dualgrad.use_backend(backend_name):
        x = dualgrad.ones(2)
        model = dualgrad.nn.Linear(2, 1)
        weight = model.weight
        for request in (lambda: x.to("cuda"), x.cuda, lambda: model.to("cuda")):
            with pytest.raises(RuntimeError, match="'cuda' is not available"):
                request()
        with pytest.raises(RuntimeError, match="not available"):
            dualgrad.zeros(2, device="cuda")
        nn = dualgrad.nn
        for make_layer in (
            lambda: nn.Linear(2, 1, device="cuda"),
            lambda: nn.Conv1d(2, 1, 1, device="cuda"),
            lambda: nn.Embedding(2, 1, device="cuda"),
        ):
            with pytest.raises(RuntimeError, match="not available"):
                make_layer()
        with pytest.raises(RuntimeError, match="not available"):
            dualgrad.set_default_device("cuda")
        assert dualgrad.zeros(1).device == "cpu"
        assert model.weight is weight


def test_to_takes_a_device_a_dtype_or_a_tensor(backend, mode):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    host = x.device
    assert (x.to(host) is x and x.to(device=host) is x and x.cpu() is x) or host != "cpu"
    y = x.to(host, dualgrad.float64)
    assert y.dtype is dualgrad.float64
    assert x.to(dtype=dualgrad.float64).dtype is dualgrad.float64
    z = x.to(dualgrad.zeros(1, dtype=dualgrad.float64))
    assert z.dtype is dualgrad.float64
    (y * z).sum().backward()  # the dtype change stays in the graph
    assert_close(x.grad, [2.0, 4.0])
    with pytest.raises(TypeError, match="given twice"):
        x.to(dualgrad.float64, dtype=dualgrad.float32)


def test_layers_are_made_on_the_device_asked_for(backend):
    host = dualgrad.ones(1).device
    for layer in (dualgrad.nn.Linear(2, 3, device=host), dualgrad.nn.LayerNorm(2, device=host)):
        assert all(p.device == host for p in layer.parameters())


def test_module_to_keeps_its_parameter_objects(backend):
    model = dualgrad.nn.Linear(2, 1)
    weight = model.weight
    assert model.to(model.weight.device) is model and model.weight is weight
    model.to(dualgrad.float64)
    assert model.weight is weight and weight.dtype is dualgrad.float64
    with pytest.raises(TypeError, match="floating point"):
        model.to(dualgrad.int64)


def test_default_device_applies_to_new_tensors_and_resets(backend):
    host = dualgrad.ones(1).device
    dualgrad.set_default_device(host)
    try:
        assert dualgrad.get_default_device() == host
        assert dualgrad.full((2,), 3.0).device == host
        assert dualgrad.zeros(2, device=host).device == host
    finally:
        dualgrad.set_default_device(None)


def test_tensor_type_names_and_converts(backend):
    x = dualgrad.tensor([1.5, -2.0])
    assert x.type() == "torch.FloatTensor"
    assert x.type(dualgrad.int64).dtype is dualgrad.int64
    assert x.type("torch.DoubleTensor").dtype is dualgrad.float64
    assert x.long().type() == "torch.LongTensor"
    assert x.new_zeros(3).dtype is x.dtype and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_tensor([1, 2]).dtype is x.dtype
    assert x.is_floating_point() and not x.long().is_floating_point()


# --- constructors -----------------------------------------------------------------------------
def test_tensor_class_builds_from_data_or_sizes(backend):
    assert_close(dualgrad.Tensor([-4.0, 2]), [-4.0, 2.0])
    assert dualgrad.Tensor([1, 2]).dtype is dualgrad.float32
    assert dualgrad.Tensor(2, 3).shape == (2, 3)
    assert dualgrad.Tensor([1.0]).backend is backend
    with pytest.raises(TypeError, match="data"):
        dualgrad.Tensor("a", 3.5)


def test_numpy_data_lands_on_the_active_backend(backend):
    data = np.arange(3.0)
    for made in (dualgrad.tensor(data), dualgrad.from_numpy(data), dualgrad.as_tensor(data)):
        assert made.backend is backend and made.dtype is dualgrad.float64
        assert_close(made, data)
    with pytest.raises(TypeError, match="NumPy ndarray"):
        dualgrad.from_numpy([1.0])


def test_from_numpy_holds_a_copy():
    data = np.arange(3.0)
    x = dualgrad.from_numpy(data)
    data[0] = 10.0
    assert values(x)[0] == 0.0


def test_as_tensor_returns_a_matching_tensor_itself(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    assert dualgrad.as_tensor(x) is x
    assert dualgrad.as_tensor(x, dtype=dualgrad.float64).dtype is dualgrad.float64


def test_random_constructors_draw_what_they_promise(backend):
    dualgrad.manual_seed(0)
    ints = dualgrad.randint(3, 7, (200,))
    assert ints.dtype is dualgrad.int64 and set(values(ints).tolist()) == {3, 4, 5, 6}
    assert dualgrad.randint(5, (4,)).shape == (4,)
    assert sorted(values(dualgrad.randperm(10)).tolist()) == list(range(10))
    x = dualgrad.zeros(2, 3, dtype=dualgrad.float64)
    for like in (dualgrad.rand_like(x), dualgrad.randn_like(x)):
        assert like.shape == (2, 3) and like.dtype is dualgrad.float64
    assert dualgrad.normal(2.0, 0.5, size=(3,)).shape == (3,)
    assert dualgrad.normal(dualgrad.zeros(4), 1.0).shape == (4,)
    coin = values(dualgrad.bernoulli(dualgrad.full((100,), 0.5)))
    assert set(coin.tolist()) <= {0.0, 1.0}
    picks = values(dualgrad.multinomial(dualgrad.tensor([1.0, 1.0, 1.0, 0.0]), 3))
    assert sorted(picks.tolist()) == [0, 1, 2]
    assert set(values(dualgrad.multinomial(dualgrad.tensor([0.0, 1.0]), 5, True)).tolist()) == {1}
    with pytest.raises(ValueError, match="without replacement"):
        dualgrad.multinomial(dualgrad.tensor([1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="empty"):
        dualgrad.randint(3, 3, (2,))


def test_a_generator_makes_draws_repeat(backend):
    draws = [
        values(dualgrad.randn(3, generator=dualgrad.Generator().manual_seed(7))) for _ in range(2)
    ]
    np.testing.assert_array_equal(*draws)


def test_in_place_samplers_keep_shape_and_range(backend):
    x = dualgrad.zeros(50).uniform_(-1.0, 1.0)
    assert x.shape == (50,) and values(x).min() >= -1.0 and values(x).max() < 1.0
    assert dualgrad.zeros(3).normal_(0.0, 1.0).shape == (3,)


# --- both faces of the module-level functions ------------------------------------------------
TORCH_FACES = [
    ("sum dim", lambda t: t.sum(DATA_T(t), dim=1)),
    ("sum positional keepdim", lambda t: t.sum(DATA_T(t), 1, keepdim=True)),
    ("mean dim", lambda t: t.mean(DATA_T(t), dim=0)),
    ("prod dim", lambda t: t.prod(DATA_T(t), 1)),
    ("std dim", lambda t: t.std(DATA_T(t), dim=0)),
    ("var bare", lambda t: t.var(DATA_T(t))),
    ("var unbiased False", lambda t: t.var(DATA_T(t), 1, unbiased=False)),
    ("argmax positional", lambda t: t.argmax(DATA_T(t), 1)),
    ("argmin dim", lambda t: t.argmin(DATA_T(t), dim=0)),
    ("max values", lambda t: t.max(DATA_T(t), 1).values),
    ("max indices", lambda t: t.max(DATA_T(t), dim=0, keepdim=True).indices),
    ("min tuple", lambda t: t.stack(list(t.min(DATA_T(t), 1)), 0).to(t.float64)),
    ("max other", lambda t: t.max(DATA_T(t), -DATA_T(t))),
    ("cumsum", lambda t: t.cumsum(DATA_T(t), dim=1)),
    ("stack dim", lambda t: t.stack([DATA_T(t), DATA_T(t)], dim=1)),
    ("cat dim", lambda t: t.cat([DATA_T(t), DATA_T(t)], dim=1)),
    ("sort dim", lambda t: t.sort(DATA_T(t), dim=1).values),
    ("argsort dim", lambda t: t.argsort(DATA_T(t), dim=1)),
    ("topk", lambda t: t.topk(DATA_T(t), 2, dim=1).indices),
    ("norm", lambda t: t.norm(DATA_T(t))),
    ("norm p dim", lambda t: t.norm(DATA_T(t), 1, dim=1)),
    ("norm nuc", lambda t: t.norm(DATA_T(t), "nuc")),
    ("matmul keywords", lambda t: t.matmul(input=DATA_T(t), other=DATA_T(t).T)),
    ("softmax", lambda t: t.softmax(DATA_T(t), dim=1)),
    ("log_softmax", lambda t: t.log_softmax(DATA_T(t), 0)),
    ("relu", lambda t: t.relu(DATA_T(t))),
    ("isclose", lambda t: t.isclose(DATA_T(t), DATA_T(t) + 1e-9)),
    ("chunk", lambda t: t.stack(t.chunk(DATA_T(t), 3, dim=1), 0)),
    ("split", lambda t: t.split(DATA_T(t), [1, 2], dim=1)[1]),
    ("mm", lambda t: t.mm(DATA_T(t), DATA_T(t).T)),
    ("linalg.norm", lambda t: t.linalg.norm(DATA_T(t))),
    ("linalg.norm ord", lambda t: t.linalg.norm(DATA_T(t), 2)),
    ("linalg.norm dim", lambda t: t.linalg.norm(DATA_T(t), 1, dim=1)),
    ("linalg.norm pair", lambda t: t.linalg.norm(DATA_T(t)[None], dim=(0, 2), keepdim=True)),
    ("dot", lambda t: t.dot(DATA_T(t)[0], DATA_T(t)[1])),
]


def DATA_T(library):
    return library.tensor(DATA.tolist(), dtype=library.float64)


@pytest.mark.parametrize(("name", "call"), TORCH_FACES, ids=[name for name, _ in TORCH_FACES])
def test_module_level_function_takes_pytorchs_face(name, call, backend):
    torch = torch_or_skip()
    assert_close(call(dualgrad), call(torch).numpy(), 1e-12, 1e-12, name)


def test_array_api_face_keeps_its_meaning(backend):
    x = _x()
    assert_close(dualgrad.max(x, axis=1), [3.0, 5.0])
    assert_close(dualgrad.var(x, axis=0), [2.25, 12.25, 20.25])  # correction 0
    assert_close(dualgrad.sort(x, axis=1, descending=True)[0], [3.0, 1.0, -2.0])
    assert dualgrad.sum(x, axis=1, keepdims=True).shape == (2, 1)
    with pytest.raises(TypeError, match="not both"):
        dualgrad.sum(x, 1, axis=1)
    with pytest.raises(TypeError, match="not both"):
        dualgrad.mean(x, keepdim=True, keepdims=True)


def test_squeeze_of_a_longer_axis_follows_the_face_of_the_call(backend):
    x = dualgrad.zeros(2, 1, 3)
    assert x.squeeze(0).shape == (2, 1, 3)  # the method: PyTorch's, a no-op
    assert x.squeeze((0, 1)).shape == (2, 3)
    assert dualgrad.squeeze(x, dim=0).shape == (2, 1, 3)
    with pytest.raises(ValueError, match="does not have length 1"):
        dualgrad.squeeze(x, axis=0)


def test_allclose_and_tensor_equal_give_one_bool(backend):
    x = _x()
    assert dualgrad.allclose(x, x + 1e-9) is True
    assert dualgrad.allclose(x, x + 1.0) is False
    assert x.equal(x.clone()) is True and x.equal(x[:1]) is False
    inf = dualgrad.tensor([np.inf, np.nan])
    assert values(dualgrad.isclose(inf, inf)).tolist() == [True, False]
    assert values(dualgrad.isclose(inf, inf, equal_nan=True)).tolist() == [True, True]
    assert dualgrad.is_tensor(x) and not dualgrad.is_tensor(DATA)
    assert dualgrad.numel(x) == 6 and dualgrad.is_floating_point(x)


# --- Tensor methods, against PyTorch (values and gradients) ------------------------------------
INDEX = np.array([[2, 0], [1, 1]])
DISTINCT = np.array([[2, 0], [0, 1]])  # where a repeat's winner is unspecified (scatter)
METHODS = [
    ("gather", lambda x: x.gather(1, _index(x, INDEX))),
    ("index_select", lambda x: x.index_select(1, _index(x, np.array([2, 0])))),
    ("scatter_add", lambda x: x.scatter_add(1, _index(x, INDEX), x[:, :2] * 2)),
    ("masked_fill", lambda x: x.masked_fill(x < 0, 0.5)),
    ("max dim", lambda x: x.max(1).values),
    ("topk", lambda x: x.topk(2, dim=1).values),
    ("sort", lambda x: x.sort(dim=0, descending=True).values),
    ("norm", lambda x: x.norm(dim=1)),
    ("chunk", lambda x: x.chunk(2, 1)[1]),
    ("unbind", lambda x: x.unbind(1)[2]),
    ("expand_as", lambda x: x[:1].expand_as(x)),
    ("view_as", lambda x: x.view_as(x.T)),
    ("scatter", lambda x: (x * 0).scatter(1, _index(x, DISTINCT), x[:, 1:] * 3)),
    ("scatter value", lambda x: x.scatter(1, _index(x, DISTINCT), 0.5)),
    ("index_add", lambda x: x.index_add(1, _index(x, np.array([2, 2])), x[:, :2], alpha=2)),
    ("index_fill", lambda x: x.index_fill(1, _index(x, np.array([0])), -1.0)),
    ("masked_select", lambda x: x.masked_select(x > 0)),
    ("scatter_ in place", lambda x: (x * 1).scatter_(1, _index(x, DISTINCT), x[:, :2] ** 2)),
    ("masked_fill_ in place", lambda x: (x * 1).masked_fill_(x > 2, 0.0)),
    ("index_add_ in place", lambda x: (x * 1).index_add_(0, _index(x, np.array([1])), x[:1])),
    ("abs_ sqrt_ in place", lambda x: (x * 1).abs_().sqrt_()),
    ("neg_ sigmoid_ pow_ in place", lambda x: (x * 1).neg_().sigmoid_() + (x * 2).pow_(2)),
    ("clamp_min", lambda x: x.clamp_min(0.5) + (x * 1).clamp_max_(1.0)),
    ("rsqrt", lambda x: (x * x).rsqrt()),
    ("round decimals", lambda x: (x / 3).round(decimals=2) * x),
    ("narrow", lambda x: x.narrow(1, -2, 2) * x.narrow(-1, 0, 2) + x.narrow(0, 1, 1)[:, 1:]),
]


def _index(x, array):
    return dualgrad.asarray(array) if isinstance(x, dualgrad.Tensor) else _torch_index(array)


def _torch_index(array):
    import torch

    return torch.from_numpy(array)


@pytest.mark.parametrize(("name", "call"), METHODS, ids=[name for name, _ in METHODS])
def test_tensor_method_matches_pytorch_with_gradients(name, call, backend, mode):
    compare(backend, call, call, [DATA.copy()])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((2, 0, 1), IndexError),  # dim
        ((1, -4, 1), IndexError),  # start
        ((1, 3, 0), None),  # an empty end slice
        ((1, 1, -1), ValueError),  # length
        ((1, 2, 2), ValueError),  # past the end (PyTorch's RuntimeError: docs/errors.md)
    ],
)
def test_narrow_checks_its_range_as_pytorch(args, error, backend):
    if error is None:
        assert _x().narrow(*args).shape == (2, 0)
        return
    with pytest.raises(error, match="narrow"):
        _x().narrow(*args)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, t: lib.unique(t),
        lambda lib, t: lib.unique(t, return_inverse=True, return_counts=True),
        lambda lib, t: lib.unique(t, sorted=False, return_counts=True),
        lambda lib, t: lib.unique(t, dim=0, return_inverse=True, return_counts=True),
        lambda lib, t: lib.unique(t, dim=-1, return_inverse=True),
        lambda lib, t: t.unique(return_inverse=True),
    ],
    ids=["values", "inverse and counts", "unsorted", "dim=0", "dim=-1", "method"],
)
def test_unique_is_pytorchs(call, backend):
    torch = torch_or_skip()
    data = np.array([[3, 1, 3], [2, 2, 0], [3, 1, 3]])
    ours, theirs = call(dualgrad, dualgrad.asarray(data)), call(torch, torch.from_numpy(data))
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(values(mine), expected.numpy())


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, t, w: lib.bincount(t),
        lambda lib, t, w: lib.bincount(t, minlength=9),
        lambda lib, t, w: t.bincount(w),
        lambda lib, t, w: lib.bincount(t, weights=w.float(), minlength=2),
        lambda lib, t, w: lib.bincount(t[:0]),
        lambda lib, t, w: lib.bincount(t, weights=lib.ones(t.shape, dtype=lib.int32)),
    ],
)
def test_bincount_is_pytorchs(call, backend):
    torch = torch_or_skip()
    data, weights = np.array([3, 1, 3, 0, 5, 3]), np.linspace(-1.0, 1.0, 6)
    ours = call(dualgrad, dualgrad.asarray(data), dualgrad.asarray(weights))
    theirs = call(torch, torch.from_numpy(data), torch.from_numpy(weights))
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(values(ours), theirs.numpy(), rtol=1e-6)


def test_bincount_weights_gradient_and_errors(backend, mode):
    torch = torch_or_skip()
    index = dualgrad.asarray(np.array([2, 0, 2]))
    weights = dualgrad.tensor([0.5, 1.0, 2.0], requires_grad=True)
    (dualgrad.bincount(index, weights) * dualgrad.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert_close(weights.grad, [100.0, 1.0, 100.0])
    bad_calls = [
        (lambda lib: lib.bincount(lib.tensor([-1])), ValueError),
        (lambda lib: lib.bincount(lib.tensor([[1]])), ValueError),
        (lambda lib: lib.bincount(lib.tensor([1, 2]), minlength=-1), ValueError),
        (lambda lib: lib.bincount(lib.tensor([1, 2]), weights=lib.ones(3)), ValueError),
        (lambda lib: lib.bincount(lib.tensor([1.0])), TypeError),
    ]
    for bad, kind in bad_calls:
        with pytest.raises(kind):
            bad(dualgrad)
        with pytest.raises((RuntimeError, NotImplementedError)):
            bad(torch)
        with pytest.raises(RuntimeError):  # ported code's except clause catches ours too
            bad(dualgrad)


def test_clamp_in_place_and_nonzero(backend):
    y = _x().clone()
    y.clamp_(min=0)
    assert_close(y, np.clip(DATA, 0, None))
    assert values((_x() > 0).nonzero()).tolist() == [[0, 0], [0, 2], [1, 0], [1, 1]]
    assert values(_x().eq(1.0)).tolist() == [[True, False, False], [False, False, False]]


# --- Tensor.data --------------------------------------------------------------------------------
def test_data_update_changes_the_parameter_outside_the_graph(backend, mode):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad
    assert_close(p, [0.0, 0.0])
    assert p.is_leaf and p.requires_grad
    assert not p.data.requires_grad


def test_in_place_change_through_data_changes_the_tensor(backend, mode):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.grad.data.zero_()
    assert_close(p.grad, [0.0, 0.0])
    alias = p.data
    with dualgrad.no_grad():
        p.add_(1.0)
    assert_close(alias, [2.0, 3.0])  # it reads the tensor's current values


def test_assigning_data_replaces_the_values(backend):
    p = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    p.data = dualgrad.tensor([5.0, 6.0, 7.0])
    assert p.shape == (3,) and p.requires_grad
    with pytest.raises(TypeError, match="must be set to a Tensor"):
        p.data = [1.0]


# --- autograd semantics -----------------------------------------------------------------------
def test_in_place_change_of_a_value_no_rule_reads_is_allowed(backend):
    d = dualgrad.tensor([1.0, 2.0], requires_grad=True) * 1.0
    e = 3 * d
    d += 1
    e.sum().backward()  # the derivative of 3 * d reads only the 3
    f = dualgrad.tensor([1.0, 2.0], requires_grad=True) * 1.0
    g = f * f
    f += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        g.sum().backward()


def test_unpack_dual_gives_back_the_tangent_and_none_after_the_level(backend):
    fwad = dualgrad.autograd.forward_ad
    tangent = dualgrad.tensor([1.0, 0.0])
    with fwad.dual_level():
        dual = fwad.make_dual(dualgrad.tensor([1.0, 2.0]), tangent)
        assert fwad.unpack_dual(dual).tangent is tangent
        out = dual * 2
        assert_close(fwad.unpack_dual(out).tangent, [2.0, 0.0])
    unpacked = fwad.unpack_dual(out)
    assert unpacked.tangent is None and unpacked.primal is out


def test_autograd_submodules_are_reachable_as_in_pytorch():
    import dualgrad.autograd.forward_ad as fwad

    assert fwad is dualgrad.forward_ad is dualgrad.autograd.forward_ad


def test_autograd_functional_matches_pytorch(backend):
    torch = torch_or_skip()
    point = [1.0, 2.0]

    def cubic(library):
        return lambda t: (t**3).sum() + (t[0] * t[1]) ** 2

    ours = dualgrad.autograd.functional
    theirs = torch.autograd.functional
    for name in ("hessian", "jacobian"):
        got = getattr(ours, name)(cubic(dualgrad), dualgrad.tensor(point, dtype=dualgrad.float64))
        want = getattr(theirs, name)(cubic(torch), torch.tensor(point, dtype=torch.float64))
        assert_close(got, want.numpy(), 1e-12, 1e-12, name)
    pair = (dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([3.0]))
    torch_pair = (torch.tensor([1.0, 2.0]), torch.tensor([3.0]))

    def mixed(a, b):  # either library's tensors
        return (a**3).sum() * b.sum() ** 2

    want = theirs.hessian(mixed, torch_pair)
    for outer in ("reverse-mode", "forward-mode"):
        got = ours.hessian(mixed, pair, outer_jacobian_strategy=outer)
        for i, j in np.ndindex(2, 2):
            assert_close(got[i][j], want[i][j].numpy(), 1e-6, 1e-6, outer)
    blocks = ours.jacobian(lambda a, b: a * b, pair)
    assert [tuple(block.shape) for block in blocks] == [(2, 2), (2, 1)]
    _, product = ours.hvp(lambda t: (t**3).sum(), dualgrad.tensor(point), dualgrad.ones(2))
    assert_close(product, [6.0, 12.0])


def _cube_sum(t):
    return (t**3).sum()


def _double(t):
    return t * 2


# name: (a call that may omit v, its product, a call that may not)
OMITTED_V = {
    "vjp": (lambda f: f(_cube_sum, dualgrad.tensor([2.0, 1.0])), [12.0, 3.0], _double),
    "jvp": (lambda f: f(_double, dualgrad.tensor([2.0])), [2.0], _double),
    "hvp": (lambda f: f(_cube_sum, dualgrad.tensor([2.0])), [12.0], _cube_sum),
    "vhp": (lambda f: f(_cube_sum, dualgrad.tensor([2.0])), [12.0], _cube_sum),
}


@pytest.mark.parametrize("name", sorted(OMITTED_V))
def test_autograd_functional_v_may_be_omitted_only_for_one_element(backend, name):
    """As in PyTorch: for one output element (vjp) or one input element (the others)."""
    call = getattr(dualgrad.autograd.functional, name)
    omitting, product, refusing = OMITTED_V[name]
    assert_close(omitting(call)[1], product)
    with pytest.raises(RuntimeError, match="The vector v can only be None"):
        call(refusing, dualgrad.ones(2))


HESSIAN_MESSAGE = (
    "the jacobian of the user-provided function with respect to input 0 is independent"
)
STRICT_CASES = [
    ("jacobian", "Output 0 of the user-provided function is independent of input 1"),
    ("vjp", "The output of the user-provided function is independent of input 1"),
    ("jvp", "The output of the user-provided function is independent of input 1"),
    (
        "hessian",
        "the jacobian of the user-provided function with respect to input 0 is independent",
    ),
    ("hvp", "the jacobian of the user-provided function with respect to input 0 is independent"),
    ("vhp", "the jacobian of the user-provided function with respect to input 0 is independent"),
]


def _strict_call(library, name, func, inputs):
    call = getattr(library.autograd.functional, name)
    if name in ("jacobian", "hessian", "vjp"):  # vjp's v defaults to 1 for a scalar output
        return call(func, inputs, strict=True)
    return call(func, inputs, inputs, strict=True)


@pytest.mark.parametrize(("name", "message"), STRICT_CASES)
def test_autograd_functional_strict_raises_as_pytorch(backend, mode, name, message):
    inputs = (dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([3.0]))

    def linear_in_a(a, b):  # independent of b, linear in a
        return (a * 2).sum()

    with pytest.raises(RuntimeError, match=message):
        _strict_call(dualgrad, name, linear_in_a, inputs)
    torch = torch_or_skip()
    with pytest.raises(RuntimeError, match=message):
        _strict_call(torch, name, linear_in_a, (torch.tensor([1.0, 2.0]), torch.tensor([3.0])))


@pytest.mark.parametrize(("name", "message"), STRICT_CASES)
def test_autograd_functional_strict_passes_where_every_input_is_used(backend, mode, name, message):
    inputs = (dualgrad.tensor([1.0, 2.0]), dualgrad.tensor([3.0]))

    def cubic(a, b):
        return (a**3).sum() * b.sum() ** 2

    strict = _strict_call(dualgrad, name, cubic, inputs)
    call = getattr(dualgrad.autograd.functional, name)
    plain = (
        call(cubic, inputs)
        if name in ("jacobian", "hessian", "vjp")
        else call(cubic, inputs, inputs)
    )
    leaves = dualgrad.tree_util.tree_leaves
    for got, want in zip(leaves(strict), leaves(plain), strict=True):
        assert_close(got, values(want))


def test_non_leaf_grad_warns_as_pytorch(backend):
    x = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # a leaf does not warn


def test_inference_mode_records_nothing(backend):
    with dualgrad.inference_mode():
        y = dualgrad.ones(1, requires_grad=True) * 2
    assert not y.requires_grad
    with dualgrad.inference_mode(False):
        assert (dualgrad.ones(1, requires_grad=True) * 2).requires_grad


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tanh", "sqrt", "rsqrt"])
def test_integer_tensors_go_through_math_in_the_default_float(name, backend):
    for dtype in ("int64", "int32", "int8", "uint8", "bool"):
        x = dualgrad.asarray(np.array([1, 2, 3]).astype(dtype))
        result = getattr(x, name)()
        assert result.dtype is dualgrad.get_default_dtype()
        expected = getattr(np, name)(np.array([1.0, 2.0, 3.0])) if name != "rsqrt" else None
        if expected is not None and dtype != "bool":
            assert_close(result, expected, 1e-6, 1e-6)


def test_numpy_scalars_are_weak_and_numpy_arrays_strong_operands(backend):
    x = dualgrad.ones(2, dtype=dualgrad.float32)
    assert (x * np.float32(2)).dtype is dualgrad.float32
    assert (np.float64(2) * x).dtype is dualgrad.float32
    assert values(np.int64(3) - x).tolist() == [2.0, 2.0]
    assert values(x > np.float32(0.5)).tolist() == [True, True]
    assert (dualgrad.ones(2, dtype=dualgrad.int32) * np.int64(2)).dtype is dualgrad.int32
    if backend.name != "jax":  # float64 data on JAX needs its 64-bit mode
        assert (x + np.ones(2)).dtype is dualgrad.float64
    with pytest.raises(TypeError, match="unsupported operand of type ndarray"):
        x + np.array(["a", "b"])


def test_a_0d_tensor_formats_as_its_number(backend):
    loss = (dualgrad.tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
    assert f"loss: {loss}" == "loss: 5.0" and f"{loss:.2f}" == "5.00"
    assert f"{dualgrad.tensor(3)}" == "3"
    assert f"{dualgrad.ones(2)}" == str(dualgrad.ones(2))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{dualgrad.ones(2):.2f}"


def test_deepcopy_and_pickle_copy_leaves_and_modules(backend):
    import copy
    import pickle

    leaf = dualgrad.tensor([1.0, 2.0], requires_grad=True)
    leaf.grad = dualgrad.ones(2)
    for clone in (copy.deepcopy(leaf), pickle.loads(pickle.dumps(leaf))):
        assert clone is not leaf and clone.requires_grad and clone.is_leaf
        assert values(clone).tolist() == [1.0, 2.0] and values(clone.grad).tolist() == [1.0, 1.0]
        assert clone._backend is leaf._backend
    model = dualgrad.nn.Sequential(dualgrad.nn.Linear(2, 3), dualgrad.nn.Tanh())
    target = copy.deepcopy(model)  # a DQN's target network, an ensemble's members
    assert isinstance(target[0].weight, dualgrad.nn.Parameter)
    with dualgrad.no_grad():
        target[0].weight.add_(1.0)
    assert not bool((target[0].weight == model[0].weight).any())
    restored = pickle.loads(pickle.dumps(model))
    x = dualgrad.ones(4, 2)
    assert_close(restored(x), values(model(x)), 0, 0)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(leaf * 2)
    with pytest.raises(RuntimeError, match="graph leaves"):
        pickle.dumps(leaf * 2)


@pytest.mark.parametrize(
    "key",
    [[3], [0, -4], (slice(None), [5]), ([1], [0, 4])],
    ids=["row 3", "row -4", "column 5", "pair"],
)
def test_an_index_array_out_of_range_raises_on_every_backend(key, backend):
    # JAX would clamp, CuPy wrap around: dualgrad checks where the library does not.
    x = dualgrad.asarray(np.arange(12.0).reshape(3, 4))
    tensor_key = tuple(
        dualgrad.asarray(np.array(part)) if isinstance(part, list) else part
        for part in (key if isinstance(key, tuple) else (key,))
    )
    with pytest.raises(IndexError, match=r"out of (bounds|range)"):  # the torch backend's own
        x[tensor_key]
    with pytest.raises(IndexError, match=r"out of (bounds|range)"):
        x.index_select(0, dualgrad.asarray(np.array([0, 3])))


def test_a_mask_of_the_wrong_shape_raises(backend):
    x = dualgrad.asarray(np.arange(6.0).reshape(3, 2))
    with pytest.raises(IndexError, match="shape of the mask"):
        x[dualgrad.asarray(np.array([True, False]))]
    assert values(x[dualgrad.asarray(np.array([True, False, True]))]).tolist() == [
        [0.0, 1.0],
        [4.0, 5.0],
    ]
