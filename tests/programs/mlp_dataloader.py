"""Classify points in three spirals: an MLP, DataLoader over a TensorDataset, SGD and StepLR."""

import numpy as np
import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def spirals(n_per_class, rng):
    """Three interleaved noisy spirals in the plane, labelled 0, 1, 2."""
    points, labels = [], []
    for label in range(3):
        radius = np.linspace(0.1, 1.0, n_per_class)
        angle = label * 2 * np.pi / 3 + 3 * radius + 0.1 * rng.standard_normal(n_per_class)
        points.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        labels.append(np.full(n_per_class, label))
    order = rng.permutation(3 * n_per_class)
    return np.concatenate(points)[order].astype(np.float32), np.concatenate(labels)[order]


rng = np.random.default_rng(5)
train_x, train_y = spirals(64, rng)
test_x, test_y = spirals(32, rng)

train_data = torch.utils.data.TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
test_data = torch.utils.data.TensorDataset(torch.tensor(test_x), torch.tensor(test_y))
print(len(train_data), len(test_data))

# The training order stays fixed so that every library takes the same steps; the test set is
# shuffled (from a seeded generator) because its accuracy does not depend on the order.
train_dataloader = torch.utils.data.DataLoader(train_data, batch_size=32)
generator = torch.Generator().manual_seed(0)
test_dataloader = torch.utils.data.DataLoader(
    test_data, batch_size=20, shuffle=True, generator=generator
)

for X, y in test_dataloader:
    print(f"Shape of X [N, C]: {X.shape}")
    print(f"Shape of y: {y.shape}")
    break


class NeuralNetwork(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_relu_stack = torch.nn.Sequential(
            torch.nn.Linear(2, 32),
            torch.nn.ReLU(),
            torch.nn.Linear(32, 32),
            torch.nn.ReLU(),
            torch.nn.Linear(32, 3),
        )

    def forward(self, x):
        return self.linear_relu_stack(x)


model = NeuralNetwork().to(device)
state = {
    name: torch.from_numpy(rng.normal(0.0, 0.5, tuple(value.shape)).astype(np.float32))
    for name, value in model.state_dict().items()
}
model.load_state_dict(state)

loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # Compute prediction error
        pred = model(X)
        loss = loss_fn(pred, y)

        # Backpropagation
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 3 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>3d}/{size:>3d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item() * len(X)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= size
    correct /= size
    print(f"Test Error: Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f}")
    return num_batches


epochs = 12
for t in range(epochs):
    if t % 4 == 0:
        print(f"Epoch {t + 1}, lr {scheduler.get_last_lr()[0]}")
    train(train_dataloader, model, loss_fn, optimizer)
    scheduler.step()
print(test(test_dataloader, model, loss_fn), "test batches")

# Accuracy the other classic way: the indices of the largest logits, from torch.max
correct = 0
total = 0
with torch.no_grad():
    for X, y in train_dataloader:
        outputs = model(X)
        _, predicted = torch.max(outputs, 1)
        total += y.size(0)
        correct += (predicted == y).sum().item()
print(f"Accuracy on the training set: {100 * correct // total} %")
