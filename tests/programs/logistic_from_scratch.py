"""Multiclass logistic regression from scratch, then the same with nn: hand-made updates."""

import math

import numpy as np
import torch

rng = np.random.default_rng(14)
n, features, classes = 120, 10, 4
centers = rng.standard_normal((classes, features)) * 0.6
y_np = rng.integers(0, classes, n)
x_np = centers[y_np] + rng.standard_normal((n, features))
x_train = torch.tensor(x_np, dtype=torch.float32)
y_train = torch.tensor(y_np)
print(x_train.shape, y_train.min().item(), y_train.max().item())

# --- from scratch: raw weights, a hand-written log_softmax and negative log-likelihood -------
weights = torch.from_numpy(rng.standard_normal((features, classes)).astype(np.float32))
weights = weights / math.sqrt(features)
weights.requires_grad_()
bias = torch.zeros(classes, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


loss_func = nll
bs, lr = 30, 0.5
for epoch in range(3):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)

        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
    print(
        epoch, loss_func(model(x_train), y_train).item(), accuracy(model(x_train), y_train).item()
    )


# --- with nn: a Module, F.cross_entropy, and the classic update through .data ----------------
class MnistLogistic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.zeros(features, classes))
        self.bias = torch.nn.Parameter(torch.zeros(classes))

    def forward(self, xb):
        return xb @ self.weights + self.bias


model = MnistLogistic()
loss_func = torch.nn.functional.cross_entropy
for epoch in range(3):
    for i in range((n - 1) // bs + 1):
        xb = x_train[i * bs : i * bs + bs]
        yb = y_train[i * bs : i * bs + bs]
        loss = loss_func(model(xb), yb)

        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data
            p.grad.data.zero_()
    print(epoch, loss_func(model(x_train), y_train).item())
print(model.weights.requires_grad, model.weights.is_leaf, model.weights.grad.abs().sum().item())
print(model.bias.tolist())
