"""Exercise 3: find the minimum of f(x) = (x - 3)**2 + 1 by gradient descent from x = 0."""

import dualgrad as torch

x = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.SGD([x], lr=0.1)

for _ in range(100):
    optimizer.zero_grad()
    f = (x - 3) ** 2 + 1
    f.backward()
    optimizer.step()

f = (x - 3) ** 2 + 1
# Rounded Python floats: the last bits of x may differ between libraries.
print(round(x.item(), 4))  # 3.0
print(round(f.item(), 4))  # 1.0
