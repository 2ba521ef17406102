"""Linear regression: fit y = 2x + 1 from noisy samples by gradient descent."""

import dualgrad as torch

# dualgrad's random numbers differ from PyTorch's, so print only facts that hold for any draw.
torch.manual_seed(0)

# Simple linear regression
x = torch.randn(10, 1)
y = 2 * x + 1 + 0.1 * torch.randn(10, 1)

# Model parameters
w = torch.randn(1, 1, requires_grad=True)
b = torch.randn(1, requires_grad=True)

# Training loop
learning_rate = 0.01
# 1000 epochs, not the tutorial's 100: 100 epochs at lr 0.01 leave w and b short of 2 and 1.
for _epoch in range(1000):
    # Forward pass
    y_pred = torch.matmul(x, w) + b

    # Loss
    loss = ((y_pred - y) ** 2).mean()

    # Backward pass
    loss.backward()

    # Update parameters
    with torch.no_grad():
        w -= learning_rate * w.grad
        b -= learning_rate * b.grad

    # Zero gradients
    w.grad.zero_()
    b.grad.zero_()

print(round(w.item()))  # 2
print(round(b.item()))  # 1
print(loss.item() < 0.05)  # True: only the 0.1 * randn noise is left
print(w.requires_grad, b.requires_grad)  # True True: the in-place updates kept them leaves
