"""Computing gradients: y = x**2 + 3*x + 1 has dy/dx = 2*x + 3 = 7 at x = 2."""

import dualgrad as torch

# Define a simple function
x = torch.tensor(2.0, requires_grad=True)
y = x**2 + 3 * x + 1

# Compute gradients
y.backward()

# Access the gradient
print(x.grad)  # tensor(7.)
