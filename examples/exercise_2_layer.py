"""Exercise 2: a simple neural network layer, out = tanh(x @ W + b), trained by autograd."""

import dualgrad as torch

# dualgrad's random numbers differ from PyTorch's, so print only shapes and checks.
torch.manual_seed(0)

x = torch.randn(4, 3)  # a batch of 4 inputs with 3 features
W = torch.randn(3, 2, requires_grad=True)
b = torch.zeros(2, requires_grad=True)

out = torch.tanh(x @ W + b)  # 4 outputs with 2 features
loss = out.sum()
loss.backward()

print(tuple(out.shape))  # (4, 2)
print(tuple(W.grad.shape))  # (3, 2)
print(tuple(b.grad.shape))  # (2,)
print(out.requires_grad, x.grad is None)  # True True: x needs no gradient

# The same gradients by hand: d tanh(u) / du = 1 - tanh(u)**2.
with torch.no_grad():
    local = 1 - out**2
    W_grad = x.T @ local
    b_grad = torch.ones(4) @ local
print(((W.grad - W_grad) ** 2).sum().item() < 1e-10)  # True
print(((b.grad - b_grad) ** 2).sum().item() < 1e-10)  # True

# One step of gradient descent lowers the loss.
optimizer = torch.optim.SGD([W, b], lr=0.1)
optimizer.step()
optimizer.zero_grad()
new_loss = torch.tanh(x @ W + b).sum()
print(new_loss.item() < loss.item())  # True
