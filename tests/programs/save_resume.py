"""Train, save a checkpoint, resume in fresh objects: the resumed run equals an unbroken one."""

import numpy as np
import torch

nn = torch.nn

rng = np.random.default_rng(10)
inputs = torch.from_numpy(rng.standard_normal((64, 5)).astype(np.float32))
targets = torch.from_numpy(rng.standard_normal((64, 2)).astype(np.float32))
initial = {
    "0.weight": rng.normal(0.0, 0.4, (16, 5)),
    "0.bias": np.zeros(16),
    "2.weight": rng.normal(0.0, 0.4, (2, 16)),
    "2.bias": np.zeros(2),
}


def make_model():
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2))
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in initial.items()})
    return model


def train(model, optimizer, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# One unbroken run of 10 epochs
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
unbroken = train(model, optimizer, 10)
print(unbroken)

# 5 epochs, then a checkpoint of everything needed to go on
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
first = train(model, optimizer, 5)
torch.save(
    {
        "epoch": 5,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": first[-1],
    },
    "checkpoint.pt",
)
torch.save(model.state_dict(), "weights.pt")

# A new process would start here: fresh model and optimizer, state loaded back
model = make_model()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-4)
checkpoint = torch.load("checkpoint.pt", weights_only=True)
model.load_state_dict(checkpoint["model_state_dict"])
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
print(checkpoint["epoch"], checkpoint["loss"])
print(sorted(checkpoint["optimizer_state_dict"]["state"][0]))
model.train()
second = train(model, optimizer, 5)
print(second)
print(np.allclose(first + second, unbroken, rtol=1e-6, atol=1e-7))

# The weights alone, saved after 5 epochs, give that model's predictions back
weights = torch.load("weights.pt", weights_only=True)
print(list(weights), [tuple(v.shape) for v in weights.values()])
restored = make_model()
restored.load_state_dict(weights)
restored.eval()
with torch.no_grad():
    print(restored(inputs[:2]).tolist())
