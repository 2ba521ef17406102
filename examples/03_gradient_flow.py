"""Gradient flow: the chain rule through c = a * b, d = c**2, e = d + 3."""

import dualgrad as torch

# Multiple operations
a = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(2.0, requires_grad=True)

c = a * b
d = c**2
e = d + 3

e.backward()

print(a.grad)  # tensor(8.)
print(b.grad)  # tensor(4.)
