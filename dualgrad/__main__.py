"""``python -m dualgrad``: a tour of PyTorch's autograd tutorial run on dualgrad, the two engines
side by side, then a small network trained to tell two spirals apart."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import dualgrad as torch
from dualgrad.demo import cli as demo


def _section(title: str) -> None:
    print(f"\n== {title} ==")


def tour() -> None:
    """Each section of the autograd tutorial, with what it prints."""
    _section("The requires_grad flag")
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    print("x =", x)
    print("x.requires_grad:", x.requires_grad)

    _section("Computing gradients: y = x**2 + 3*x + 1 at x = 2")
    x = torch.tensor(2.0, requires_grad=True)
    y = x**2 + 3 * x + 1
    y.backward()
    print("y =", y)
    print("dy/dx = 2x + 3 =", x.grad)

    _section("Gradient flow: e = (a*b)**2 + 3 at a = 1, b = 2")
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    e = (a * b) ** 2 + 3
    e.backward()
    print("de/da = 2ab**2 =", a.grad)
    print("de/db = 2a**2b =", b.grad)

    _section("Preventing gradient tracking")
    x = torch.tensor(1.0, requires_grad=True)
    print("x.detach().requires_grad:", x.detach().requires_grad)
    with torch.no_grad():
        z = x * 2
    print("(x * 2 under no_grad).requires_grad:", z.requires_grad)

    _section("Gradient accumulation")
    x = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.1)
    for step in range(3):
        (x**2).backward()
        print(f"after backward {step + 1}: x.grad =", x.grad)
    optimizer.zero_grad()
    print("after optimizer.zero_grad(): x.grad =", x.grad)

    _section("Linear regression: y = 2x + 1 + noise")
    torch.manual_seed(0)
    x = torch.randn(10, 1)
    y = 2 * x + 1 + 0.1 * torch.randn(10, 1)
    w = torch.randn(1, 1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    learning_rate = 0.1
    for epoch in range(100):
        loss = ((torch.matmul(x, w) + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= learning_rate * w.grad
            b -= learning_rate * b.grad
        w.grad.zero_()
        b.grad.zero_()
        if epoch % 25 == 0 or epoch == 99:
            print(f"epoch {epoch:3d}: loss {loss.item():.4f}")
    print(f"learned w = {w.item():.3f} (true 2), b = {b.item():.3f} (true 1)")


def _widest_float() -> torch.DType:
    """float64 where the backend has it (JAX only in its 64-bit mode), else float32."""
    try:
        torch.get_backend().native_dtype(torch.float64)
    except TypeError:
        return torch.float32
    return torch.float64


def _mlp_gradients(mode: str) -> list[torch.Tensor]:
    """The gradients of a small tanh network's loss, computed by ``backward()`` in ``mode``."""
    dtype = _widest_float()
    torch.manual_seed(1)
    x = torch.randn(8, 3, dtype=dtype)
    target = torch.randn(8, 1, dtype=dtype)
    w1 = torch.randn(3, 4, dtype=dtype, requires_grad=True)
    b1 = torch.zeros(4, dtype=dtype, requires_grad=True)
    w2 = torch.randn(4, 1, dtype=dtype, requires_grad=True)
    with torch.use_mode(mode):
        loss = ((torch.tanh(x @ w1 + b1) @ w2 - target) ** 2).mean()
        loss.backward()
    return [w1.grad, b1.grad, w2.grad]


def both_modes() -> None:
    """The same gradients from the tape (reverse) and from dual numbers (forward)."""
    _section(f"Two engines, one answer: d loss / d w1 of a small tanh network ({_widest_float()})")
    reverse, forward = _mlp_gradients("reverse"), _mlp_gradients("forward")
    print(f"{'reverse mode':>14}  {'forward mode':>14}")
    for r, f in zip(
        reverse[0].reshape(-1).tolist()[:6], forward[0].reshape(-1).tolist()[:6], strict=True
    ):
        print(f"{r:14.10f}  {f:14.10f}")
    difference = max((a - b).abs().max().item() for a, b in zip(reverse, forward, strict=True))
    count = sum(g.numel() for g in reverse)
    print(f"largest difference over all {count} gradients: {difference:.2e}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the tour, the comparison of the engines and the spirals demo."""
    parser = argparse.ArgumentParser(
        prog="python -m dualgrad",
        description="A tour of PyTorch's autograd tutorial run on dualgrad, the two engines side "
        "by side, then a small network trained to tell two spirals apart.",
    )
    demo.add_arguments(parser)
    parser.add_argument(
        "--no-tour", action="store_true", help="skip the tour and the engine comparison"
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the spirals demo")
    args = parser.parse_args(argv)
    demo.check_arguments(parser, args)
    print(f"dualgrad {torch.__version__} on the {torch.get_backend().name} backend")
    if not args.no_tour:
        tour()
        both_modes()
    if not args.no_demo:
        demo.run(args)


if __name__ == "__main__":
    main()
