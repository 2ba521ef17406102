"""Exercise 1: the gradient of f(x) = x**3 at x = 2 is 3 * x**2 = 12."""

import dualgrad as torch

x = torch.tensor(2.0, requires_grad=True)
f = x**3
f.backward()

print(f.item())  # 8.0
print(x.grad)  # tensor(12.)
