"""Logistic regression fitted by L-BFGS: the optimizer calls a closure to re-evaluate the loss."""

import numpy as np
import torch

rng = np.random.default_rng(9)
features = rng.standard_normal((200, 4))
true_w = np.array([1.5, -2.0, 0.5, 0.0])
labels = (features @ true_w + 0.3 + 0.5 * rng.standard_normal(200) > 0).astype(np.float32)

X = torch.as_tensor(features, dtype=torch.float32)
y = torch.as_tensor(labels).unsqueeze(1)

model = torch.nn.Linear(4, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
loss_fn = torch.nn.BCEWithLogitsLoss()
# Near the optimum, float32 losses of two libraries differ in the last bit, and with the default
# tolerance_change (1e-9, below float32's resolution) that bit decides how many evaluations the
# line search makes; a tolerance above the resolution leaves the count to the algorithm.
optimizer = torch.optim.LBFGS(
    model.parameters(),
    lr=1,
    max_iter=4,
    history_size=10,
    tolerance_change=1e-5,
    line_search_fn="strong_wolfe",
)

evaluations = 0


def closure():
    global evaluations
    evaluations += 1
    optimizer.zero_grad()
    loss = loss_fn(model(X), y) + 1e-2 * model.weight.pow(2).sum()
    loss.backward()
    return loss


for step in range(4):
    loss = optimizer.step(closure)
    print(step, loss.item(), evaluations)

print([round(w, 4) for w in model.weight.squeeze().tolist()], round(model.bias.item(), 4))
with torch.no_grad():
    accuracy = ((model(X) > 0).float() == y).float().mean()
print(f"accuracy {accuracy.item():.3f}")
