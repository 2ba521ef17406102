"""An N-gram language model: nn.Embedding, a hidden layer, log_softmax and NLLLoss."""

import numpy as np
import torch

nn = torch.nn
F = torch.nn.functional

CONTEXT_SIZE = 2
EMBEDDING_DIM = 6
TEXT = """the quick brown fox jumps over the lazy dog while the lazy dog sleeps under the
warm sun and the quick fox runs over the hill to find the brown dog"""
text = TEXT.split()

# ([word_{i-2}, word_{i-1}], target word)
ngrams = [([text[i - j - 1] for j in range(CONTEXT_SIZE)], text[i]) for i in range(2, len(text))]
vocab = sorted(set(text))
word_to_ix = {word: i for i, word in enumerate(vocab)}


class NGramLanguageModeler(nn.Module):
    def __init__(self, vocab_size, embedding_dim, context_size):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(context_size * embedding_dim, 16)
        self.linear2 = nn.Linear(16, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(inputs).view((1, -1))
        out = F.relu(self.linear1(embeds))
        out = self.linear2(out)
        log_probs = F.log_softmax(out, dim=1)
        return log_probs


model = NGramLanguageModeler(len(vocab), EMBEDDING_DIM, CONTEXT_SIZE)
rng = np.random.default_rng(7)
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.tensor(rng.normal(0.0, 0.3, tuple(param.shape)), dtype=torch.float))

losses = []
loss_function = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

for _epoch in range(3):
    total_loss = 0
    for context, target in ngrams:
        # Turn the words into integer indices and wrap them in a tensor
        context_idxs = torch.tensor([word_to_ix[w] for w in context], dtype=torch.long)

        # Torch accumulates gradients: zero them out before each instance
        model.zero_grad()

        log_probs = model(context_idxs)
        loss = loss_function(log_probs, torch.tensor([word_to_ix[target]], dtype=torch.long))

        loss.backward()
        optimizer.step()

        total_loss += loss.item()
    losses.append(total_loss)
print(losses)

# The embedding of a particular word
print(model.embeddings.weight[word_to_ix["fox"]].tolist())
with torch.no_grad():
    guess = model(torch.tensor([word_to_ix["the"], word_to_ix["over"]])).argmax(dim=1).item()
print(vocab[guess])
