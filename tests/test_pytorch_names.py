"""The table of PyTorch names (tests/pytorch_names.py) says what is true of dualgrad.

A row marked supported names something dualgrad has, and its snippet, run with ``import dualgrad
as torch``, gives what PyTorch gives. A row marked unsupported really is: its snippet raises, or
gives something else than PyTorch. Both checks run on the numpy backend in reverse mode; the
comparison with PyTorch runs wherever torch is installed. The table covers the names the programs
in tests/programs/ use, and the docs page is generated from it.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import math

import numpy as np
import pytest
from pytorch_names import NAMES, PYTORCH, Name
from pytorch_programs import PROGRAMS, TORCH_MISSING, restore_defaults

import dualgrad

HAS_TORCH = importlib.util.find_spec("torch") is not None
SUPPORTED = [row for row in NAMES if row.supported]
UNSUPPORTED = [row for row in NAMES if not row.supported]


def _names(prefix: str, names: str) -> set[str]:
    return {f"{prefix}.{name}" for name in names.split()}


# The names the everyday surface must cover at the least: dtype aliases, Size, devices,
# constructors, comparison and utility, common Tensor methods, nn and optim, utils.data.
REQUIRED = (
    _names("torch", "float double half long int short bool cfloat cdouble")
    | _names("torch", "get_default_dtype set_default_dtype Size device set_default_device")
    | _names("torch.Tensor", "device to cpu cuda")
    | {"torch.cuda.is_available", "torch.Tensor"}
    | _names("torch", "from_numpy as_tensor randint randperm rand_like randn_like normal")
    | _names("torch", "bernoulli multinomial Generator allclose isclose equal numel is_tensor")
    | _names("torch", "softmax norm matmul max sum mean argmax load")
    | _names(
        "torch.Tensor",
        "data norm view expand repeat masked_fill index_select gather scatter_add clamp_ copy_ "
        "fill_ normal_ uniform_ type float long tolist new_zeros",
    )
    | _names(
        "torch.nn",
        "Flatten Unflatten Identity ModuleList ModuleDict ParameterList LayerNorm BatchNorm1d "
        "BatchNorm2d Embedding Conv1d Conv2d MaxPool2d AvgPool2d AdaptiveAvgPool2d LeakyReLU ELU "
        "SiLU Softplus NLLLoss BCELoss BCEWithLogitsLoss L1Loss SmoothL1Loss HuberLoss KLDivLoss",
    )
    | _names("torch.nn.functional", "conv2d max_pool2d")
    | _names(
        "torch.nn.utils",
        "clip_grad_norm_ clip_grad_value_ parameters_to_vector vector_to_parameters",
    )
    | _names("torch.nn.Module", "apply register_forward_hook")
    | _names("torch.optim", "Adagrad LBFGS")
    | _names(
        "torch.optim.lr_scheduler",
        "LambdaLR MultiStepLR ExponentialLR ReduceLROnPlateau OneCycleLR",
    )
    | _names("torch.utils.data", "Dataset TensorDataset DataLoader")
    | _names("torch.autograd", "gradcheck gradgradcheck forward_ad.unpack_dual")
)


# --- running a snippet ------------------------------------------------------------------------
def run_snippet(snippet: str, library) -> object:
    """The value of the snippet's last line, run with ``torch`` bound to ``library``."""
    namespace = {
        "torch": library,
        "np": np,
        "io": io,
        "x": library.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]),
    }
    module = ast.parse(snippet)
    last = ast.Expression(module.body.pop().value)
    try:
        exec(compile(module, "<snippet>", "exec"), namespace)
        return eval(compile(last, "<snippet>", "eval"), namespace)
    finally:
        restore_defaults(library)


def plain(value: object) -> object:
    """A value both libraries' results reduce to: tensors to (dtype, values, requires_grad)."""
    if hasattr(value, "detach") and hasattr(value, "dtype") and hasattr(value, "shape"):
        dtype = str(value.dtype).rsplit(".", 1)[-1]
        return ("tensor", dtype, np.asarray(value.detach().numpy()), bool(value.requires_grad))
    if type(value).__name__ in ("dtype", "DType"):
        return ("dtype", str(value).rsplit(".", 1)[-1])
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(plain(item) for item in value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    msg = f"a snippet ends in a {type(value).__name__}; end it in a tensor, number or string"
    raise TypeError(msg)


def same(got: object, want: object) -> bool:
    """Whether two plain values agree: equal, floats and float arrays to float32 tolerance."""
    if isinstance(want, tuple) and want[:1] in (("tensor",), ("array",)):
        if not (isinstance(got, tuple) and got[:2] == want[:2] and got[3:] == want[3:]):
            return False
        got_values, want_values = got[2], want[2]
        if got_values.shape != want_values.shape:
            return False
        if want_values.dtype.kind in "fc":
            return bool(np.allclose(got_values, want_values, rtol=1e-5, atol=1e-6, equal_nan=True))
        return bool(np.array_equal(got_values, want_values))
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(same(got[key], want[key]) for key in want)
        )
    if isinstance(want, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6) or (
            math.isnan(got) and math.isnan(want)
        )
    return type(got) is type(want) and got == want


def _reference(row: Name) -> object:
    """What dualgrad's result must match: the row's expected value, else PyTorch's."""
    if row.expected is not PYTORCH:
        return plain(row.expected)
    if not HAS_TORCH:
        pytest.skip(TORCH_MISSING)
    import torch

    return plain(run_snippet(row.snippet, torch))


def _resolve(name: str) -> None:
    """Look a PyTorch name up in dualgrad (``torch.`` read as ``dualgrad.``); AttributeError if
    it is missing. An instance attribute (``Optimizer.param_groups``) is not on its class: the
    lookup stops at the class, and the snippet checks the attribute."""
    found: object = dualgrad
    for part in name.split(".")[1:]:
        if isinstance(found, type) and not hasattr(found, part):
            return
        found = getattr(found, part)


@pytest.fixture
def numpy_reverse():
    with dualgrad.use_backend("numpy"), dualgrad.use_mode("reverse"):
        yield


# --- the table's truth ------------------------------------------------------------------------
@pytest.mark.parametrize("row", SUPPORTED, ids=lambda row: row.id)
def test_supported_name_exists_and_gives_what_pytorch_gives(row, numpy_reverse):
    _resolve(row.name)  # the name exists where PyTorch has it, not only some other spelling
    got = plain(run_snippet(row.snippet, dualgrad))
    want = _reference(row)
    assert same(got, want), f"{row.id}: dualgrad gives {got!r}, PyTorch {want!r}"


@pytest.mark.parametrize("row", UNSUPPORTED, ids=lambda row: row.id)
def test_unsupported_name_really_fails_or_differs(row, numpy_reverse):
    try:
        got = plain(run_snippet(row.snippet, dualgrad))
    except Exception:
        return
    want = _reference(row)
    assert not same(got, want), (
        f"{row.id} now runs and gives PyTorch's result: mark it supported in "
        f"tests/pytorch_names.py (why=None) and run python tests/render_pytorch_names.py"
    )


@pytest.mark.parametrize("row", NAMES, ids=lambda row: row.id)
def test_snippet_is_pytorch_code(row):
    if not HAS_TORCH:
        pytest.skip(TORCH_MISSING)
    import torch

    plain(run_snippet(row.snippet, torch))


def test_rows_are_distinct_and_explained():
    ids = [row.id for row in NAMES]
    assert len(ids) == len(set(ids))
    for row in NAMES:
        assert row.name.startswith("torch."), row.name
        assert row.why is None or row.why.strip(), row.id
        assert not (row.why and row.note), f"{row.id}: an unsupported row explains with why"


def test_table_covers_the_required_surface():
    listed = {row.name for row in NAMES}
    assert not REQUIRED - listed


def _torch_names(source: str) -> set[str]:
    """The dotted ``torch.`` names a program uses, through aliases like ``nn = torch.nn``."""
    tree = ast.parse(source)
    aliases = {"torch": "torch"}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, dotted = node.targets[0], _dotted(node.value, aliases)
            if isinstance(target, ast.Name) and dotted:
                aliases[target.id] = dotted
    dotted = (_dotted(node, aliases) for node in ast.walk(tree) if isinstance(node, ast.Attribute))
    return {name for name in dotted if name}


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda path: path.stem)
def test_table_lists_every_torch_name_a_program_uses(path):
    listed = {row.name for row in NAMES}
    used = _torch_names(path.read_text())
    # Every chain counts, and its prefixes too (torch.nn of torch.nn.Linear): a chain is covered
    # by a row of that name, a row it leads to, or a row it extends.
    missing = {
        name
        for name in used
        if not any(name == row or name.startswith(row + ".") for row in listed)
        and not any(row.startswith(name + ".") for row in listed)
    }
    assert not missing, f"{path.name} uses torch names the table lacks: {sorted(missing)}"


def test_docs_page_is_generated_from_the_table():
    from render_pytorch_names import PAGE, render

    assert PAGE.read_text() == render(), (
        "docs/pytorch-names.md is stale: python tests/render_pytorch_names.py"
    )
