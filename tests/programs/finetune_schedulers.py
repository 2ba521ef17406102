"""Fine-tuning a pretrained backbone: freezing, param groups, gradient accumulation, schedulers,
and saving/loading the optimizer's and scheduler's state."""

import io

import numpy as np
import torch

nn = torch.nn
F = torch.nn.functional

rng = np.random.default_rng(11)
X = rng.standard_normal((96, 6)).astype(np.float32)
true_w = rng.standard_normal((6, 4)).astype(np.float32)
y = (X @ true_w).argmax(axis=1)
inputs, targets = torch.from_numpy(X), torch.from_numpy(y).long()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Linear(16, 16), nn.SiLU())
        self.dropout = nn.Dropout(p=0.0)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.dropout(self.backbone(x)))


def numpy_init(model, scale=0.3):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, scale, tuple(p.shape)).astype(np.float32)))


model = Net()
numpy_init(model)
print(model)

# Stage 1: freeze the backbone, train only the head
for param in model.backbone.parameters():
    param.requires_grad_(False)
trainable = [n for n, p in model.named_parameters() if p.requires_grad]
print("trainable:", trainable)
frozen_before = model.backbone[0].weight.clone()

opt = torch.optim.SGD(
    filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9, nesterov=True
)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda epoch: 0.9**epoch)
for epoch in range(5):
    opt.zero_grad()
    loss = F.cross_entropy(model(inputs), targets)
    loss.backward()
    opt.step()
    sched.step()
    print(f"stage1 epoch {epoch} loss {loss.item():.5f} lr {sched.get_last_lr()}")
print(frozen_before.equal(model.backbone[0].weight), model.backbone[0].weight.grad)

# Stage 2: unfreeze, parameter groups with different learning rates, gradient accumulation
for param in model.parameters():
    param.requires_grad = True
opt = torch.optim.AdamW(
    [
        {"params": model.backbone.parameters(), "lr": 1e-3},
        {"params": model.head.parameters()},
    ],
    lr=1e-2,
    weight_decay=0.05,
)
print([g["lr"] for g in opt.param_groups], [len(g["params"]) for g in opt.param_groups])
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[5e-3, 5e-2], total_steps=12)
accum = 3
micro = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, targets), batch_size=8)
step = 0
for i, (xb, yb) in enumerate(micro):
    loss = F.cross_entropy(model(xb), yb) / accum
    loss.backward()
    if (i + 1) % accum == 0:
        gn = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
        step += 1
        lrs = [round(g["lr"], 7) for g in opt.param_groups]
        print(f"step {step} loss*{accum} {loss.item() * accum:.5f} grad norm {gn:.5f} lrs {lrs}")
print(model.head.weight.grad is None)

# Save a checkpoint with model, optimizer and scheduler, restore it into fresh objects
buffer = io.BytesIO()
torch.save(
    {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "step": step,
    },
    buffer,
)
buffer.seek(0)
ckpt = torch.load(buffer, weights_only=True)
model2 = Net()
model2.load_state_dict(ckpt["model"])
opt2 = torch.optim.AdamW(
    [{"params": model2.backbone.parameters(), "lr": 1e-3}, {"params": model2.head.parameters()}],
    lr=1e-2,
    weight_decay=0.05,
)
opt2.load_state_dict(ckpt["optimizer"])
print(
    ckpt["step"], opt2.state_dict()["param_groups"][1]["lr"], opt2.state_dict()["state"][5]["step"]
)
print(
    torch.allclose(
        opt2.state_dict()["state"][0]["exp_avg_sq"], opt.state_dict()["state"][0]["exp_avg_sq"]
    )
)

# Stage 3: ReduceLROnPlateau and others driven by a validation metric
opt3 = torch.optim.SGD(model2.parameters(), lr=0.05)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
    opt3, mode="min", factor=0.5, patience=1, threshold=0.01
)
for epoch in range(8):
    opt3.zero_grad()
    loss = F.cross_entropy(model2(inputs), targets)
    loss.backward()
    opt3.step()
    val = 1.0 if epoch >= 2 else loss.item()
    plateau.step(val)
    print(f"plateau epoch {epoch} loss {loss.item():.5f} lr {opt3.param_groups[0]['lr']}")

opt4 = torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=1.0)
ms = torch.optim.lr_scheduler.MultiStepLR(opt4, milestones=[2, 4], gamma=0.1)
ex_opt = torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=1.0)
ex = torch.optim.lr_scheduler.ExponentialLR(ex_opt, gamma=0.5)
cos_opt = torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=1.0)
cos = torch.optim.lr_scheduler.CosineAnnealingLR(cos_opt, T_max=4)
for _ in range(6):
    opt4.step()
    ex_opt.step()
    cos_opt.step()
    ms.step()
    ex.step()
    cos.step()
    print(ms.get_last_lr(), ex.get_last_lr(), [f"{v:.4f}" for v in cos.get_last_lr()])

model2.eval()
with torch.no_grad():
    logits = model2(inputs)
    probs = F.softmax(logits, dim=1)
    acc = (logits.argmax(dim=1) == targets).float().mean()
    print(f"accuracy {acc.item():.4f}", probs[:2])
    top2 = probs.topk(2, dim=1)
    print(top2.values[:3], top2.indices[:3])
