"""A small CNN (Conv2d, MaxPool2d, Flatten) tells vertical bars from horizontal ones."""

import numpy as np
import torch

nn = torch.nn
F = torch.nn.functional


def bar_images(n, rng):
    """n noisy 1x8x8 images, each with one bright bar: label 0 vertical, 1 horizontal."""
    images = 0.1 * rng.standard_normal((n, 1, 8, 8))
    labels = rng.integers(0, 2, n)
    where = rng.integers(1, 7, n)
    for image, label, at in zip(images, labels, where, strict=True):
        if label == 0:
            image[0, :, at] += 1.0
        else:
            image[0, at, :] += 1.0
    return torch.tensor(images, dtype=torch.float32), torch.tensor(labels)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)  # 8x8 -> 6x6
        self.pool = nn.MaxPool2d(2, 2)  # 6x6 -> 3x3
        self.conv2 = nn.Conv2d(4, 6, 2, padding=1)  # 3x3 -> 4x4
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(6 * 2 * 2, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.max_pool2d(torch.tanh(self.conv2(x)), 2)  # 4x4 -> 2x2
        x = self.flatten(x)
        return self.fc(x)


rng = np.random.default_rng(6)
train_images, train_labels = bar_images(48, rng)
test_images, test_labels = bar_images(32, rng)

net = Net()
net.load_state_dict(
    {
        name: torch.tensor(rng.normal(0.0, 0.4, tuple(value.shape)), dtype=torch.float32)
        for name, value in net.state_dict().items()
    }
)
print(net.conv1)
print(net.conv1.weight.shape, net.fc.weight.shape)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)

for epoch in range(4):
    running_loss = 0.0
    for i in range(0, 48, 16):
        inputs, labels = train_images[i : i + 16], train_labels[i : i + 16]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"[{epoch + 1}] loss: {running_loss / 3:.6f}")

correct = 0
total = 0
with torch.no_grad():
    outputs = net(test_images)
    _, predicted = torch.max(outputs.data, 1)
    total += test_labels.size(0)
    correct += (predicted == test_labels).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
print(net.conv2.bias.tolist())
