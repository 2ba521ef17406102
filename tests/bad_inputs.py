"""The catalogue of misuses: what each one raises and what its message must say.

One row per misuse. ``code`` is Python run with ``dualgrad`` imported: every line but the last
prepares, the last one is the mistake. ``tests/test_bad_inputs.py`` runs each row and checks the
exception's type, its message against ``says`` (a regular expression naming what was wrong and
what to do), and that no tensor changed; ``tests/render_errors.py`` writes docs/errors.md from
the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from dualgrad.utils.checkpoint import CheckpointError

FUNCTION_WITH_ONE_GRADIENT = """\
class Scale(dualgrad.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y
    @staticmethod
    def backward(ctx, g):
        return (g,)  # one gradient for two inputs
"""

CHANGES_WHEN_RERUN = """\
runs = []
def moody(v):
    runs.append(1)  # sin the first time, cos when rerun
    return dualgrad.sin(v).sum() if len(runs) == 1 else dualgrad.cos(v).sum()
"""


@dataclass(frozen=True)
class Misuse:
    """One way to misuse the library and the error it must give."""

    name: str
    code: str
    error: type[Exception]
    says: str  # a regular expression the message must match (searched, case-sensitive)
    setup: str = ""  # definitions shown in the docs apart from the table (a class, say)

    @property
    def id(self) -> str:
        return self.name.lower().replace(" ", "-").replace("(", "").replace(")", "")


X = "x = dualgrad.tensor([1.0, 2.0], requires_grad=True)\n"

CATALOGUE: list[Misuse] = [
    # --- shapes -------------------------------------------------------------------------------
    Misuse(
        "Shapes that do not broadcast",
        "a = dualgrad.ones((2, 3))\nb = dualgrad.ones((4,))\na + b",
        ValueError,
        r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast",
    ),
    Misuse(
        "Matrix shapes that do not align",
        "a = dualgrad.ones((2, 3))\nb = dualgrad.ones((4, 2))\na @ b",
        ValueError,
        r"matmul: shapes \(2, 3\) and \(4, 2\) are not aligned \(3 != 4\)",
    ),
    Misuse(
        "Reshape to another number of elements",
        "a = dualgrad.ones((2, 3))\na.reshape((4,))",
        ValueError,
        r"cannot reshape a tensor of shape \(2, 3\) into \(4,\)",
    ),
    Misuse(
        "Concatenating shapes that differ off the axis",
        "a = dualgrad.ones((2, 3))\nb = dualgrad.ones((2, 4))\ndualgrad.concat([a, b], axis=0)",
        ValueError,
        r"concat: shapes \(2, 3\), \(2, 4\) differ outside axis 0",
    ),
    Misuse(
        "Axis out of range",
        "a = dualgrad.ones((2, 3))\na.sum(axis=5)",
        ValueError,
        r"axis 5 is out of range for a tensor with 2 dimensions",
    ),
    Misuse(
        "Index out of range",
        "a = dualgrad.ones((2, 3))\na[5]",
        IndexError,
        r"index 5 is out of bounds for axis 0 with size 2",
    ),
    # --- dtypes and data ----------------------------------------------------------------------
    Misuse(
        "requires_grad on an integer tensor",
        "dualgrad.tensor([1, 2], requires_grad=True)",
        TypeError,
        r"only tensors of floating point or complex dtype can require gradients, got "
        r"dualgrad\.int64; convert first",
    ),
    Misuse(
        "requires_grad_() on an integer tensor",
        "n = dualgrad.tensor([1, 2])\nn.requires_grad_()",
        TypeError,
        r"floating point or complex dtype can require gradients, got dualgrad\.int64; convert",
    ),
    Misuse(
        "A .grad of another dtype",
        X + "x.grad = dualgrad.ones(2, dtype=dualgrad.float64)",
        TypeError,
        r"assigned grad is a dualgrad\.float64 tensor .* the tensor is dualgrad\.float32 .*"
        r"convert it first",
    ),
    Misuse(
        "A .grad of another shape",
        X + "x.grad = dualgrad.ones(3)",
        ValueError,
        r"assigned grad has shape \(3,\) but the tensor has shape \(2,\)",
    ),
    Misuse(
        "Data that are not numbers",
        "dualgrad.tensor('abc')",
        TypeError,
        r"could not convert str to numbers; pass a number",
    ),
    Misuse(
        "Ragged nested lists",
        "dualgrad.tensor([[1.0, 2.0], [3.0]])",
        ValueError,
        r"nested sequences have different lengths .*give every row the same length",
    ),
    Misuse(
        "Negative size",
        "dualgrad.zeros((-1,))",
        ValueError,
        r"sizes must be non-negative integers, got \(-1,\)",
    ),
    Misuse(
        "Unknown dtype name",
        "dualgrad.tensor([1.0], dtype='float13')",
        TypeError,
        r"unknown dtype 'float13'; choose one of: .*float32",
    ),
    Misuse(
        "Integer default dtype",
        "dualgrad.set_default_dtype(dualgrad.int64)",
        TypeError,
        r"expected a floating dtype such as dualgrad\.float64, got dualgrad\.int64",
    ),
    # --- backends and modes -------------------------------------------------------------------
    Misuse(
        "Tensors from two backends in one operation",
        "a = dualgrad.ones(2)\n"
        "with dualgrad.use_backend('array_api_strict'): b = dualgrad.ones(2)\n"
        "a + b",
        TypeError,
        r"add: inputs come from different backends \(numpy, array_api_strict\); "
        r"create them under one backend",
    ),
    Misuse(
        "Unknown backend name",
        "dualgrad.set_backend('jaxx')",
        ValueError,
        r"unknown backend 'jaxx'; choose one of: numpy, jax",
    ),
    Misuse(
        "Unknown mode name",
        "dualgrad.set_mode('sideways')",
        ValueError,
        r"unknown mode 'sideways'; choose one of: reverse, forward",
    ),
    # --- backward -----------------------------------------------------------------------------
    Misuse(
        "backward() on a non-scalar without a gradient",
        X + "y = x * 2\ny.backward()",
        RuntimeError,
        r"backward\(\) on a tensor of shape \(2,\) needs a gradient.*pass gradient=",
    ),
    Misuse(
        "backward() with a gradient of the wrong shape",
        X + "y = x * 2\ny.backward(dualgrad.ones(3))",
        ValueError,
        r"gradient has shape \(3,\) but the output has shape \(2,\); pass one of the output's",
    ),
    Misuse(
        "backward() with a gradient that is not a Tensor",
        X + "y = x * 2\ny.backward([1.0, 1.0])",
        TypeError,
        r"gradient must be a Tensor, got list; wrap it",
    ),
    Misuse(
        "More gradients than outputs",
        X + "y = x.sum()\ndualgrad.autograd.backward(y, [dualgrad.ones(()), dualgrad.ones(())])",
        ValueError,
        r"got 1 outputs but 2 gradients; pass one per output",
    ),
    Misuse(
        "backward() on a tensor that does not require grad",
        "a = dualgrad.tensor([1.0, 2.0])\na.sum().backward()",
        RuntimeError,
        r"does not require grad.*create the inputs with requires_grad=True",
    ),
    Misuse(
        "A second backward through a freed graph",
        X + "y = (x * x).sum()\ny.backward()\ny.backward()",
        RuntimeError,
        r"backward through the graph a second time.*Pass retain_graph=True",
    ),
    Misuse(
        "grad() with respect to an unused input",
        X + "w = dualgrad.tensor([3.0], requires_grad=True)\n"
        "dualgrad.autograd.grad((x * 2).sum(), w)",
        RuntimeError,
        r"not have been used in the graph\. Set allow_unused=True",
    ),
    Misuse(
        "A transform's function with a non-scalar output",
        "f = dualgrad.grad(lambda v: v * 2)\nf(dualgrad.tensor([1.0, 2.0]))",
        TypeError,
        r"must return a floating point scalar Tensor, got dualgrad.float32 of shape \(2,\); "
        r"use jacrev or vjp",
    ),
    Misuse(
        "jvp with a tangent of the wrong shape",
        "dualgrad.jvp(dualgrad.exp, (dualgrad.ones(2),), (dualgrad.ones(3),))",
        ValueError,
        r"jvp: a tangent has shape \(3,\) but its primal has \(2,\)",
    ),
    Misuse(
        "A differentiated argument holding something other than arrays",
        "f = dualgrad.grad(lambda p: p['w'].sum())\n"
        "f({'w': dualgrad.ones(2), 'activation': 'tanh'})",
        TypeError,
        r"grad: p\['activation'\] is a str, not an array or a number; .* pass other values in "
        r"an argument that is not differentiated",
    ),
    Misuse(
        "vjp_fn with a cotangent of another structure than the output",
        "out, vjp_fn = dualgrad.vjp(lambda v: (v, v * 2), dualgrad.ones(2))\n"
        "vjp_fn(dualgrad.ones(2))",
        ValueError,
        r"the cotangent has structure PyTreeDef\(\*\) but the output has "
        r"PyTreeDef\(\(\*, \*\)\); pass one cotangent per output",
    ),
    Misuse(
        "functional_call with a name the module does not have",
        "model = dualgrad.nn.Linear(2, 2)\nvalues = {'body.weight': dualgrad.ones(2, 2)}\n"
        "dualgrad.func.functional_call(model, values, dualgrad.ones(2))",
        AttributeError,
        r"functional_call: Linear has no submodule 'body' \(from the key 'body\.weight'\)",
    ),
    Misuse(
        "A checkpointed function that runs other operations when rerun",
        X + "out = dualgrad.utils.checkpoint.checkpoint(moody, x)\nout.backward()",
        CheckpointError,
        r"did not repeat its first run: operation 0 was SinBackward0\(1 inputs\) the first "
        r"time and CosBackward0\(1 inputs\) now",
        setup=CHANGES_WHEN_RERUN,
    ),
    Misuse(
        "A class weight of cross_entropy that requires grad",
        X + "w = dualgrad.ones(2, requires_grad=True)\n"
        "dualgrad.nn.functional.cross_entropy(x[None], dualgrad.tensor([1]), weight=w)",
        RuntimeError,
        r"cross_entropy: not differentiable with respect to weight; pass weight\.detach\(\)",
    ),
    # --- in place -----------------------------------------------------------------------------
    Misuse(
        "In-place update of a leaf that requires grad",
        X + "x.add_(1.0)",
        RuntimeError,
        r"a leaf tensor that requires grad is being used in an in-place operation; "
        r"wrap the update in `with dualgrad\.no_grad\(\):`",
    ),
    Misuse(
        "In-place change of a tensor saved for backward",
        X + "y = x * 2\nz = (y * y).sum()\nwith dualgrad.no_grad(): y.mul_(2.0)\nz.backward()",
        RuntimeError,
        r"modified by an inplace operation: input 0 of \[MulBackward0\].*"
        r"Compute the update out of place",
    ),
    # --- hooks and custom Functions -----------------------------------------------------------
    Misuse(
        "A hook returning the wrong shape",
        X + "x.register_hook(lambda g: dualgrad.ones(3))\n(x * 2).sum().backward()",
        ValueError,
        r"returned shape \(3,\); expected None or a Tensor of shape \(2,\)",
    ),
    Misuse(
        "A hook on a tensor that does not require grad",
        "a = dualgrad.tensor([1.0, 2.0])\na.register_hook(lambda g: g)",
        RuntimeError,
        r"cannot register a hook on a tensor that doesn't require gradient; "
        r"call requires_grad_\(\)",
    ),
    Misuse(
        "retain_grad() on a tensor that does not require grad",
        "a = dualgrad.tensor([1.0, 2.0])\na.retain_grad()",
        RuntimeError,
        r"can't retain_grad on a tensor that has requires_grad=False; call requires_grad_\(\)",
    ),
    Misuse(
        "Function.backward returning too few gradients",
        X + "w = dualgrad.tensor([3.0, 4.0], requires_grad=True)\n"
        "Scale.apply(x, w).sum().backward()",
        RuntimeError,
        r"Scale\.backward returned 1 gradients, expected 2 \(one per forward input",
        setup=FUNCTION_WITH_ONE_GRADIENT,
    ),
    Misuse(
        "numpy() on a tensor that requires grad",
        X + "x.numpy()",
        RuntimeError,
        r"Can't call numpy\(\) on Tensor that requires grad\. Use tensor\.detach\(\)\.numpy\(\)",
    ),
    Misuse(
        "item() on a tensor of several elements",
        X + "x.item()",
        ValueError,
        r"a tensor with 2 elements cannot be converted to a Python number; index one element",
    ),
    # --- optimizers ---------------------------------------------------------------------------
    Misuse(
        "Optimizer given a non-leaf",
        X + "dualgrad.optim.SGD([x * 2], lr=0.1)",
        ValueError,
        r"SGD can only optimize leaf tensors, got one with grad_fn=MulBackward0; "
        r"pass the tensor before any operation",
    ),
    Misuse(
        "Optimizer given a parameter twice",
        X + "dualgrad.optim.SGD([x, x], lr=0.1)",
        ValueError,
        r"a parameter of shape \(2,\) appears more than once; pass each tensor once",
    ),
    Misuse(
        "Optimizer given no parameters",
        "dualgrad.optim.SGD([], lr=0.1)",
        ValueError,
        r"SGD got an empty parameter list; pass the tensors to optimize",
    ),
    Misuse(
        "Negative learning rate",
        X + "dualgrad.optim.SGD([x], lr=-1.0)",
        ValueError,
        r"Invalid learning rate: -1\.0; it must be a finite number >= 0",
    ),
    # --- NaN, inf and empty ---------------------------------------------------------------------
    Misuse(
        "NaN learning rate",
        X + "dualgrad.optim.SGD([x], lr=float('nan'))",
        ValueError,
        r"Invalid learning rate: nan; it must be a finite number >= 0",
    ),
    Misuse(
        "Infinite learning rate",
        X + "dualgrad.optim.SGD([x], lr=float('inf'))",
        ValueError,
        r"Invalid learning rate: inf; it must be a finite number >= 0",
    ),
    Misuse(
        "NaN made in backward, under detect_anomaly",
        "x = dualgrad.tensor([-1.0], requires_grad=True)\n"
        "with dualgrad.autograd.detect_anomaly(): dualgrad.sqrt(x).sum().backward()",
        RuntimeError,
        r"Function 'SqrtBackward0' returned nan values in its 0th output\. "
        r"Look for the input outside the function's domain",
    ),
    Misuse(
        "max of an empty tensor",
        "e = dualgrad.ones((0,))\ndualgrad.max(e)",
        ValueError,
        r"max: cannot reduce a tensor with no elements",
    ),
    Misuse(
        "argmax of an empty tensor",
        "e = dualgrad.ones((0,))\ndualgrad.argmax(e)",
        ValueError,
        r"argmax: cannot take the index of a tensor with no elements",
    ),
]
