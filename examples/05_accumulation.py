"""Gradient accumulation: backward() adds into .grad until zero_grad() clears it."""

import dualgrad as torch

# Zero gradients before backward pass
x = torch.tensor(1.0, requires_grad=True)
optimizer = torch.optim.SGD([x], lr=0.1)

for _ in range(3):
    y = x**2
    y.backward()
    # Don't zero here - gradients accumulate
    print(x.grad)  # tensor(2.), then tensor(4.), then tensor(6.)

# Zero gradients
optimizer.zero_grad()
print(x.grad)  # None (PyTorch 2's zero_grad sets grads to None)
