"""y = sin(x) as a linear layer over (x, x^2, x^3), trained with nn, a loss module and RMSprop."""

import math

import numpy as np
import torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# x.unsqueeze(-1) has shape (2000, 1); with p of shape (3,) the power broadcasts to (2000, 3)
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
print(model)

# Equal starting weights in every library: load them from NumPy
rng = np.random.default_rng(3)
with torch.no_grad():
    model[0].weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32)))
    model[0].bias.fill_(0.1)

loss_fn = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2)

for t in range(300):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 30 == 29:
        print(t, loss.item())

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

linear_layer = model[0]
print(
    f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x"
    f" + {linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3"
)
print([tuple(param.shape) for param in model.parameters()])
