"""A hand-written recurrent cell learns a running sum; clip_grad_norm_ tames its gradients."""

import numpy as np
import torch


class ElmanRNN(torch.nn.Module):
    def __init__(self, hidden_size, w_in, w_hidden):
        super().__init__()
        self.w_in = torch.nn.Parameter(torch.from_numpy(w_in))
        self.w_hidden = torch.nn.Parameter(torch.from_numpy(w_hidden))
        self.bias = torch.nn.Parameter(torch.zeros(hidden_size))
        self.readout = torch.nn.Linear(hidden_size, 1)

    def forward(self, inputs):
        """inputs: (batch, steps, 1); one prediction per step."""
        batch, steps, _ = inputs.shape
        h = torch.zeros(batch, self.w_hidden.shape[0])
        outputs = []
        for t in range(steps):
            h = torch.tanh(inputs[:, t] @ self.w_in + h @ self.w_hidden + self.bias)
            outputs.append(self.readout(h))
        return torch.stack(outputs, dim=1)


rng = np.random.default_rng(8)
hidden = 8
model = ElmanRNN(
    hidden,
    rng.normal(0.0, 0.5, (1, hidden)).astype(np.float32),
    rng.normal(0.0, 0.6, (hidden, hidden)).astype(np.float32),
)
with torch.no_grad():
    model.readout.weight.copy_(
        torch.tensor(rng.normal(0.0, 0.5, (1, hidden)), dtype=torch.float32)
    )
    model.readout.bias.zero_()

inputs = torch.tensor(rng.uniform(-1, 1, (16, 12, 1)), dtype=torch.float32)
targets = torch.cumsum(inputs, dim=1) / 4

optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
max_norm = 1.0
for step in range(20):
    optimizer.zero_grad()
    loss = torch.nn.functional.mse_loss(model(inputs), targets)
    loss.backward()
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    clipped = torch.norm(torch.stack([p.grad.norm() for p in model.parameters()]))
    optimizer.step()
    if step % 2 == 0:
        print(step, loss.item(), total_norm.item(), clipped.item())

print(f"final loss {loss.item():.6f}")
print(model.w_hidden.data.diagonal().tolist())
