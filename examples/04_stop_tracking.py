"""Preventing gradient tracking with .detach() and torch.no_grad()."""

import dualgrad as torch

# Method 1: Use .detach()
x = torch.tensor(1.0, requires_grad=True)
y = x.detach()  # y doesn't track gradients

# Method 2: Use torch.no_grad()
with torch.no_grad():
    z = x * 2  # z doesn't track gradients

print(y.requires_grad)  # False
print(z.requires_grad)  # False
print(x.requires_grad)  # True: x itself still tracks gradients
print(y)  # tensor(1.)
print(z)  # tensor(2.)
