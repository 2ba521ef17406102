"""The PyTorch names training and autograd programs use, and whether dualgrad has each one.

One row per name (or per calling form of a name, where PyTorch accepts several and dualgrad does
not take them all), collected from PyTorch's tutorials, small public projects and the programs
in tests/programs/. ``snippet`` is PyTorch code that exercises the name: it runs with ``torch``
bound to the library under test, ``np`` to NumPy, ``io`` to the io module and ``x`` to
``torch.tensor([[1., -2., 3.], [4., 5., -6.]])``; the value of its last line is the result.

``why`` is None for a supported row, else the reason it is not (what is missing or different,
and why where it is a choice). ``tests/test_pytorch_names.py`` runs every row: a supported row's
name must exist in dualgrad and its snippet must give PyTorch's result (or ``expected``, where
the answer depends on the machine), and a row marked unsupported must really fail or differ, so
that the table says what is true. ``tests/render_pytorch_names.py`` writes docs/pytorch-names.md
from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PYTORCH = object()  # the default of Name.expected: the result must be what PyTorch gives
NOT_YET = "not in dualgrad yet"


@dataclass(frozen=True)
class Name:
    """One PyTorch name or calling form, a snippet that uses it, and whether dualgrad has it."""

    name: str  # PyTorch's full name: torch.float, torch.Tensor.view, torch.nn.Flatten, ...
    snippet: str
    why: str | None = None  # None: supported; else why not
    form: str | None = None  # the calling form, where the row is about one of several
    expected: Any = PYTORCH  # what dualgrad must give on the numpy backend, if not PyTorch's
    note: str = ""  # what a supported row's user should know (a difference that remains)

    @property
    def id(self) -> str:
        return self.form or self.name

    @property
    def supported(self) -> bool:
        return self.why is None


def _missing(what: str = "") -> str:
    return f"{NOT_YET}{': ' + what if what else ''}"


# --- dtypes -----------------------------------------------------------------------------------
DTYPES = [
    Name("torch.float32", "torch.zeros(2, dtype=torch.float32)"),
    Name("torch.float64", "torch.zeros(2, dtype=torch.float64)"),
    Name("torch.float16", "torch.zeros(2, dtype=torch.float16)"),
    Name("torch.int64", "torch.zeros(2, dtype=torch.int64)"),
    Name("torch.int32", "torch.zeros(2, dtype=torch.int32)"),
    Name("torch.int16", "torch.zeros(2, dtype=torch.int16)"),
    Name("torch.int8", "torch.zeros(2, dtype=torch.int8)"),
    Name("torch.uint8", "torch.zeros(2, dtype=torch.uint8)"),
    Name("torch.bool", "torch.zeros(2, dtype=torch.bool)"),
    Name("torch.complex64", "torch.zeros(2, dtype=torch.complex64)"),
    Name("torch.complex128", "torch.zeros(2, dtype=torch.complex128)"),
    Name("torch.float", "torch.ones(2, dtype=torch.float)"),
    Name("torch.double", "torch.ones(2, dtype=torch.double)"),
    Name("torch.half", "torch.ones(2, dtype=torch.half)"),
    Name("torch.long", "torch.ones(2, dtype=torch.long)"),
    Name("torch.int", "torch.ones(2, dtype=torch.int)"),
    Name("torch.short", "torch.ones(2, dtype=torch.short)"),
    Name("torch.cfloat", "torch.ones(2, dtype=torch.cfloat)"),
    Name("torch.cdouble", "torch.ones(2, dtype=torch.cdouble)"),
    Name(
        "torch.bfloat16",
        "torch.ones(2, dtype=torch.bfloat16).dtype == torch.bfloat16",
        "NumPy and the Array API have no bfloat16, so no backend can hold one everywhere",
    ),
    Name(
        "torch.dtype",
        "isinstance(torch.float32, torch.dtype)",
    ),
    Name(
        "torch.get_default_dtype",
        "torch.get_default_dtype() == torch.float32",
    ),
    Name(
        "torch.set_default_dtype",
        "torch.set_default_dtype(torch.float64)\ny = torch.ones(2)\n"
        "torch.set_default_dtype(torch.float32)\ny",
    ),
    Name("torch.finfo", "torch.finfo(torch.float32).eps"),
    Name("torch.iinfo", "torch.iinfo(torch.int32).max"),
    Name(
        "torch.Tensor.dtype",
        "str(x.dtype)",
        "dtypes print as dualgrad.float32, not torch.float32: dualgrad names its own dtypes",
        form="str(Tensor.dtype)",
    ),
]

# --- Size and devices -------------------------------------------------------------------------
SIZE_AND_DEVICES = [
    Name("torch.Size", "str(torch.Size([2, 3]))"),
    Name("torch.Tensor.shape", "str(x.shape)", form="str(Tensor.shape)"),
    Name("torch.Tensor.shape", "x.shape[1]", form="Tensor.shape[i]"),
    Name(
        "torch.Tensor.shape",
        "(str(x.shape[1:]), str(x.shape + (4,)))",
        form="Tensor.shape[i:] and shape + tuple",
    ),
    Name("torch.Tensor.size", "(x.size(), x.size(0), x.size(-1))"),
    Name(
        "torch.Size.numel",
        "x.shape.numel()",
        form="Tensor.shape.numel()",
    ),
    Name("torch.device", "str(torch.device('cpu'))"),
    Name("torch.device", "torch.device('cpu').type", form="torch.device(...).type"),
    Name("torch.Tensor.device", "str(x.device)", form="str(Tensor.device)"),
    Name(
        "torch.Tensor.device",
        "x.device.type",
        form="Tensor.device.type",
    ),
    Name(
        "torch.Tensor.to",
        "x.to('cpu')",
        form="Tensor.to(device)",
        note="a tensor that requires grad does not move between devices: move the leaves first",
    ),
    Name("torch.Tensor.to", "x.to(torch.float64)", form="Tensor.to(dtype)"),
    Name(
        "torch.Tensor.to",
        "x.to(device='cpu', dtype=torch.float64)",
        form="Tensor.to(device=..., dtype=...)",
    ),
    Name(
        "torch.Tensor.to",
        "x.to(torch.zeros(1, dtype=torch.float64))",
        form="Tensor.to(other)",
    ),
    Name("torch.Tensor.cpu", "x.cpu()"),
    Name(
        "torch.Tensor.cuda",
        "try:\n    x.cuda()\n    moved = True\nexcept AttributeError:\n    raise\n"
        "except Exception:\n    moved = False\nmoved == torch.cuda.is_available()",
    ),
    Name("torch.Tensor.is_cuda", "x.is_cuda", expected=False),
    Name(
        "torch.cuda.is_available",
        "torch.cuda.is_available()",
        expected=False,
    ),
    Name("torch.cuda.device_count", "torch.cuda.device_count()", expected=0),
    Name("torch.backends.mps.is_available", "torch.backends.mps.is_available()", expected=False),
    Name("torch.backends.mps.is_built", "torch.backends.mps.is_built()", expected=False),
    Name(
        "torch.backends.cudnn.benchmark",
        "torch.backends.cudnn.benchmark = True\ntorch.backends.cudnn.deterministic = True\n"
        "b = (torch.backends.cudnn.benchmark, torch.backends.cudnn.is_available())\n"
        "torch.backends.cudnn.benchmark = torch.backends.cudnn.deterministic = False\nb",
        expected=(True, False),
        note="settable, as on PyTorch's CPU builds; dualgrad never calls cuDNN",
    ),
    Name(
        "torch.backends.cuda.matmul.allow_tf32",
        "torch.backends.cuda.matmul.allow_tf32 = True\n"
        "a = torch.backends.cuda.matmul.allow_tf32\n"
        "torch.backends.cuda.matmul.allow_tf32 = False\na",
        note="settable, as on PyTorch's CPU builds; dualgrad has no CUDA kernels of its own",
    ),
    Name("torch.accelerator.is_available", "torch.accelerator.is_available()", expected=False),
    Name(
        "torch.accelerator.current_accelerator",
        "torch.accelerator.current_accelerator().type "
        "if torch.accelerator.is_available() else 'cpu'",
        expected="cpu",
    ),
    Name("torch.accelerator.device_count", "torch.accelerator.device_count()", expected=0),
    Name(
        "torch.set_default_device",
        "torch.set_default_device('cpu')\ny = torch.zeros(1)\ntorch.set_default_device(None)\n"
        "str(y.device)",
    ),
    Name(
        "torch.nn.Module.to",
        "torch.nn.Linear(2, 2).to('cpu').weight.shape",
        form="Module.to(device)",
    ),
    Name(
        "torch.nn.Module.to",
        "torch.nn.Linear(2, 2).to(torch.float64).weight.dtype == torch.float64",
        form="Module.to(dtype)",
    ),
    Name("torch.nn.Module.cpu", "torch.nn.Linear(2, 2).cpu().weight.shape"),
]

# --- creation and random numbers --------------------------------------------------------------
CREATION = [
    Name("torch.tensor", "torch.tensor([[1, 2], [3, 4]])"),
    Name(
        "torch.tensor",
        "torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)",
        form="torch.tensor(data, dtype=..., requires_grad=True)",
    ),
    Name(
        "torch.tensor",
        "torch.tensor(np.arange(3.0), dtype=torch.float32)",
        form="torch.tensor(numpy_array)",
        note="on a backend other than NumPy's the tensor stays a NumPy tensor (asarray moves "
        "it); ops mixing it with the backend's tensors then fail",
    ),
    Name(
        "torch.Tensor",
        "torch.Tensor([-4.0, 2.0])",
        form="torch.Tensor(data)",
    ),
    Name(
        "torch.from_numpy",
        "torch.from_numpy(np.arange(3.0))",
        note="the tensor holds a copy: later changes to the array do not show in it",
    ),
    Name("torch.as_tensor", "torch.as_tensor(np.arange(3.0), dtype=torch.float32)"),
    Name("torch.zeros", "(torch.zeros(2, 3), torch.zeros((2, 3)))"),
    Name("torch.ones", "torch.ones(2, 3, dtype=torch.int64)"),
    Name("torch.full", "(torch.full((2,), 7), torch.full((), 0.5, requires_grad=True))"),
    Name("torch.arange", "(torch.arange(5), torch.arange(0, 1, 0.25))"),
    Name("torch.linspace", "torch.linspace(-1, 1, 5)"),
    Name("torch.eye", "torch.eye(3)"),
    Name("torch.empty", "torch.empty(2, 3).shape"),
    Name("torch.zeros_like", "torch.zeros_like(x)"),
    Name("torch.ones_like", "torch.ones_like(x)"),
    Name("torch.full_like", "torch.full_like(x, 2.0)"),
    Name("torch.empty_like", "torch.empty_like(x).shape"),
    Name(
        "torch.manual_seed",
        "torch.manual_seed(0)\na = torch.randn(3)\ntorch.manual_seed(0)\n"
        "bool((a == torch.randn(3)).all())",
    ),
    Name("torch.randn", "(torch.randn(2, 3).shape, torch.randn(2, 3).dtype)"),
    Name("torch.rand", "y = torch.rand(100)\n(y.shape, bool((y >= 0).all() and (y < 1).all()))"),
    Name(
        "torch.randint",
        "y = torch.randint(0, 10, (50,))\n(y.dtype, bool((y >= 0).all() and (y < 10).all()))",
    ),
    Name("torch.randperm", "torch.randperm(6).sort().values"),
    Name("torch.rand_like", "torch.rand_like(x).shape"),
    Name("torch.randn_like", "torch.randn_like(x).shape"),
    Name("torch.normal", "torch.normal(0.0, 1.0, size=(2, 3)).shape"),
    Name(
        "torch.bernoulli",
        "y = torch.bernoulli(torch.full((50,), 0.5))\nbool(((y == 0) | (y == 1)).all())",
    ),
    Name(
        "torch.multinomial",
        "torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2, replacement=True)",
    ),
    Name(
        "torch.Generator",
        "g = torch.Generator().manual_seed(0)\ntorch.randn(3, generator=g).shape",
    ),
    Name("torch.Tensor.normal_", "torch.zeros(3).normal_(0.0, 1.0).shape"),
    Name("torch.Tensor.uniform_", "torch.zeros(3).uniform_(-1, 1).shape"),
]

# --- functions at the top level: reductions and shapes in PyTorch's spelling ------------------
FUNCTIONS = [
    Name("torch.sum", "torch.sum(x)", form="torch.sum(input)"),
    Name("torch.sum", "torch.sum(x, dim=1)", form="torch.sum(input, dim)"),
    Name(
        "torch.sum",
        "torch.sum(x, 1, keepdim=True)",
        form="torch.sum(input, dim, keepdim=True)",
    ),
    Name("torch.mean", "torch.mean(x, dim=0)", form="torch.mean(input, dim)"),
    Name("torch.std", "torch.std(x, dim=0)", form="torch.std(input, dim)"),
    Name(
        "torch.var",
        "torch.var(x)",
        form="torch.var(input)",
        note="correction 1 as in PyTorch; a call in the Array API's words (axis=) gets its 0",
    ),
    Name("torch.prod", "torch.prod(x)"),
    Name("torch.max", "torch.max(x)", form="torch.max(input)"),
    Name(
        "torch.max",
        "values, indices = torch.max(x, 1)\n(values, indices)",
        form="torch.max(input, dim) -> (values, indices)",
        note="tied maxima share the gradient evenly (PyTorch gives it to the one indexed)",
    ),
    Name(
        "torch.max",
        "torch.max(x, dim=1).indices",
        form="torch.max(input, dim=...).indices",
    ),
    Name(
        "torch.max",
        "torch.max(x, -x)",
        form="torch.max(input, other)",
    ),
    Name(
        "torch.min",
        "torch.min(x, 0)",
        form="torch.min(input, dim) -> (values, indices)",
    ),
    Name("torch.argmax", "torch.argmax(x)", form="torch.argmax(input)"),
    Name("torch.argmax", "torch.argmax(x, 1)", form="torch.argmax(input, dim)"),
    Name(
        "torch.argmax",
        "torch.argmax(x, dim=1)",
        form="torch.argmax(input, dim=...)",
    ),
    Name("torch.argmin", "torch.argmin(x, dim=0)", form="torch.argmin(input, dim)"),
    Name("torch.cumsum", "torch.cumsum(x, dim=1)"),
    Name("torch.sort", "torch.sort(x, dim=1)", form="torch.sort(input, dim)"),
    Name("torch.argsort", "torch.argsort(x, dim=1)", form="torch.argsort(input, dim)"),
    Name("torch.topk", "torch.topk(x.flatten(), 2)"),
    Name("torch.unique", "torch.unique(torch.tensor([3, 1, 3, 2]))"),
    Name(
        "torch.bincount",
        "(torch.bincount(torch.tensor([0, 3, 3])),\n"
        " torch.bincount(torch.tensor([1, 1]), torch.tensor([0.5, 2.0]), minlength=3))",
    ),
    Name(
        "torch.LongTensor",
        "(torch.LongTensor([1.7, -2.2]), torch.LongTensor(2).shape,\n"
        " isinstance(torch.tensor([1]), torch.LongTensor))",
    ),
    Name(
        "torch.FloatTensor",
        "(torch.FloatTensor([[1, 2]]), isinstance(x, torch.FloatTensor),\n"
        " x.type(torch.DoubleTensor).dtype == torch.float64)",
    ),
    Name(
        "torch.unique",
        "torch.unique(x.round(), return_inverse=True, return_counts=True)",
        form="torch.unique(input, return_inverse=True, return_counts=True)",
    ),
    Name(
        "torch.unique",
        "torch.unique(torch.tensor([[1, 2], [1, 2], [0, 5]]), dim=0, return_inverse=True)",
        form="torch.unique(input, dim=...)",
    ),
    Name("torch.Tensor.unique", "torch.tensor([2, 2, 1]).unique()"),
    Name("torch.cat", "(torch.cat((x, x)).shape, torch.cat([x, x], dim=1).shape)"),
    Name("torch.stack", "torch.stack((x, x)).shape", form="torch.stack(tensors)"),
    Name(
        "torch.stack",
        "torch.stack([x, x], dim=1).shape",
        form="torch.stack(tensors, dim)",
    ),
    Name("torch.reshape", "torch.reshape(x, (3, 2))"),
    Name("torch.flatten", "torch.flatten(torch.ones(2, 3, 4), 1).shape"),
    Name("torch.squeeze", "torch.squeeze(torch.zeros(1, 2, 1)).shape"),
    Name("torch.unsqueeze", "torch.unsqueeze(x, 0).shape"),
    Name("torch.transpose", "torch.transpose(x, 0, 1)"),
    Name("torch.permute", "torch.permute(x, (1, 0))"),
    Name("torch.where", "torch.where(x > 0, x, 0.0)"),
    Name("torch.clamp", "torch.clamp(x, min=0)"),
    Name("torch.abs", "torch.abs(x)"),
    Name("torch.exp", "torch.exp(x / 10)"),
    Name("torch.log", "torch.log(torch.abs(x))"),
    Name("torch.sqrt", "torch.sqrt(torch.abs(x))"),
    Name("torch.sin", "torch.sin(x)"),
    Name("torch.cos", "torch.cos(x)"),
    Name("torch.tanh", "torch.tanh(x)"),
    Name("torch.sigmoid", "torch.sigmoid(x)"),
    Name("torch.relu", "torch.relu(x)"),
    Name("torch.softmax", "torch.softmax(x, dim=1)"),
    Name("torch.log_softmax", "torch.log_softmax(x, dim=1)"),
    Name("torch.matmul", "torch.matmul(x, x.T)", form="torch.matmul(input, other)"),
    Name(
        "torch.matmul",
        "torch.matmul(input=x, other=x.T)",
        form="torch.matmul(input=..., other=...)",
    ),
    Name("torch.mm", "torch.mm(x, x.T)"),
    Name("torch.bmm", "torch.bmm(torch.ones(2, 2, 3), torch.ones(2, 3, 4)).shape"),
    Name("torch.dot", "torch.dot(x[0], x[1])"),
    Name("torch.outer", "torch.outer(x[0], x[1])"),
    Name("torch.einsum", "torch.einsum('ij,kj->ik', x, x)"),
    Name("torch.norm", "torch.norm(x)"),
    Name("torch.linalg.norm", "torch.linalg.norm(x)"),
    Name("torch.linalg.vector_norm", "torch.linalg.vector_norm(x)"),
    Name("torch.linalg.inv", "torch.linalg.inv(torch.eye(2) * 2)"),
    Name(
        "torch.sqrt",
        "(torch.sqrt(torch.arange(4)), torch.exp(torch.tensor([1, 2], dtype=torch.uint8)))",
        form="torch.sqrt(integer tensor) (computed in the default float dtype)",
    ),
    Name(
        "torch.unsqueeze", "torch.unsqueeze(x, dim=1).shape", form="torch.unsqueeze(input, dim=)"
    ),
    Name("torch.flip", "(torch.flip(x, [0]), torch.flip(x, dims=(0, 1)))"),
    Name("torch.triu", "(torch.triu(x), torch.triu(x, diagonal=1))"),
    Name("torch.tril", "(torch.tril(torch.ones(3, 3)), torch.tril(x, -1))"),
    Name("torch.add", "(torch.add(x, 1, alpha=2), torch.sub(x, x, alpha=0.5))", form="alpha="),
    Name(
        "torch.div",
        "a, b = torch.tensor([-7, 7, 5]), torch.tensor([2, 2, -2])\n"
        "(torch.div(a, b, rounding_mode='trunc'), torch.div(a, b, rounding_mode='floor'),\n"
        " torch.div(x, 4, rounding_mode='trunc'), x.div(4, rounding_mode='floor'))",
        form="torch.div(input, other, rounding_mode=)",
    ),
    Name(
        "torch.round",
        "(torch.round(x / 3, decimals=2), (x / 7).round(decimals=1))",
        form="torch.round(input, decimals=)",
    ),
    Name(
        "torch.mul",
        "y, z = torch.zeros(2, 3), torch.zeros(2, 2)\n"
        "torch.mul(x, x, out=y)\ntorch.matmul(x, x.T, out=z)\n(y, z)",
        form="out=",
    ),
    Name(
        "torch.where",
        "torch.where(x > 0)",
        form="torch.where(condition)",
    ),
    Name(
        "torch.nonzero",
        "torch.nonzero(x > 0, as_tuple=False)",
        form="torch.nonzero(input, as_tuple=False)",
    ),
    Name(
        "torch.nonzero",
        "torch.nonzero(x > 0)",
        "dualgrad.nonzero(x) is the Array API's: a tuple of index tensors, one per axis (as "
        "PyTorch's as_tuple=True); as_tuple=False and the method x.nonzero() give PyTorch's "
        "(count, ndim) tensor",
        form="torch.nonzero(input)",
    ),
    Name(
        "torch.meshgrid",
        "torch.meshgrid(torch.arange(2), torch.arange(3), indexing='ij')[0]",
        form="torch.meshgrid(..., indexing='ij')",
    ),
    Name(
        "torch.meshgrid",
        "torch.meshgrid(torch.arange(2), torch.arange(3))[0]",
        "without indexing=, dualgrad.meshgrid is the Array API's, whose default is 'xy' "
        "(PyTorch's is 'ij', with a warning); pass indexing= to say which",
        form="torch.meshgrid(...) without indexing=",
    ),
    Name("torch.hstack", "(torch.hstack([x, x]), torch.hstack([x[0], x[1]]))"),
    Name("torch.vstack", "(torch.vstack([x, x]), torch.vstack([x[0], x[1]]))"),
    Name("torch.gather", "torch.gather(x, 1, torch.tensor([[0], [2]]))"),
    Name("torch.index_select", "torch.index_select(x, 1, torch.tensor([2, 0]))"),
    Name("torch.masked_fill", "torch.masked_fill(x, x < 0, 0.0)"),
    Name("torch.masked_select", "torch.masked_select(x, x > 0)"),
    Name("torch.scatter", "torch.scatter(torch.zeros(2, 3), 1, torch.tensor([[2], [0]]), x)"),
    Name("torch.clone", "torch.clone(x)"),
    Name("torch.eq", "(torch.eq(x, 3.0), torch.gt(x, 0), torch.le(x, x))"),
    Name("torch.amax", "(torch.amax(x, 1), torch.amin(x, dim=0))"),
    Name("torch.rsqrt", "torch.rsqrt(torch.abs(x))"),
    Name(
        "torch.nan_to_num",
        "torch.nan_to_num(torch.tensor([float('nan'), float('inf'), -float('inf'), 1.0]), "
        "nan=0.5, neginf=-9.0)",
    ),
    Name("torch.narrow", "(torch.narrow(x, 1, 1, 2), x.narrow(0, 1, 1))"),
    Name("torch.repeat_interleave", "torch.repeat_interleave(x, 2, dim=0)"),
    Name("torch.einsum", "torch.einsum('ij,kj->ik', [x, x])", form="torch.einsum(eq, [operands])"),
    Name(
        "torch.Tensor.type_as",
        "(x.type_as(torch.tensor([1])), x.where(x > 0, -x), x.swapaxes(0, 1))",
        form="Tensor.type_as, Tensor.where, Tensor.swapaxes",
    ),
    Name(
        "torch.Tensor.nelement",
        "(x.nelement(), x.element_size(), x.is_contiguous())",
        form="Tensor.nelement, element_size, is_contiguous",
    ),
]

# --- comparison, utility and grad mode --------------------------------------------------------
UTILITY = [
    Name(
        "torch.set_printoptions",
        "torch.set_printoptions(precision=2, sci_mode=False)\na = repr(x / 3e3)\n"
        "torch.set_printoptions(profile='short')\n(a, repr(torch.arange(2000.0)))",
    ),
    Name("torch.allclose", "torch.allclose(x, x + 1e-9)"),
    Name("torch.isclose", "torch.isclose(x, x + 1e-9)"),
    Name(
        "torch.equal",
        "torch.equal(x, x.clone())",
        "dualgrad.equal is the Array API's elementwise equal, and the call cannot say which is "
        "meant; the method x.equal(y) is PyTorch's one bool",
    ),
    Name("torch.numel", "torch.numel(x)"),
    Name("torch.is_tensor", "torch.is_tensor(x)"),
    Name("torch.is_floating_point", "torch.is_floating_point(x)"),
    Name(
        "torch.no_grad",
        "p = torch.ones(1, requires_grad=True)\nwith torch.no_grad():\n    y = p * 2\n"
        "y.requires_grad",
    ),
    Name(
        "torch.enable_grad",
        "with torch.no_grad():\n    with torch.enable_grad():\n"
        "        y = torch.ones(1, requires_grad=True) * 2\ny.requires_grad",
    ),
    Name(
        "torch.set_grad_enabled",
        "with torch.set_grad_enabled(False):\n"
        "    y = torch.ones(1, requires_grad=True) * 2\ny.requires_grad",
    ),
    Name("torch.is_grad_enabled", "torch.is_grad_enabled()"),
    Name(
        "torch.inference_mode",
        "with torch.inference_mode():\n    y = torch.ones(1, requires_grad=True) * 2\n"
        "y.requires_grad",
    ),
]

# --- Tensor methods and attributes ------------------------------------------------------------
TENSOR = [
    Name(
        "torch.Tensor.data",
        "p = torch.ones(2, requires_grad=True)\np.data -= 0.5 * torch.ones(2)\n"
        "(p, p.is_leaf, p.requires_grad)",
    ),
    Name(
        "torch.Tensor.data",
        "p = torch.ones(2, requires_grad=True)\n(p * p).sum().backward()\np.grad.data.zero_()\n"
        "p.grad",
        form="Tensor.data.zero_() (an alias)",
    ),
    Name(
        "torch.Tensor.backward",
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\n(p ** 2).sum().backward()\np.grad",
    ),
    Name(
        "torch.Tensor.backward",
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "(3 * p ** 2).backward(gradient=torch.tensor([1.0, 0.5]))\np.grad",
        form="Tensor.backward(gradient=...)",
    ),
    Name(
        "torch.Tensor.grad",
        "p = torch.tensor([1.0], requires_grad=True)\n"
        "q = torch.tensor([2.0], requires_grad=True)\n"
        "(p * q).sum().backward()\n(p.grad, q.grad, torch.ones(1).grad)",
    ),
    Name(
        "torch.Tensor.requires_grad_",
        "p = torch.ones(2).requires_grad_()\n(p.requires_grad, p.is_leaf)",
    ),
    Name(
        "torch.Tensor.is_leaf",
        "p = torch.ones(2, requires_grad=True)\n(p.is_leaf, (p * 2).is_leaf)",
    ),
    Name(
        "torch.Tensor.grad_fn",
        "p = torch.ones(2, requires_grad=True)\n(p.grad_fn is None, (p * 2).grad_fn is None)",
    ),
    Name("torch.Tensor.detach", "torch.ones(2, requires_grad=True).detach().requires_grad"),
    Name(
        "torch.Tensor.retain_grad",
        "p = torch.ones(2, requires_grad=True)\nq = p * 3\nq.retain_grad()\nq.sum().backward()\n"
        "q.grad",
    ),
    Name(
        "torch.Tensor.register_hook",
        "p = torch.ones(2, requires_grad=True)\nh = p.register_hook(lambda g: g * 10)\n"
        "p.sum().backward()\nh.remove()\np.grad",
    ),
    Name("torch.Tensor.item", "(x[0, 0].item(), torch.tensor(3).item())"),
    Name("torch.Tensor.tolist", "x.tolist()"),
    Name("torch.Tensor.numpy", "x.numpy()"),
    Name("torch.Tensor.clone", "x.clone()"),
    Name("torch.Tensor.norm", "(x.norm(), x.norm(1), x.norm(dim=1))"),
    Name("torch.Tensor.view", "x.view(3, 2)"),
    Name(
        "torch.Tensor.view",
        "y = x.view(-1)\ny[0] = 10.0\nx[0, 0].item()",
        form="Tensor.view (writes through the view)",
        note="written back into the base, which owns its own array (JAX's are immutable)",
    ),
    Name(
        "torch.Tensor.view",
        "y = x.view(-1)\nx.add_(1.0)\ny[0].item()",
        "a view read after its base changed in place keeps the values it was made with "
        "(reading does not look at the base; a change through the view catches up first)",
        form="Tensor.view (reads the base's later changes)",
    ),
    Name(
        "torch.Tensor.__getitem__",
        "x[0].fill_(0.0)\nx[:, 1].mul_(10.0)\nx.t()[2].add_(1.0)\nx",
        form="in-place changes through x[0], x[:, 1], x.t()",
    ),
    Name(
        "torch.Tensor.detach",
        "w = torch.ones(2, requires_grad=True)\nw.detach().mul_(3.0)\nw",
        form="Tensor.detach (in-place changes reach the tensor)",
    ),
    Name(
        "torch.Tensor.data",
        "w = torch.ones(4, requires_grad=True)\nw.data[1:3].fill_(5.0)\nw",
        form="w.data[a:b].fill_ (the forget-gate bias idiom)",
    ),
    Name("torch.Tensor.select", "(x.select(1, 2), torch.select(x, 0, -1))"),
    Name("torch.Tensor.view_as", "x.view_as(torch.zeros(3, 2)).shape"),
    Name("torch.Tensor.reshape", "x.reshape(-1)"),
    Name("torch.Tensor.flatten", "torch.ones(2, 3, 4).flatten(1).shape"),
    Name("torch.Tensor.expand", "x[:1].expand(4, 3)"),
    Name("torch.Tensor.expand_as", "x[:1].expand_as(x)"),
    Name("torch.Tensor.repeat", "x.repeat(2, 1)"),
    Name("torch.Tensor.unsqueeze", "x.unsqueeze(-1).shape"),
    Name("torch.Tensor.squeeze", "torch.zeros(2, 1).squeeze(1).shape"),
    Name(
        "torch.Tensor.squeeze",
        "x.squeeze(1).shape",
        form="Tensor.squeeze(dim) of a longer axis",
    ),
    Name("torch.Tensor.permute", "x.permute(1, 0)"),
    Name("torch.Tensor.transpose", "x.transpose(0, 1)"),
    Name("torch.Tensor.t", "x.t()"),
    Name("torch.Tensor.T", "x.T"),
    Name("torch.Tensor.contiguous", "x.T.contiguous()"),
    Name("torch.Tensor.chunk", "[c.shape for c in torch.arange(6).chunk(3)]"),
    Name("torch.Tensor.split", "[s.shape for s in torch.arange(6).split(4)]"),
    Name("torch.Tensor.unbind", "[r.tolist() for r in x.unbind(0)]"),
    Name("torch.Tensor.masked_fill", "x.masked_fill(x < 0, 0.0)"),
    Name("torch.Tensor.index_select", "x.index_select(1, torch.tensor([2, 0]))"),
    Name("torch.Tensor.gather", "x.gather(1, torch.tensor([[0], [2]]))"),
    Name(
        "torch.Tensor.scatter_add",
        "torch.zeros(3).scatter_add(0, torch.tensor([0, 2, 0]), torch.ones(3))",
    ),
    Name(
        "torch.Tensor.scatter_",
        "torch.zeros(3, 4).scatter_(1, torch.tensor([[2], [0], [1]]), 1.0)",
        form="Tensor.scatter_(dim, index, value) (one-hot)",
    ),
    Name(
        "torch.Tensor.scatter",
        "torch.zeros(3, 3).scatter(0, torch.tensor([[0, 1, 2], [2, 0, 1]]), x)",
    ),
    Name(
        "torch.Tensor.scatter_add_",
        "y = torch.zeros(3)\ny.scatter_add_(0, torch.tensor([0, 2, 0]), torch.ones(3))\ny",
    ),
    Name(
        "torch.Tensor.index_add_",
        "y = torch.ones(4, 3)\ny.index_add_(0, torch.tensor([0, 3]), x, alpha=2)\ny",
    ),
    Name("torch.Tensor.index_fill_", "x.clone().index_fill_(1, torch.tensor([0, 2]), -1.0)"),
    Name("torch.Tensor.masked_fill_", "y = x.clone()\ny.masked_fill_(y < 0, 0.0)\ny"),
    Name(
        "torch.Tensor.masked_fill",
        "torch.tensor([1, 2, 3]).masked_fill(torch.tensor([True, False, True]), 0.5)",
        form="Tensor.masked_fill of an integer tensor with a float",
    ),
    Name("torch.Tensor.masked_select", "x.masked_select(x > 0)"),
    Name(
        "torch.Tensor.exp_",
        "y = x.clone()\ny.abs_().sqrt_().exp_().neg_().pow_(2).clamp_max_(9e5)\ny",
        form="in-place math (abs_, sqrt_, exp_, neg_, pow_, clamp_max_, ...)",
    ),
    Name("torch.Tensor.relu_", "y = x.clone()\ny.relu_()\ny"),
    Name("torch.Tensor.clamp_min", "(x.clamp_min(0), x.clamp_max(1))"),
    Name("torch.Tensor.rsqrt", "x.abs().rsqrt()"),
    Name(
        "torch.Tensor.__mul__",
        "(x * np.float32(2), np.int64(2) * x, x > np.float32(1), x + np.ones(3))",
        form="a Tensor and NumPy scalars or arrays",
    ),
    Name("torch.Tensor.__format__", "f'{x.sum()} {x[0, 0]:.2f} {x}'"),
    Name("torch.Tensor.clamp", "x.clamp(min=-1, max=4)"),
    Name("torch.Tensor.clamp_", "y = x.clone()\ny.clamp_(min=0)\ny"),
    Name("torch.Tensor.copy_", "y = torch.zeros(2, 3)\ny.copy_(x)\ny"),
    Name("torch.Tensor.fill_", "torch.zeros(2).fill_(3.0)"),
    Name("torch.Tensor.zero_", "x.clone().zero_()"),
    Name(
        "torch.Tensor.add_", "y = x.clone()\ny.add_(1.0)\ny.mul_(2.0)\ny.sub_(x)\ny.div_(2.0)\ny"
    ),
    Name("torch.Tensor.__iadd__", "y = x.clone()\ny += 1\ny -= 0.5\ny *= 2\ny /= 4\ny"),
    Name("torch.Tensor.__setitem__", "y = torch.zeros(3)\ny[1] = 1.0\ny[x[0] > 0] = 5.0\ny"),
    Name("torch.Tensor.__getitem__", "(x[0], x[:, 1:], x[x > 0], x[[0, 1], [2, 0]])"),
    Name("torch.Tensor.__len__", "(len(x), [row.shape for row in x])"),
    Name("torch.Tensor.type", "(x > 0).type(torch.float32)", form="Tensor.type(dtype)"),
    Name("torch.Tensor.type", "x.type()", form="Tensor.type()"),
    Name("torch.Tensor.float", "torch.tensor([1, 2]).float()"),
    Name("torch.Tensor.double", "x.double()"),
    Name("torch.Tensor.long", "x.long()"),
    Name("torch.Tensor.int", "x.int()"),
    Name("torch.Tensor.bool", "x.bool()"),
    Name("torch.Tensor.half", "x.half()"),
    Name("torch.Tensor.new_zeros", "x.new_zeros(2)"),
    Name("torch.Tensor.new_ones", "x.new_ones(2)"),
    Name("torch.Tensor.new_tensor", "x.new_tensor([1, 2])"),
    Name("torch.Tensor.dim", "x.dim()"),
    Name("torch.Tensor.ndim", "x.ndim"),
    Name("torch.Tensor.numel", "x.numel()"),
    Name("torch.Tensor.is_floating_point", "x.is_floating_point()"),
    Name("torch.Tensor.sum", "(x.sum(), x.sum(dim=1), x.sum(1, keepdim=True))"),
    Name("torch.Tensor.mean", "(x.mean(), x.mean(0), x.mean(dim=(0, 1)))"),
    Name("torch.Tensor.std", "(x.std(), x.std(dim=0, unbiased=False))"),
    Name("torch.Tensor.max", "x.max()", form="Tensor.max()"),
    Name(
        "torch.Tensor.max",
        "values, indices = x.max(1)\n(values, indices)",
        form="Tensor.max(dim) -> (values, indices)",
    ),
    Name("torch.Tensor.argmax", "(x.argmax(), x.argmax(1), x.argmax(dim=0))"),
    Name("torch.Tensor.pow", "(x.pow(2), torch.ones(2, 1).pow(torch.tensor([1, 2, 3])))"),
    Name("torch.Tensor.exp", "(x / 10).exp()"),
    Name("torch.Tensor.abs", "x.abs()"),
    Name("torch.Tensor.sigmoid", "x.sigmoid()"),
    Name("torch.Tensor.softmax", "x.softmax(dim=1)"),
    Name("torch.Tensor.cumsum", "x.cumsum(dim=1)"),
    Name("torch.Tensor.diagonal", "torch.eye(3).diagonal()"),
    Name("torch.Tensor.eq", "x.eq(1.0)"),
    Name("torch.Tensor.gt", "x.gt(0)"),
    Name("torch.Tensor.any", "((x > 4).any(), (x > 9).any())"),
    Name("torch.Tensor.all", "(x > -9).all()"),
    Name("torch.Tensor.nonzero", "(x > 0).nonzero()"),
    Name("torch.Tensor.topk", "x.topk(2, dim=1)"),
    Name("torch.Tensor.sort", "x.sort(dim=1)"),
    Name(
        "torch.Tensor.max",
        "(repr(x.max(1)), str(torch.sort(x, 1)), repr(x.topk(1)))",
        form="printing (values, indices) results",
    ),
    Name("torch.Tensor.matmul", "(x.matmul(x.T), x @ x.T, x.mm(x.T))"),
]

# --- autograd, forward AD, torch.func ---------------------------------------------------------
AUTOGRAD = [
    Name(
        "torch.autograd.grad",
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\ntorch.autograd.grad((p ** 3).sum(), p)",
    ),
    Name(
        "torch.autograd.grad",
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "(g,) = torch.autograd.grad((p ** 3).sum(), p, create_graph=True)\n"
        "torch.autograd.grad(g, p, grad_outputs=torch.ones(2))",
        form="torch.autograd.grad(..., create_graph=True, grad_outputs=...)",
    ),
    Name(
        "torch.autograd.backward",
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "torch.autograd.backward([(p * p).sum()])\np.grad",
    ),
    Name(
        "torch.autograd.Function",
        "class Cube(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, t):\n"
        "        ctx.save_for_backward(t)\n"
        "        return t ** 3\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (t,) = ctx.saved_tensors\n"
        "        return 3 * t ** 2 * g\n"
        "p = torch.tensor([1.0, 2.0], requires_grad=True)\n"
        "Cube.apply(p).sum().backward()\np.grad",
    ),
    Name(
        "torch.autograd.gradcheck",
        "p = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)\n"
        "torch.autograd.gradcheck(torch.sin, (p,))",
    ),
    Name(
        "torch.autograd.gradgradcheck",
        "p = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)\n"
        "torch.autograd.gradgradcheck(torch.sin, (p,))",
    ),
    Name(
        "torch.autograd.functional.jacobian",
        "torch.autograd.functional.jacobian(lambda t: t ** 2, torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.autograd.functional.hessian",
        "torch.autograd.functional.hessian(lambda t: (t ** 3).sum(), torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.autograd.detect_anomaly",
        "with torch.autograd.detect_anomaly():\n"
        "    p = torch.ones(1, requires_grad=True)\n    (p * 2).sum().backward()\np.grad",
    ),
    Name(
        "torch.autograd.forward_ad.dual_level",
        "fwAD = torch.autograd.forward_ad\n"
        "with fwAD.dual_level():\n"
        "    d = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))\n"
        "    t = fwAD.unpack_dual(torch.sin(d)).tangent\nt",
    ),
    Name(
        "torch.autograd.forward_ad.make_dual",
        "fwAD = torch.autograd.forward_ad\n"
        "with fwAD.dual_level():\n"
        "    p = fwAD.unpack_dual(fwAD.make_dual(torch.ones(2), torch.ones(2) * 3)).primal\np",
    ),
    Name(
        "torch.autograd.forward_ad.unpack_dual",
        "fwAD = torch.autograd.forward_ad\n"
        "tangent = torch.tensor([1.0, 0.0])\n"
        "with fwAD.dual_level():\n"
        "    d = fwAD.make_dual(torch.tensor([1.0, 2.0]), tangent)\n"
        "    same = fwAD.unpack_dual(d).tangent is tangent\n"
        "(same, fwAD.unpack_dual(d).tangent)",
        form="unpack_dual: the same tangent back; tangent=None after the level",
    ),
    Name(
        "torch.func.grad",
        "torch.func.grad(lambda t: (t ** 3).sum())(torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.func.jacrev",
        "torch.func.jacrev(lambda t: t ** 2)(torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.func.jacfwd",
        "torch.func.jacfwd(lambda t: t ** 2)(torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.func.hessian",
        "torch.func.hessian(lambda t: (t ** 3).sum())(torch.tensor([1.0, 2.0]))",
    ),
    Name(
        "torch.func.jvp",
        "torch.func.jvp(torch.sin, (torch.tensor([0.0, 1.0]),), (torch.ones(2),))",
    ),
    Name(
        "torch.func.vjp",
        "out, fn = torch.func.vjp(torch.sin, torch.tensor([0.0, 1.0]))\n(out, fn(torch.ones(2)))",
    ),
    Name("torch.func.vmap", "torch.func.vmap(torch.sum)(x)"),
    Name(
        "torch.func.functional_call",
        "m = torch.nn.Linear(3, 1)\n"
        "p = {'weight': torch.ones(1, 3), 'bias': torch.zeros(1)}\n"
        "torch.func.functional_call(m, p, (x,))",
    ),
]

# --- nn: modules ------------------------------------------------------------------------------
LINEAR_ONES = (
    "m = {layer}\nwith torch.no_grad():\n    for p in m.parameters():\n        p.fill_(0.1)\n"
)
NN = [
    Name(
        "torch.nn.Module",
        "class Net(torch.nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = torch.nn.Linear(3, 2)\n"
        "    def forward(self, t):\n        return self.fc(t)\n"
        "[n for n, _ in Net().named_parameters()]",
    ),
    Name(
        "torch.nn.Parameter", "p = torch.nn.Parameter(torch.ones(2))\n(p.requires_grad, p.is_leaf)"
    ),
    Name("torch.nn.Linear", LINEAR_ONES.format(layer="torch.nn.Linear(3, 2)") + "m(x)"),
    Name(
        "torch.nn.Sequential",
        "m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())\n"
        "(len(m), type(m[0]).__name__, m(x).shape)",
    ),
    Name(
        "torch.nn.ModuleList",
        "m = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])\n"
        "(len(m), len(list(m.parameters())))",
    ),
    Name(
        "torch.nn.ModuleDict",
        "m = torch.nn.ModuleDict({'a': torch.nn.Linear(2, 2)})\n"
        "(list(m.keys()), len(list(m.parameters())))",
    ),
    Name(
        "torch.nn.ParameterList",
        "m = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2))])\n"
        "len(list(m.parameters()))",
    ),
    Name("torch.nn.Flatten", "torch.nn.Flatten()(torch.ones(2, 3, 4)).shape"),
    Name("torch.nn.Unflatten", "torch.nn.Unflatten(1, (3, 4))(torch.ones(2, 12)).shape"),
    Name("torch.nn.Identity", "torch.nn.Identity()(x)"),
    Name("torch.nn.Dropout", "m = torch.nn.Dropout(0.5)\nm.eval()\nm(x)"),
    Name(
        "torch.nn.Embedding",
        LINEAR_ONES.format(layer="torch.nn.Embedding(5, 2)") + "m(torch.tensor([[0, 4], [1, 1]]))",
    ),
    Name("torch.nn.LayerNorm", "torch.nn.LayerNorm(3)(x)"),
    Name(
        "torch.nn.BatchNorm1d",
        "m = torch.nn.BatchNorm1d(3)\ny = m(x)\n(y, m.running_mean, m.running_var)",
    ),
    Name(
        "torch.nn.BatchNorm2d",
        "torch.nn.BatchNorm2d(2)(torch.arange(16.0).reshape(2, 2, 2, 2))",
    ),
    Name(
        "torch.nn.Conv1d",
        LINEAR_ONES.format(layer="torch.nn.Conv1d(1, 2, 3)")
        + "m(torch.arange(10.0).reshape(1, 1, 10))",
    ),
    Name(
        "torch.nn.Conv2d",
        LINEAR_ONES.format(layer="torch.nn.Conv2d(1, 2, 3, padding=1)")
        + "m(torch.arange(16.0).reshape(1, 1, 4, 4))",
    ),
    Name(
        "torch.nn.MaxPool2d",
        "torch.nn.MaxPool2d(2)(torch.arange(16.0).reshape(1, 1, 4, 4))",
    ),
    Name(
        "torch.nn.AvgPool2d",
        "torch.nn.AvgPool2d(2)(torch.arange(16.0).reshape(1, 1, 4, 4))",
    ),
    Name(
        "torch.nn.AdaptiveAvgPool2d",
        "torch.nn.AdaptiveAvgPool2d((1, 1))(torch.arange(16.0).reshape(1, 1, 4, 4))",
    ),
    Name(
        "torch.nn.RNN",
        "torch.nn.RNN(3, 4, batch_first=True)(torch.ones(2, 5, 3))[0].shape",
    ),
    Name(
        "torch.nn.LSTM",
        "torch.nn.LSTM(3, 4, batch_first=True)(torch.ones(2, 5, 3))[0].shape",
    ),
    Name(
        "torch.nn.GRU",
        "torch.nn.GRU(3, 4, batch_first=True)(torch.ones(2, 5, 3))[0].shape",
    ),
    Name(
        "torch.nn.RNNCell",
        LINEAR_ONES.format(layer="torch.nn.RNNCell(3, 2)") + "m(x)",
    ),
    Name(
        "torch.nn.LSTMCell",
        LINEAR_ONES.format(layer="torch.nn.LSTMCell(3, 2)") + "m(x)",
    ),
    Name(
        "torch.nn.GRUCell",
        LINEAR_ONES.format(layer="torch.nn.GRUCell(3, 2)") + "m(x)",
    ),
    Name(
        "torch.nn.MultiheadAttention",
        "m = torch.nn.MultiheadAttention(4, 2, batch_first=True)\ny = torch.ones(1, 3, 4)\n"
        "m(y, y, y)[0].shape",
    ),
    Name(
        "torch.nn.MultiheadAttention",
        "m = torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, "
        "add_zero_attn=True)\n"
        "q, k, v = torch.ones(3, 1, 4), torch.ones(2, 1, 3), torch.ones(2, 1, 5)\n"
        "mask = torch.tensor([[False, True]])\n"
        "out, w = m(q, k, v, key_padding_mask=mask, average_attn_weights=False)\n"
        "(repr(m), [(n, p.shape) for n, p in m.named_parameters()], out.shape, w.shape)",
        form="MultiheadAttention with kdim, vdim, add_bias_kv, add_zero_attn",
    ),
    Name(
        "torch.nn.TransformerEncoderLayer",
        "m = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, batch_first=True)\n"
        "(repr(m), list(m.state_dict()), m(torch.ones(1, 3, 4)).shape)",
    ),
    Name(
        "torch.nn.TransformerEncoder",
        "layer = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0)\n"
        "m = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)\n"
        "with torch.no_grad():\n    for p in m.parameters():\n        p.fill_(0.1)\n"
        "causal = torch.triu(torch.full((3, 3), float('-inf')), 1)\n"
        "(repr(m), m(torch.arange(12.0).reshape(3, 1, 4), mask=causal, is_causal=True))",
        note="dualgrad has no nested tensors: with batch_first, in evaluation under no_grad "
        "and with a src_key_padding_mask, PyTorch's fast path gives padded positions zeros, "
        "dualgrad computes them as any other",
    ),
    Name(
        "torch.nn.TransformerDecoderLayer",
        "m = torch.nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, batch_first=True)\n"
        "(repr(m), list(m.state_dict()), m(torch.ones(1, 3, 4), torch.ones(1, 2, 4)).shape)",
    ),
    Name(
        "torch.nn.TransformerDecoder",
        "layer = torch.nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dropout=0.0)\n"
        "m = torch.nn.TransformerDecoder(layer, 2, norm=torch.nn.LayerNorm(4))\n"
        "with torch.no_grad():\n    for i, p in enumerate(m.parameters()):\n"
        "        p.fill_(0.1 * (i % 3 - 1))\n"
        "memory = torch.arange(8.0).reshape(2, 1, 4)\n"
        "(repr(m), m(torch.arange(12.0).reshape(3, 1, 4), memory))",
    ),
    Name(
        "torch.nn.Transformer",
        "m = torch.nn.Transformer(4, 2, 1, 1, dim_feedforward=8, batch_first=True)\n"
        "(repr(m), len(m.state_dict()), m(torch.ones(2, 5, 4), torch.ones(2, 3, 4)).shape)",
    ),
    Name(
        "torch.nn.Transformer.generate_square_subsequent_mask",
        "torch.nn.Transformer.generate_square_subsequent_mask(3)",
    ),
    Name("torch.nn.GroupNorm", "(repr(torch.nn.GroupNorm(1, 3)), torch.nn.GroupNorm(1, 3)(x))"),
    Name("torch.nn.CosineSimilarity", "torch.nn.CosineSimilarity()(x, x.flip(0))"),
    # activations
    Name("torch.nn.ReLU", "torch.nn.ReLU()(x)"),
    Name("torch.nn.LeakyReLU", "torch.nn.LeakyReLU(0.1)(x)"),
    Name("torch.nn.ELU", "torch.nn.ELU()(x)"),
    Name("torch.nn.GELU", "torch.nn.GELU()(x)"),
    Name("torch.nn.SiLU", "torch.nn.SiLU()(x)"),
    Name("torch.nn.Sigmoid", "torch.nn.Sigmoid()(x)"),
    Name("torch.nn.Tanh", "torch.nn.Tanh()(x)"),
    Name("torch.nn.Softplus", "torch.nn.Softplus()(x)"),
    Name("torch.nn.Softmax", "torch.nn.Softmax(dim=1)(x)"),
    Name("torch.nn.LogSoftmax", "torch.nn.LogSoftmax(dim=1)(x)"),
    # losses
    Name(
        "torch.nn.MSELoss", "(torch.nn.MSELoss()(x, -x), torch.nn.MSELoss(reduction='sum')(x, -x))"
    ),
    Name("torch.nn.L1Loss", "torch.nn.L1Loss()(x, -x)"),
    Name("torch.nn.SmoothL1Loss", "torch.nn.SmoothL1Loss(beta=0.5)(x, x / 2)"),
    Name(
        "torch.nn.HuberLoss",
        "torch.nn.HuberLoss(delta=2.0)(x, x / 2)",
    ),
    Name("torch.nn.CrossEntropyLoss", "torch.nn.CrossEntropyLoss()(x, torch.tensor([2, 0]))"),
    Name(
        "torch.nn.NLLLoss",
        "torch.nn.NLLLoss()(x.log_softmax(1), torch.tensor([2, 0]))",
    ),
    Name(
        "torch.nn.BCELoss",
        "torch.nn.BCELoss()(x.sigmoid(), (x > 0).float())",
    ),
    Name(
        "torch.nn.BCEWithLogitsLoss",
        "torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 1.0]))(x, (x > 0).float())",
    ),
    Name(
        "torch.nn.KLDivLoss",
        "torch.nn.KLDivLoss(reduction='batchmean')(x.log_softmax(1), x.softmax(0))",
    ),
]

# --- nn.functional ----------------------------------------------------------------------------
FUNCTIONAL = [
    Name("torch.nn.functional.relu", "torch.nn.functional.relu(x)"),
    Name("torch.nn.functional.leaky_relu", "torch.nn.functional.leaky_relu(x, 0.2)"),
    Name("torch.nn.functional.gelu", "torch.nn.functional.gelu(x)"),
    Name("torch.nn.functional.silu", "torch.nn.functional.silu(x)"),
    Name("torch.nn.functional.softplus", "torch.nn.functional.softplus(x)"),
    Name("torch.nn.functional.softmax", "torch.nn.functional.softmax(x, dim=1)"),
    Name("torch.nn.functional.log_softmax", "torch.nn.functional.log_softmax(x, dim=1)"),
    Name("torch.nn.functional.dropout", "torch.nn.functional.dropout(x, 0.5, training=False)"),
    Name("torch.nn.functional.linear", "torch.nn.functional.linear(x, torch.ones(2, 3))"),
    Name("torch.nn.functional.mse_loss", "torch.nn.functional.mse_loss(x, -x)"),
    Name("torch.nn.functional.l1_loss", "torch.nn.functional.l1_loss(x, -x)"),
    Name(
        "torch.nn.functional.smooth_l1_loss",
        "torch.nn.functional.smooth_l1_loss(x, x / 2)",
    ),
    Name(
        "torch.nn.functional.cross_entropy",
        "torch.nn.functional.cross_entropy(x, torch.tensor([2, 0]))",
    ),
    Name(
        "torch.nn.functional.nll_loss",
        "torch.nn.functional.nll_loss(x.log_softmax(1), torch.tensor([2, 0]))",
    ),
    Name(
        "torch.nn.functional.binary_cross_entropy",
        "torch.nn.functional.binary_cross_entropy(x.sigmoid(), (x > 0).float())",
    ),
    Name(
        "torch.nn.functional.binary_cross_entropy_with_logits",
        "torch.nn.functional.binary_cross_entropy_with_logits(x, (x > 0).float())",
    ),
    Name(
        "torch.nn.functional.kl_div",
        "torch.nn.functional.kl_div(x.log_softmax(1), x.softmax(1), reduction='batchmean')",
    ),
    Name(
        "torch.nn.functional.one_hot",
        "torch.nn.functional.one_hot(torch.tensor([0, 2]), 3)",
    ),
    Name("torch.nn.functional.pad", "torch.nn.functional.pad(x, (1, 1))"),
    Name("torch.nn.functional.normalize", "torch.nn.functional.normalize(x, dim=1)"),
    Name(
        "torch.nn.functional.cosine_similarity",
        "torch.nn.functional.cosine_similarity(x, x.flip(0), dim=1)",
    ),
    Name(
        "torch.nn.functional.embedding",
        "torch.nn.functional.embedding(torch.tensor([1, 0]), x)",
    ),
    Name("torch.nn.functional.layer_norm", "torch.nn.functional.layer_norm(x, (3,))"),
    Name(
        "torch.nn.functional.group_norm",
        "torch.nn.functional.group_norm(torch.arange(12.0).reshape(2, 6), 3)",
    ),
    Name(
        "torch.nn.functional.scaled_dot_product_attention",
        "q = torch.arange(24.0).reshape(1, 2, 3, 4) / 10\n"
        "mask = torch.tensor([[True, False, True], [True, True, False], [False, False, False]])\n"
        "(torch.nn.functional.scaled_dot_product_attention(q, q.flip(2), q, is_causal=True),\n"
        " torch.nn.functional.scaled_dot_product_attention(q, q, q.flip(3), attn_mask=mask, "
        "scale=0.5))",
    ),
    Name(
        "torch.nn.functional.conv2d",
        "image = torch.arange(16.0).reshape(1, 1, 4, 4)\n"
        "torch.nn.functional.conv2d(image, torch.ones(1, 1, 2, 2))",
    ),
    Name(
        "torch.nn.functional.max_pool2d",
        "torch.nn.functional.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)",
    ),
    Name(
        "torch.nn.functional.avg_pool2d",
        "torch.nn.functional.avg_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)",
    ),
]

# --- nn.init, nn.utils, Module methods --------------------------------------------------------
MODULE = [
    Name(
        "torch.nn.Module.load_state_dict",
        "m = torch.nn.Linear(2, 1)\n"
        "(repr(m.load_state_dict(m.state_dict())),\n"
        " repr(m.load_state_dict({'weight': m.weight.detach()}, strict=False)))",
        form="printing what load_state_dict returns",
    ),
    Name(
        "torch.Tensor.__deepcopy__",
        "import copy\nm = torch.nn.Linear(2, 1)\nc = copy.deepcopy(m)\n"
        "(c.weight is m.weight, bool((c.weight == m.weight).all()), c.weight.requires_grad)",
        form="copy.deepcopy(module)",
    ),
    Name("torch.nn.init.zeros_", "torch.nn.init.zeros_(torch.empty(2, 3))"),
    Name("torch.nn.init.ones_", "torch.nn.init.ones_(torch.empty(2))"),
    Name("torch.nn.init.constant_", "torch.nn.init.constant_(torch.empty(2), 0.3)"),
    Name("torch.nn.init.normal_", "torch.nn.init.normal_(torch.empty(2, 3), std=0.01).shape"),
    Name(
        "torch.nn.init.uniform_",
        "w = torch.nn.init.uniform_(torch.empty(100), -0.1, 0.1)\nbool((w.abs() <= 0.1).all())",
    ),
    Name(
        "torch.nn.init.xavier_uniform_", "torch.nn.init.xavier_uniform_(torch.empty(3, 4)).shape"
    ),
    Name(
        "torch.nn.init.kaiming_normal_", "torch.nn.init.kaiming_normal_(torch.empty(3, 4)).shape"
    ),
    Name(
        "torch.nn.init.orthogonal_",
        "w = torch.nn.init.orthogonal_(torch.empty(3, 3))\n"
        "torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)",
    ),
    Name(
        "torch.nn.init.trunc_normal_",
        "w = torch.nn.init.trunc_normal_(torch.empty(1000), std=0.02, a=-0.04, b=0.04)\n"
        "bool((w.abs() <= 0.04).all())",
    ),
    Name("torch.nn.init.eye_", "torch.nn.init.eye_(torch.empty(2, 3))"),
    Name(
        "torch.nn.utils.clip_grad_norm_",
        "p = torch.tensor([3.0, 4.0], requires_grad=True)\n(p * p).sum().backward()\n"
        "norm = torch.nn.utils.clip_grad_norm_([p], max_norm=1.0)\n(norm, p.grad)",
    ),
    Name(
        "torch.nn.utils.clip_grad_value_",
        "p = torch.tensor([3.0, -4.0], requires_grad=True)\n(p * p).sum().backward()\n"
        "torch.nn.utils.clip_grad_value_([p], clip_value=1.0)\np.grad",
    ),
    Name(
        "torch.nn.utils.parameters_to_vector",
        "m = torch.nn.Linear(2, 1)\ntorch.nn.utils.parameters_to_vector(m.parameters()).shape",
    ),
    Name(
        "torch.nn.utils.vector_to_parameters",
        "m = torch.nn.Linear(2, 1)\ntorch.nn.utils.vector_to_parameters(torch.arange(3.0), "
        "m.parameters())\n(m.weight, m.bias)",
    ),
    Name(
        "torch.nn.utils.rnn.pad_sequence",
        "torch.nn.utils.rnn.pad_sequence([torch.ones(3), torch.ones(1)], batch_first=True)",
    ),
    Name(
        "torch.nn.utils.rnn.pack_padded_sequence",
        "p = torch.nn.utils.rnn.pack_padded_sequence(x.T, [1, 2], enforce_sorted=False)\n"
        "(p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices)",
    ),
    Name(
        "torch.nn.utils.rnn.pad_packed_sequence",
        "p = torch.nn.utils.rnn.pack_sequence([torch.ones(3, 2), torch.ones(1, 2)])\n"
        "torch.nn.utils.rnn.pad_packed_sequence(p, batch_first=True)",
    ),
    Name(
        "torch.nn.utils.rnn.pack_sequence",
        LINEAR_ONES.format(layer="torch.nn.LSTM(2, 3)")
        + "p = torch.nn.utils.rnn.pack_sequence([torch.ones(1, 2), torch.ones(3, 2)], False)\n"
        "out, (h, c) = m(p)\n(out.data, h, c)",
    ),
    Name(
        "torch.nn.Module.parameters",
        "m = torch.nn.Linear(3, 2)\n[p.shape for p in m.parameters()]",
    ),
    Name(
        "torch.nn.Module.named_parameters",
        "m = torch.nn.Sequential(torch.nn.Linear(3, 2))\n[n for n, _ in m.named_parameters()]",
    ),
    Name("torch.nn.Module.named_buffers", "[n for n, _ in torch.nn.Linear(2, 2).named_buffers()]"),
    Name(
        "torch.nn.Module.children",
        "m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())\n"
        "[type(c).__name__ for c in m.children()]",
    ),
    Name(
        "torch.nn.Module.modules",
        "m = torch.nn.Sequential(torch.nn.Linear(3, 2))\n[type(c).__name__ for c in m.modules()]",
    ),
    Name(
        "torch.nn.Module.state_dict",
        "m = torch.nn.Sequential(torch.nn.Linear(3, 2))\n"
        "{k: v.shape for k, v in m.state_dict().items()}",
    ),
    Name(
        "torch.nn.Module.load_state_dict",
        "m = torch.nn.Linear(2, 2)\n"
        "m.load_state_dict({'weight': torch.ones(2, 2), 'bias': torch.zeros(2)})\n"
        "m.weight",
    ),
    Name(
        "torch.nn.Module.load_state_dict",
        "m = torch.nn.Linear(2, 2)\n"
        "r = m.load_state_dict({'weight': torch.ones(2, 2)}, strict=False)\n"
        "(r.missing_keys, r.unexpected_keys)",
        form="Module.load_state_dict(..., strict=False)",
    ),
    Name(
        "torch.nn.Module.train",
        "m = torch.nn.Linear(2, 2)\nm.eval()\na = m.training\nm.train()\n(a, m.training)",
    ),
    Name(
        "torch.nn.Module.zero_grad",
        "m = torch.nn.Linear(2, 1)\nm(torch.ones(1, 2)).sum().backward()\nm.zero_grad()\n"
        "m.weight.grad",
    ),
    Name(
        "torch.nn.Module.apply",
        "m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))\n"
        "m.apply(lambda c: torch.nn.init.zeros_(c.bias) if isinstance(c, torch.nn.Linear) "
        "else None)\n"
        "m[1].bias",
    ),
    Name(
        "torch.nn.Module.register_buffer",
        "m = torch.nn.Module()\nm.register_buffer('count', torch.zeros(1))\nlist(m.state_dict())",
    ),
    Name(
        "torch.nn.Module.register_forward_hook",
        "m = torch.nn.Linear(3, 1)\nseen = []\n"
        "h = m.register_forward_hook(lambda mod, i, o: seen.append(o.shape))\n"
        "m(x)\nh.remove()\nseen",
    ),
    Name(
        "torch.nn.Module.requires_grad_",
        "m = torch.nn.Linear(2, 2).requires_grad_(False)\n"
        "[p.requires_grad for p in m.parameters()]",
    ),
    Name(
        "torch.nn.Module.__repr__",
        "str(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()))",
    ),
]

# --- optim ------------------------------------------------------------------------------------
_STEPS = (
    "w = torch.tensor([1.0, -2.0], requires_grad=True)\nopt = {optimizer}\n"
    "for _ in range(3):\n    opt.zero_grad()\n    ((w - 0.5) ** 2).sum().backward()\n"
    "    opt.step()\nw"
)
_SCHEDULE = (
    "w = torch.zeros(1, requires_grad=True)\nopt = torch.optim.SGD([w], lr=1.0)\n"
    "sched = {scheduler}\nlrs = []\nfor _ in range(5):\n    opt.step()\n    sched.step()\n"
    "    lrs.append(sched.get_last_lr()[0])\nlrs"
)
OPTIM = [
    Name(
        "torch.optim.Optimizer.__repr__",
        "repr(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))",
        expected="SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.1\n    maximize: False\n"
        "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)",
        note="PyTorch's layout; PyTorch also lists its implementation switches (foreach, fused, "
        "differentiable), which dualgrad has none of",
    ),
    Name(
        "torch.optim.SGD",
        _STEPS.format(
            optimizer="torch.optim.SGD([w], lr=0.1, momentum=0.9, "
            "nesterov=True, weight_decay=0.01)"
        ),
    ),
    Name(
        "torch.optim.Adam",
        _STEPS.format(optimizer="torch.optim.Adam([w], lr=0.1, betas=(0.9, 0.99))"),
    ),
    Name("torch.optim.AdamW", _STEPS.format(optimizer="torch.optim.AdamW([w], lr=0.1)")),
    Name("torch.optim.RMSprop", _STEPS.format(optimizer="torch.optim.RMSprop([w], lr=0.01)")),
    Name(
        "torch.optim.Adagrad",
        _STEPS.format(optimizer="torch.optim.Adagrad([w], lr=0.1)"),
    ),
    Name(
        "torch.optim.LBFGS",
        "w = torch.tensor([1.0, -2.0], requires_grad=True)\n"
        "opt = torch.optim.LBFGS([w], lr=1, max_iter=5)\n"
        "def closure():\n    opt.zero_grad()\n    loss = ((w - 0.5) ** 2).sum()\n"
        "    loss.backward()\n    return loss\nopt.step(closure)\nw",
    ),
    Name(
        "torch.optim.Optimizer.zero_grad",
        "w = torch.ones(2, requires_grad=True)\nopt = torch.optim.SGD([w], lr=0.1)\n"
        "w.sum().backward()\nopt.zero_grad(set_to_none=True)\nw.grad",
    ),
    Name(
        "torch.optim.Optimizer.param_groups",
        "a = torch.ones(1, requires_grad=True)\nb = torch.ones(1, requires_grad=True)\n"
        "opt = torch.optim.SGD([{'params': [a]}, {'params': [b], 'lr': 0.5}], lr=0.1)\n"
        "[g['lr'] for g in opt.param_groups]",
    ),
    Name(
        "torch.optim.Optimizer.state_dict",
        "w = torch.ones(2, requires_grad=True)\nopt = torch.optim.Adam([w], lr=0.1)\n"
        "w.sum().backward()\nopt.step()\nsd = opt.state_dict()\n"
        "(sorted(sd['state'][0]), sd['param_groups'][0]['lr'])",
    ),
    Name(
        "torch.optim.Optimizer.load_state_dict",
        "w = torch.ones(2, requires_grad=True)\nopt = torch.optim.Adam([w], lr=0.1)\n"
        "w.sum().backward()\nopt.step()\nopt2 = torch.optim.Adam([w], lr=0.5)\n"
        "opt2.load_state_dict(opt.state_dict())\nopt2.param_groups[0]['lr']",
    ),
    Name(
        "torch.optim.lr_scheduler.StepLR",
        _SCHEDULE.format(scheduler="torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)"),
    ),
    Name(
        "torch.optim.lr_scheduler.CosineAnnealingLR",
        _SCHEDULE.format(scheduler="torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)"),
    ),
    Name(
        "torch.optim.lr_scheduler.MultiStepLR",
        _SCHEDULE.format(
            scheduler="torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.1)"
        ),
    ),
    Name(
        "torch.optim.lr_scheduler.ExponentialLR",
        _SCHEDULE.format(scheduler="torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)"),
    ),
    Name(
        "torch.optim.lr_scheduler.LambdaLR",
        _SCHEDULE.format(
            scheduler="torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))"
        ),
    ),
    Name(
        "torch.optim.lr_scheduler.OneCycleLR",
        _SCHEDULE.format(
            scheduler="torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=6)"
        ),
    ),
    Name(
        "torch.optim.lr_scheduler.ReduceLROnPlateau",
        "w = torch.zeros(1, requires_grad=True)\nopt = torch.optim.SGD([w], lr=1.0)\n"
        "sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)\n"
        "for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:\n    sched.step(loss)\nopt.param_groups[0]['lr']",
    ),
    Name(
        "torch.amp.GradScaler",
        "w = torch.tensor([1.0, 2.0], requires_grad=True)\nopt = torch.optim.SGD([w], lr=0.1)\n"
        "scaler = torch.amp.GradScaler('cpu', init_scale=1024.0, growth_interval=2)\n"
        "for _ in range(3):\n    opt.zero_grad()\n"
        "    scaler.scale((w * w).sum() * 2).backward()\n"
        "    scaler.unscale_(opt)\n    torch.nn.utils.clip_grad_norm_([w], 1.0)\n"
        "    scaler.step(opt)\n    scaler.update()\n"
        "(w, scaler.get_scale(), scaler.state_dict())",
    ),
    Name(
        "torch.cuda.amp.GradScaler",
        "import warnings\nwith warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    scaler = torch.cuda.amp.GradScaler(enabled=torch.cuda.is_available())\n"
        "(scaler.is_enabled(), scaler.get_scale())",
        expected=(False, 1.0),
    ),
    Name(
        "torch.amp.autocast",
        "with torch.amp.autocast(device_type='cpu', dtype=torch.bfloat16):\n"
        "    y = torch.ones(2, 2) @ torch.ones(2, 2)\ny.dtype == torch.bfloat16",
        _missing("no autocast (nor bfloat16): a model computes in its parameters' dtype"),
    ),
]

# --- utils.data and serialization -------------------------------------------------------------
_DATASET = (
    "ds = torch.utils.data.TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))\n"
)
DATA = [
    Name(
        "torch.utils.data.Dataset",
        "class Squares(torch.utils.data.Dataset):\n    def __len__(self):\n        return 4\n"
        "    def __getitem__(self, i):\n        return torch.tensor(float(i * i))\n"
        "[b.tolist() for b in torch.utils.data.DataLoader(Squares(), batch_size=3)]",
    ),
    Name("torch.utils.data.TensorDataset", _DATASET + "(len(ds), ds[1])"),
    Name(
        "torch.utils.data.DataLoader",
        _DATASET
        + "[(xb.shape, yb.tolist()) for xb, yb in torch.utils.data.DataLoader(ds, batch_size=2)]",
    ),
    Name(
        "torch.utils.data.DataLoader",
        _DATASET + "loader = torch.utils.data.DataLoader(ds, batch_size=2, drop_last=True)\n"
        "(len(loader), [yb.tolist() for _, yb in loader])",
        form="DataLoader(..., drop_last=True)",
    ),
    Name(
        "torch.utils.data.DataLoader",
        _DATASET + "g = torch.Generator().manual_seed(0)\n"
        "loader = torch.utils.data.DataLoader(ds, batch_size=2, shuffle=True, generator=g)\n"
        "sorted(i for _, yb in loader for i in yb.tolist())",
        form="DataLoader(..., shuffle=True, generator=...)",
    ),
    Name(
        "torch.utils.data.DataLoader",
        "data = [{'x': torch.ones(2), 'y': i} for i in range(4)]\n"
        "loader = torch.utils.data.DataLoader(data, batch_size=2)\n"
        "[(b['x'].shape, b['y'].tolist()) for b in loader]",
        form="DataLoader over dicts (collate)",
    ),
    Name(
        "torch.utils.data.random_split",
        _DATASET + "a, b = torch.utils.data.random_split(ds, [3, 2], "
        "generator=torch.Generator().manual_seed(0))\n(len(a), len(b))",
    ),
    Name(
        "torch.utils.data.Subset",
        _DATASET + "len(torch.utils.data.Subset(ds, [0, 2]))",
    ),
    Name(
        "torch.save",
        "b = io.BytesIO()\ntorch.save({'w': x, 'step': 3}, b)\nb.seek(0)\ntorch.load(b)",
    ),
    Name(
        "torch.load",
        "b = io.BytesIO()\ntorch.save({'w': x}, b)\nb.seek(0)\ntorch.load(b, weights_only=True)",
        form="torch.load(f, weights_only=True)",
    ),
    Name(
        "torch.load",
        "b = io.BytesIO()\ntorch.save({'w': x}, b)\nb.seek(0)\n"
        "(torch.load(b, map_location='cpu'), b.seek(0), torch.load(b, torch.device('cpu')))",
        form="torch.load(f, map_location=device)",
    ),
    Name(
        "torch.load",
        "b = io.BytesIO()\ntorch.save({'w': x}, b)\nb.seek(0)\n"
        "torch.load(b, map_location={'cuda:0': 'cpu'})",
        form="torch.load(f, map_location={saved: device})",
        note="a dualgrad file does not record where its tensors were saved: the dict's values "
        "must all name one device (TypeError otherwise)",
    ),
    Name(
        "torch.load",
        "b = io.BytesIO()\ntorch.save({'w': x}, b)\nb.seek(0)\n"
        "torch.load(b, map_location=lambda storage, location: storage)",
        "dualgrad has no storages to hand a function (TypeError): pass the device to load onto",
        form="torch.load(f, map_location=function)",
    ),
]

SECTIONS = {
    "dtypes": DTYPES,
    "Size and devices": SIZE_AND_DEVICES,
    "Creation and random numbers": CREATION,
    "Functions: reductions, shapes, math": FUNCTIONS,
    "Comparison, utility, grad mode": UTILITY,
    "Tensor methods and attributes": TENSOR,
    "autograd, forward AD, torch.func": AUTOGRAD,
    "nn: layers, activations, losses": NN,
    "nn.functional": FUNCTIONAL,
    "nn.init, nn.utils, Module methods": MODULE,
    "optim and lr_scheduler": OPTIM,
    "utils.data and serialization": DATA,
}
NAMES = [row for rows in SECTIONS.values() for row in rows]
