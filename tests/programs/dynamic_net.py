"""A network whose depth changes every forward pass: Python control flow builds the graph."""

import math
import random

import numpy as np
import torch


class DynamicNet(torch.nn.Module):
    def __init__(self, start):
        """Five scalar parameters, started from the given values."""
        super().__init__()
        self.a, self.b, self.c, self.d, self.e = (
            torch.nn.Parameter(torch.tensor(float(v))) for v in start
        )

    def forward(self, x):
        """A polynomial of order 3 to 5: the terms above x^3 reuse e, a random number of times.

        Each forward pass draws the order, so the graph autograd records differs from call
        to call; reusing e several times accumulates its gradient over the uses.
        """
        y = self.a + self.b * x + self.c * x**2 + self.d * x**3
        for exp in range(4, random.randint(4, 6)):
            y = y + self.e * x**exp
        return y

    def string(self):
        return (
            f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2"
            f" + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?"
        )


random.seed(0)  # the per-step orders: Python's generator, the same under every library
rng = np.random.default_rng(4)

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

model = DynamicNet(0.1 * rng.standard_normal(5))
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
for t in range(300):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    if t % 30 == 29:
        print(t, loss.item())

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(f"Result: {model.string()}")
print(sum(p.numel() for p in model.parameters()))
