"""The requires_grad flag: ask autograd to track operations on a tensor."""

import dualgrad as torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print(x.requires_grad)  # True
print(x)  # tensor([1., 2., 3.], requires_grad=True)
