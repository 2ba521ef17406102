"""PyTorch's "Build the Neural Network" tutorial: the accelerator, a Module, its layers one by
one, and its parameters, on synthetic images (its initial weights drawn with NumPy)."""

import numpy as np
import torch

nn = torch.nn

device = (
    torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
)
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


rng = np.random.default_rng(7)


def draw_weights(module):
    """Both libraries start from the same weights: uniform, as nn.Linear's own, from NumPy."""
    with torch.no_grad():
        for param in module.parameters():
            bound = 1 / np.sqrt(param.shape[-1] if param.dim() > 1 else 512)
            values = rng.uniform(-bound, bound, tuple(param.shape)).astype(np.float32)
            param.copy_(torch.from_numpy(values))


model = NeuralNetwork().to(device)
draw_weights(model)
print(model)

X = torch.from_numpy(rng.random((1, 28, 28), dtype=np.float32)).to(device)
logits = model(X)
pred_probab = nn.Softmax(dim=1)(logits)
y_pred = pred_probab.argmax(1)
print(f"Predicted class: {y_pred}")

# Model layers
input_image = torch.from_numpy(rng.random((3, 28, 28), dtype=np.float32))
print(input_image.size())

flatten = nn.Flatten()
flat_image = flatten(input_image)
print(flat_image.size())

layer1 = nn.Linear(in_features=28 * 28, out_features=20)
draw_weights(layer1)
hidden1 = layer1(flat_image)
print(hidden1.size())

print(f"Before ReLU: {hidden1[:, :6]}\n\n")
hidden1 = nn.ReLU()(hidden1)
print(f"After ReLU: {hidden1[:, :6]}")

seq_modules = nn.Sequential(flatten, layer1, nn.ReLU(), nn.Linear(20, 10))
draw_weights(seq_modules[3])
input_image = torch.from_numpy(rng.random((3, 28, 28), dtype=np.float32))
logits = seq_modules(input_image)
softmax = nn.Softmax(dim=1)
pred_probab = softmax(logits)
print(pred_probab.sum(1), pred_probab.argmax(1))

# Model parameters
print(f"Model structure: {model}\n\n")

for name, param in model.named_parameters():
    values = param[:2, :4] if param.dim() > 1 else param[:2]
    print(f"Layer: {name} | Size: {param.size()} | Values : {values} \n")
