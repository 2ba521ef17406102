"""A residual MLP built from ModuleList and ModuleDict, with SiLU, SmoothL1Loss, MultiStepLR."""

import numpy as np
import torch

nn = torch.nn


class ResidualMLP(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.stem = nn.Linear(3, width)
        self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
        self.heads = nn.ModuleDict({"mean": nn.Linear(width, 1), "scale": nn.Linear(width, 1)})
        self.act = nn.SiLU()

    def forward(self, x):
        h = self.act(self.stem(x))
        for block in self.blocks:
            h = h + self.act(block(h))
        return self.heads["mean"](h), nn.functional.softplus(self.heads["scale"](h))


rng = np.random.default_rng(16)
X = torch.tensor(rng.uniform(-2, 2, (80, 3)), dtype=torch.float32)
target = torch.sin(X[:, :1]) * torch.cos(X[:, 1:2]) + 0.1 * X[:, 2:]

model = ResidualMLP(width=10, depth=3)
print(len(model.blocks), list(model.heads.keys()))
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
init = {
    name: torch.from_numpy(rng.normal(0.0, 0.3, tuple(value.shape)).astype(np.float32))
    for name, value in model.state_dict().items()
}
missing, unexpected = model.load_state_dict(init)
print(missing, unexpected)

criterion = nn.SmoothL1Loss(beta=0.5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[5, 10], gamma=0.3)

accumulation = 2
for epoch in range(15):
    optimizer.zero_grad(set_to_none=True)
    # Gradient accumulation over two micro-batches, then one step
    for chunk_x, chunk_y in zip(X.chunk(accumulation), target.chunk(accumulation), strict=True):
        mean, scale = model(chunk_x)
        loss = criterion(mean, chunk_y) + 0.01 * scale.mean()
        (loss / accumulation).backward()
    optimizer.step()
    scheduler.step()
    if epoch % 3 == 2:
        print(epoch, loss.item(), scheduler.get_last_lr())

print(optimizer.param_groups[0]["lr"])
print(model.blocks[0].bias.tolist())
