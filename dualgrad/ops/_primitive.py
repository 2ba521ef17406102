"""The primitive: one operation's forward function and both derivative rules, declared once.

The rule contract (every primitive in ``dualgrad.ops`` follows it):

- ``forward(xp, *inputs, **params) -> array``: pure Array API calls on the namespace ``xp``.
- ``vjp``: one rule per input, ``(xp, g, ans, *inputs, **params) -> cotangent of that input``.
- ``jvp``: one rule per input, ``(xp, t, ans, *inputs, **params) -> that input's share of the
  output tangent``; the engine sums the shares. ``None`` for a rule: not differentiable in that
  input (an index, a mask, a comparison).
- Rules are never called for inputs that need no cotangent or carry no tangent, so they never
  test for zeros. ``g`` and ``t`` may carry leading batch axes in front of the primal's shape;
  ``ans`` and the inputs never do. A rule must give a result with the same leading axes.
- Only ``xp.*`` calls and array operators: no NumPy, no ``.item()``, no Python ``if`` on array
  values. ``xp`` is either the backend's namespace (arrays in, arrays out: first-order work) or
  dualgrad's own differentiable namespace (Tensors in, Tensors out: ``create_graph=True`` and
  higher order), so the same rule serves both.
- Params arrive canonical: axes as tuples of negative ints, never ``None`` meaning "all".
- Complex values: a jvp rule is the derivative as a real-linear map of the tangent; a vjp rule
  is its transpose under the real pairing ``Re(sum(u * v))`` (JAX's convention), so the rule of
  a holomorphic function is the textbook ``g * f'(x)``, transposes and not adjoints. The
  engine turns it into PyTorch's convention for ``.grad`` (``autograd.engine``'s docstring).
- Elementwise primitives see inputs of one dtype (the dispatcher promotes through ``astype``),
  whose shapes broadcast together: the forward broadcasts them, as the backend does. In both
  rules ``ans`` has the broadcast shape and the inputs their own. A jvp rule's ``t`` has been
  lined up with the output's shape (``ops.shape.broadcast_tangent``); a vjp rule gives a
  cotangent of the output's shape (or one that broadcasts to it), which the engine sums back to
  its input's shape (``ops.shape.unbroadcast``). Both happen in ``dualgrad._rules``, the one
  place the engines call rules from.

A variadic primitive (``concat``) takes any number of inputs: its ``vjp`` is a single rule with
an extra keyword ``index`` (which input), and its ``jvp`` a single rule taking the list of all
input tangents (``None`` where an input has none).
"""

from __future__ import annotations

__all__ = ["REGISTRY", "Primitive", "binary", "nondiff", "piecewise_constant", "unary"]

from collections.abc import Callable, Sequence
from typing import Any

Rule = Callable[..., Any]

REGISTRY: dict[str, Primitive] = {}


class Primitive:
    """An operation the engines know how to differentiate.

    Args:
        name: the Array API name (``"multiply"``); unique.
        forward: ``(xp, *inputs, **params) -> array``.
        vjp: one rule per input (``None``: not differentiable there); a single rule if variadic.
        jvp: one rule per input, as ``vjp``; a single rule if variadic.
        linear: the rules never read input or output values (only shapes), so modifying an
            input in place after the op is harmless; this skips the saved-tensor version check.
        vjp_reads: for each input's vjp rule, the input positions whose values it reads (None:
            any of them). The saved-tensor version check looks only at the inputs that the
            rules of the inputs needing a cotangent read, as PyTorch checks only what a
            backward saved: ``e = 3 * d; d += 1; e.backward()`` is fine (the rule reads the 3).
        vjp_reads_ans: the vjp rules read the output's values. When False, a backward that keeps
            its graph need not recompute the output as a function of the inputs (matmul's
            rules read only the inputs: recomputing would cost a whole product).
        elementwise: inputs are promoted to one dtype first, and broadcast as above.
        promote: for elementwise primitives, the input positions promoted to a common dtype
            (default: every differentiable position; all of them for non-differentiable ops).
        grad_fn: the name shown in ``grad_fn=<...Backward0>``, PyTorch's spelling ("Mul").
        variadic: takes any number of inputs (see the module docstring).

    Raises:
        TypeError: the rule counts differ, or the name is taken.
    """

    __slots__ = (
        "elementwise",
        "forward",
        "grad_fn_name",
        "jvp",
        "linear",
        "name",
        "promote",
        "variadic",
        "vjp",
        "vjp_reads",
        "vjp_reads_ans",
    )

    def __init__(
        self,
        name: str,
        forward: Rule,
        vjp: Sequence[Rule | None] | Rule,
        jvp: Sequence[Rule | None] | Rule,
        *,
        linear: bool = False,
        elementwise: bool = False,
        promote: tuple[int, ...] | None = None,
        grad_fn: str | None = None,
        variadic: bool = False,
        vjp_reads: tuple[tuple[int, ...] | None, ...] | None = None,
        vjp_reads_ans: bool = True,
    ) -> None:
        if name in REGISTRY:
            msg = f"primitive {name!r} is declared twice"
            raise TypeError(msg)
        if not variadic:
            vjp, jvp = tuple(vjp), tuple(jvp)  # type: ignore[arg-type]
            if len(vjp) != len(jvp):
                msg = f"primitive {name!r}: {len(vjp)} vjp rules but {len(jvp)} jvp rules"
                raise TypeError(msg)
            if any((v is None) != (j is None) for v, j in zip(vjp, jvp, strict=True)):
                msg = f"primitive {name!r}: vjp and jvp must be differentiable in the same inputs"
                raise TypeError(msg)
            if promote is None:
                differentiable = tuple(i for i, rule in enumerate(vjp) if rule is not None)
                promote = differentiable or tuple(range(len(vjp)))
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.linear = linear
        self.elementwise = elementwise
        self.promote = promote
        self.grad_fn_name = f"{grad_fn or _camel(name)}Backward0"
        self.variadic = variadic
        self.vjp_reads = vjp_reads
        self.vjp_reads_ans = vjp_reads_ans
        REGISTRY[name] = self

    def differentiable(self, index: int) -> bool:
        """Whether the primitive has derivative rules for input ``index``."""
        return self.variadic or self.vjp[index] is not None  # type: ignore[index]

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _namespace_function(name: str, nin: int) -> Rule:
    # Looked up on the namespace at call time, so one primitive serves every backend. One and
    # two inputs spelled out: packing them into a tuple costs a tenth of the call.
    if nin == 1:

        def forward(xp: Any, x: Any) -> Any:
            return getattr(xp, name)(x)

    elif nin == 2:

        def forward(xp: Any, x: Any, y: Any) -> Any:
            return getattr(xp, name)(x, y)

    else:

        def forward(xp: Any, *inputs: Any) -> Any:
            return getattr(xp, name)(*inputs)

    forward.__name__ = name
    return forward


def unary(
    name: str,
    d: Rule,
    *,
    forward: Rule | None = None,
    grad_fn: str | None = None,
    reads_ans: bool = True,
) -> Primitive:
    """An elementwise function of one input with derivative ``d(xp, x, ans)``.

    vjp is ``g * d`` and jvp is ``t * d``; both broadcast over leading batch axes. ``forward``
    defaults to the namespace function of the same name. ``reads_ans=False``: ``d`` never
    reads ``ans`` (``Primitive``'s ``vjp_reads_ans``).
    """
    return Primitive(
        name,
        forward=forward or _namespace_function(name, 1),
        vjp=(lambda xp, g, ans, x: g * d(xp, x, ans),),
        jvp=(lambda xp, t, ans, x: t * d(xp, x, ans),),
        elementwise=True,
        grad_fn=grad_fn,
        vjp_reads_ans=reads_ans,
    )


def binary(
    name: str,
    dx: Rule,
    dy: Rule,
    *,
    forward: Rule | None = None,
    grad_fn: str | None = None,
    reads: tuple[tuple[int, ...] | None, ...] | None = None,
    reads_ans: bool = True,
) -> Primitive:
    """An elementwise function of two inputs with partials ``dx(xp, x, y, ans)`` and ``dy``;
    ``reads`` is ``Primitive``'s ``vjp_reads``; ``reads_ans=False``: neither partial reads
    ``ans`` (its ``vjp_reads_ans``)."""
    return Primitive(
        name,
        forward=forward or _namespace_function(name, 2),
        vjp=(
            lambda xp, g, ans, x, y: g * dx(xp, x, y, ans),
            lambda xp, g, ans, x, y: g * dy(xp, x, y, ans),
        ),
        jvp=(
            lambda xp, t, ans, x, y: t * dx(xp, x, y, ans),
            lambda xp, t, ans, x, y: t * dy(xp, x, y, ans),
        ),
        elementwise=True,
        grad_fn=grad_fn,
        vjp_reads=reads,
        vjp_reads_ans=reads_ans,
    )


def piecewise_constant(name: str, *, grad_fn: str | None = None) -> Primitive:
    """An elementwise function whose derivative is zero wherever it exists (floor, sign).

    Unlike a comparison its output is a float that stays in the graph, as in PyTorch, so a
    gradient through it is an honest zero rather than an error.
    """
    return Primitive(
        name,
        forward=_namespace_function(name, 1),
        vjp=(lambda xp, g, ans, x: xp.zeros_like(g),),
        jvp=(lambda xp, t, ans, x: xp.zeros_like(t),),
        linear=True,
        elementwise=True,
        grad_fn=grad_fn,
    )


def nondiff(name: str, nin: int, *, elementwise: bool = True) -> Primitive:
    """A function whose output never carries gradients (comparisons, rounding to integers)."""
    return Primitive(
        name,
        forward=_namespace_function(name, nin),
        vjp=(None,) * nin,
        jvp=(None,) * nin,
        elementwise=elementwise,
    )
