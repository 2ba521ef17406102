"""A transformer-encoder sequence classifier: token and learned positional embeddings, a causal
nn.TransformerEncoder over padded batches, masked mean pooling, AdamW with label smoothing."""

import math

import numpy as np
import torch

nn = torch.nn
F = torch.nn.functional

# --- data: is a sequence of tokens ascending, descending, or shuffled? -------------------------
PAD = 0
VOCAB_SIZE = 12  # tokens 1..11, 0 pads
MAX_LEN = 8
NUM_CLASSES = 3
CLASSES = ["ascending", "descending", "shuffled"]
BATCH_SIZE = 8
LENGTH_MIX = [8, 8, 7, 6, 5, 5, 4, 3]

rng = np.random.default_rng(7)


def make_dataset(num_batches):
    lengths = np.concatenate([rng.permutation(LENGTH_MIX) for _ in range(num_batches)])
    src = np.full((len(lengths), MAX_LEN), PAD, dtype=np.int64)
    labels = rng.integers(0, NUM_CLASSES, len(lengths))
    for i, (n, label) in enumerate(zip(lengths, labels, strict=True)):
        tokens = np.sort(rng.choice(np.arange(1, VOCAB_SIZE), n, replace=False))
        if label == 1:
            tokens = tokens[::-1]
        elif label == 2:
            while np.all(np.diff(tokens) > 0) or np.all(np.diff(tokens) < 0):
                tokens = rng.permutation(tokens)
        src[i, :n] = tokens
    return torch.from_numpy(src), torch.from_numpy(labels)


train_src, train_y = make_dataset(6)
test_src, test_y = make_dataset(2)
print(train_src[:3], train_y[:3])
print("pad fraction", (train_src == PAD).float().mean().item())


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, d_model, nhead, num_layers, dim_feedforward, num_classes):
        super().__init__()
        self.d_model = d_model
        self.tok_emb = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.pos_emb = nn.Parameter(torch.zeros(1, MAX_LEN, d_model))
        encoder_layer = nn.TransformerEncoderLayer(
            d_model=d_model,
            nhead=nhead,
            dim_feedforward=dim_feedforward,
            dropout=0.0,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers=num_layers)
        self.norm = nn.GroupNorm(4, d_model)
        self.head = nn.Linear(d_model, num_classes)
        causal = torch.triu(torch.ones(MAX_LEN, MAX_LEN, dtype=torch.bool), diagonal=1)
        self.register_buffer("causal_mask", causal, persistent=False)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def encode(self, src, causal=True):
        padding_mask = src == PAD  # True where a key is padding
        seq_len = src.size(1)
        x = self.tok_emb(src) * math.sqrt(self.d_model) + self.pos_emb[:, :seq_len]
        mask = self.causal_mask[:seq_len, :seq_len] if causal else None
        x = self.encoder(x, mask=mask, src_key_padding_mask=padding_mask)
        keep = (~padding_mask).unsqueeze(-1).float()
        return (x * keep).sum(dim=1) / keep.sum(dim=1)  # mean over the real tokens

    def forward(self, src):
        return self.head(self.norm(self.encode(src)))


model = TransformerClassifier(VOCAB_SIZE, 16, 2, 2, 32, NUM_CLASSES)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))
sd = model.state_dict()
print(len(sd), "keys:", list(sd.keys())[:4])
print([k for k in sd if k.startswith("encoder.layers.1.")])
print("causal_mask" in sd, model.causal_mask[:3, :3])
print(model.head.bias, model.encoder.layers[0].norm2.weight[:4])

# both libraries start from the same numbers: every weight (not the norms) from NumPy
new_sd = {}
for k, v in sd.items():
    if "norm" in k:
        new_sd[k] = v
    else:
        new_sd[k] = torch.from_numpy(rng.normal(0.0, 0.3, tuple(v.shape)).astype(np.float32))
print(model.load_state_dict(new_sd))

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
smoothing = 0.1


def batches(src, y):
    for start in range(0, len(src), BATCH_SIZE):
        yield src[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]


for epoch in range(8):
    model.train()
    total_loss, correct = 0.0, 0
    for src, y in batches(train_src, train_y):
        logits = model(src)
        soft_targets = F.one_hot(y, NUM_CLASSES).float() * (1 - smoothing) + smoothing / 3
        loss = F.cross_entropy(logits, soft_targets)
        optimizer.zero_grad()
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(dim=-1) == y).sum().item()
    model.eval()
    with torch.no_grad():
        test_logits = torch.cat([model(src) for src, _ in batches(test_src, test_y)])
        test_loss = F.cross_entropy(test_logits, test_y, label_smoothing=smoothing)
        test_acc = (test_logits.argmax(dim=-1) == test_y).float().mean()
    print(
        f"epoch {epoch} | loss {total_loss / len(train_y):.4f} | train acc "
        f"{correct / len(train_y):.3f} | test loss {test_loss.item():.4f} | test acc "
        f"{test_acc.item():.3f} | grad norm {grad_norm.item():.4f}"
    )

same = torch.allclose(
    F.cross_entropy(logits, soft_targets),
    nn.CrossEntropyLoss(label_smoothing=smoothing)(logits, y),
)
print("one_hot targets == label_smoothing:", same)
print(model.pos_emb.grad[0, :2, :4])

model.eval()
with torch.no_grad():
    probs = F.softmax(model(test_src[:BATCH_SIZE]), dim=-1)
for seq, p in zip(test_src[:4].tolist(), probs[:4], strict=True):
    tokens = [t for t in seq if t != PAD]
    print(tokens, "->", CLASSES[p.argmax().item()], [round(v, 4) for v in p.tolist()])

# attention weights of the first layer for one sentence (averaged over the heads)
with torch.no_grad():
    src = test_src[:BATCH_SIZE]
    x = model.tok_emb(src) * math.sqrt(model.d_model) + model.pos_emb
    _, weights = model.encoder.layers[0].self_attn(
        x, x, x, key_padding_mask=src == PAD, attn_mask=model.causal_mask
    )
print(tuple(weights.shape), weights[1, 2], weights.sum(-1)[1])

# the same attention through F.scaled_dot_product_attention, heads split by hand
attn = model.encoder.layers[0].self_attn
with torch.no_grad():
    q, k, v = F.linear(x, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.view(BATCH_SIZE, MAX_LEN, 2, 8).transpose(1, 2) for t in (q, k, v))
    allowed = ~model.causal_mask & (src != PAD)[:, None, None, :]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    out = attn.out_proj(out.transpose(1, 2).reshape(BATCH_SIZE, MAX_LEN, 16))
    ref = attn(x, x, x, key_padding_mask=src == PAD, attn_mask=model.causal_mask)[0]
print("sdpa matches MultiheadAttention:", torch.allclose(out, ref, atol=1e-5))

# sentence embeddings without the causal mask: cosine similarities of the pooled vectors
with torch.no_grad():
    emb = F.normalize(model.encode(test_src[:BATCH_SIZE], causal=False), dim=-1)
print(emb.norm(dim=-1))
print((emb @ emb.T)[:4, :4])
print(F.cosine_similarity(emb[:1], emb[1:], dim=-1))
