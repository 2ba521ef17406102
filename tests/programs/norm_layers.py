"""BatchNorm1d and LayerNorm in an MLP: train mode updates running statistics, eval uses them."""

import numpy as np
import torch

nn = torch.nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 12, bias=False)  # BatchNorm removes any bias: none to train
        self.bn = nn.BatchNorm1d(12)
        self.fc2 = nn.Linear(12, 12)
        self.ln = nn.LayerNorm(12)
        self.head = nn.Linear(12, 1)

    def forward(self, x):
        x = torch.relu(self.bn(self.fc1(x)))
        x = torch.relu(self.ln(self.fc2(x)))
        return self.head(x).squeeze(-1)


rng = np.random.default_rng(12)
X = torch.from_numpy((3.0 * rng.standard_normal((96, 6)) + 1.0).astype(np.float32))
w = torch.from_numpy(rng.standard_normal(6).astype(np.float32))
y = torch.tanh(X @ w / 4) + 0.05 * torch.from_numpy(rng.standard_normal(96).astype(np.float32))

model = Regressor()
with torch.no_grad():
    for name, param in model.named_parameters():
        if param.dim() == 2:
            param.copy_(torch.from_numpy(rng.normal(0.0, 0.4, param.shape).astype(np.float32)))
        elif name.startswith(("fc", "head")):
            param.zero_()  # the Linear biases; the norms start at weight 1 and bias 0 anyway
print(sorted(name for name, _ in model.named_buffers()))
print(model.bn.num_batches_tracked.item(), model.ln.weight.sum().item())

optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
for epoch in range(6):
    model.train()
    epoch_loss = 0.0
    for start in range(0, 96, 32):
        xb, yb = X[start : start + 32], y[start : start + 32]
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(epoch, epoch_loss / 3)

print(model.bn.num_batches_tracked.item())
print(model.bn.running_mean[:4].tolist())
print(model.bn.running_var[:4].tolist())

model.eval()
with torch.no_grad():
    eval_loss = loss_fn(model(X), y).item()
    one = model(X[:1])  # eval mode: a batch of one works, it uses the running statistics
print(eval_loss, one.item())
print(model.training, model.bn.training)
