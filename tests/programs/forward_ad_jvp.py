"""Forward-mode AD: directional derivatives with dual tensors, checked against reverse mode."""

import numpy as np
import torch

fwAD = torch.autograd.forward_ad

rng = np.random.default_rng(11)


def fn(x, y):
    return x**2 + y**2 + torch.sin(x * y)


primal = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))
tangent = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))
other = torch.from_numpy(rng.standard_normal((3, 4)).astype(np.float32))

with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    # Tensors that are not dual behave as if their tangent were zero
    dual_output = fn(dual_input, other)
    primal_out, jvp = fwAD.unpack_dual(dual_output)
    print(fwAD.unpack_dual(other).tangent)
    print(primal_out.shape, jvp.shape)

# The same directional derivative from reverse mode: the gradient dotted with the tangent
x = primal.clone().requires_grad_()
(grad,) = torch.autograd.grad(fn(x, other).sum(), x)
print(torch.allclose(jvp.sum(), (grad * tangent).sum(), rtol=1e-5, atol=1e-5))
print(jvp.sum().item(), jvp[0].tolist())

# A Jacobian column by column: one forward pass per basis tangent through a small network
model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(rng.normal(0.0, 0.7, param.shape).astype(np.float32)))

point = torch.tensor([0.5, -1.0, 2.0])
columns = []
with fwAD.dual_level():
    for i in range(3):
        basis = torch.zeros(3)
        basis[i] = 1.0
        out = model(fwAD.make_dual(point, basis))
        columns.append(fwAD.unpack_dual(out).tangent)
jacobian = torch.stack(columns, dim=1)
print(jacobian.shape)
print(jacobian.tolist())

# Reverse mode, one row per output, agrees
rows = []
x = point.clone().requires_grad_(True)
out = model(x)
for j in range(2):
    (row,) = torch.autograd.grad(out[j], x, retain_graph=True)
    rows.append(row)
print(torch.allclose(jacobian, torch.stack(rows), atol=1e-6))
