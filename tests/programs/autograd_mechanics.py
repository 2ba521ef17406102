"""The autograd tutorial's mechanics: vector backward, accumulation, hooks, higher order."""

import numpy as np
import torch

# Q = 3a^3 - b^2 is a vector: backward needs the gradient of something with respect to Q
a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - b**2
external_grad = torch.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)

# Gradients accumulate until zeroed
x = torch.ones(5, requires_grad=True)
for _ in range(3):
    (x * x).sum().backward()
print(x.grad)
x.grad.zero_()
print(x.grad)

# Which tensors are leaves, and which keep their grad
w = torch.randn(3, requires_grad=True)
z = w * 2
z.retain_grad()
out = z.sum()
out.backward()
print(w.is_leaf, z.is_leaf, z.grad, out.grad_fn is not None)

# Hooks see, and can change, the gradient flowing through a tensor
seen = []
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = v.register_hook(lambda grad: grad * 2)
(v**2).sum().backward()
print(v.grad)
h.remove()
u = v * 1.0
u.register_hook(lambda grad: seen.append(grad.clone()))
u.sum().backward()
print(seen, v.grad)

# Detach and no_grad stop tracking
y = v.detach()
print(y.requires_grad, (v * 2).requires_grad)
with torch.no_grad():
    print((v * 2).requires_grad)

# A value the derivative does not need may change in place after use (3 * d needs only the 3)
c = torch.tensor([1.0, 2.0], requires_grad=True)
d = c * 2
e = 3 * d
d += 1
e.sum().backward()
print(c.grad, d)

# Second derivatives: grad with create_graph, then a gradient penalty through it
rng = np.random.default_rng(15)
p = torch.tensor(rng.standard_normal(4), dtype=torch.float32, requires_grad=True)
f = (p**3).sum() + (p[0] * p[1]) ** 2
(g,) = torch.autograd.grad(f, p, create_graph=True)
print(g.requires_grad, g.tolist())
penalty = (g.norm(2) - 1) ** 2
penalty.backward()
print(p.grad.tolist())

# Hessian-vector product by double backward (the penalty's backward freed f's graph: rebuild it)
vec = torch.tensor([1.0, 0.0, -1.0, 0.5])
f = (p**3).sum() + (p[0] * p[1]) ** 2
(g,) = torch.autograd.grad(f, p, create_graph=True)
(hvp,) = torch.autograd.grad(g, p, grad_outputs=vec)
print(hvp.tolist())


def energy(t):
    return (t**3).sum() + (t[0] * t[1]) ** 2


hessian = torch.autograd.functional.hessian(energy, p.detach())
print(hessian.diagonal().tolist(), torch.allclose(hessian @ vec, hvp))
