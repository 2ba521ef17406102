"""A binary classifier on two moons: BCEWithLogitsLoss, Adam, sigmoid and a 0.5 threshold."""

import numpy as np
import torch

nn = torch.nn


def moons(n, rng):
    angle = np.pi * rng.uniform(0, 1, n)
    upper = rng.uniform(0, 1, n) < 0.5
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], axis=1) + 0.1 * rng.standard_normal((n, 2))
    return points.astype(np.float32), upper.astype(np.float32)


rng = np.random.default_rng(13)
points, labels = moons(128, rng)
X = torch.from_numpy(points)
y = torch.from_numpy(labels).view(-1, 1)

model = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.1), nn.Linear(16, 1))
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(rng.normal(0.0, 0.8, param.shape).astype(np.float32)))

criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.2]))
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, betas=(0.9, 0.99))

for epoch in range(30):
    optimizer.zero_grad()
    logits = model(X)
    loss = criterion(logits, y)
    loss.backward()
    optimizer.step()
    if epoch % 3 == 0:
        with torch.no_grad():
            preds = (torch.sigmoid(logits) > 0.5).float()
            acc = (preds == y).float().mean().item()
        print(f"epoch {epoch:2d} loss {loss.item():.6f} acc {acc:.4f}")

with torch.no_grad():
    probs = torch.sigmoid(model(X)).squeeze(1)
print(probs[:5].tolist())
bce = nn.BCELoss()(probs, y.squeeze(1))
print(bce.item(), nn.functional.binary_cross_entropy_with_logits(model(X), y).item())
