"""A sentiment LSTM over packed variable-length batches, then a GRUCell classifier whose weights
load into an nn.GRU (the way the sentiment-analysis and char-RNN tutorials write them)."""

import numpy as np
import torch

nn = torch.nn
F = torch.nn.functional

# --- a tiny sentiment corpus: the label is the sign of (#positive - #negative) words ----------
PAD_IDX = 0
words = ["<pad>", "good", "great", "fun", "bad", "awful", "boring"]
words += ["the", "movie", "was", "plot", "and", "very"]
stoi = {w: i for i, w in enumerate(words)}
POSITIVE, NEGATIVE = [1, 2, 3], [4, 5, 6]
FILLER = list(range(7, len(words)))
LABELS = ["negative", "neutral", "positive"]
MAX_LEN = 6
BATCH_SIZE = 16
# every batch holds the same mix of lengths, shuffled (bucketing keeps the step sizes few)
LENGTH_MIX = [6] * 6 + [4] * 6 + [2] * 4

rng = np.random.default_rng(42)


def make_dataset(num_batches):
    lengths = np.concatenate([rng.permutation(LENGTH_MIX) for _ in range(num_batches)])
    text = np.zeros((len(lengths), MAX_LEN), dtype=np.int64)
    labels = np.zeros(len(lengths), dtype=np.int64)
    for i, n in enumerate(lengths):
        mood = rng.integers(0, 3)
        for t in range(n):
            r = rng.random()
            if r < 0.4:
                text[i, t] = rng.choice(FILLER)
            elif mood == 2 or (mood == 1 and r < 0.7):
                text[i, t] = rng.choice(POSITIVE)
            else:
                text[i, t] = rng.choice(NEGATIVE)
        pos = np.isin(text[i], POSITIVE).sum()
        neg = np.isin(text[i], NEGATIVE).sum()
        labels[i] = np.sign(pos - neg) + 1
    return (
        torch.from_numpy(text),
        torch.from_numpy(lengths.astype(np.int64)),
        torch.from_numpy(labels),
    )


train_text, train_lengths, train_labels = make_dataset(4)
test_text, test_lengths, test_labels = make_dataset(1)
print("train", tuple(train_text.shape), "test", tuple(test_text.shape))
print("label counts", [(train_labels == c).sum().item() for c in range(3)])
print(train_text[:2], train_lengths[:2], train_labels[:2])


def batches(text, lengths, labels):
    for start in range(0, len(text), BATCH_SIZE):
        end = start + BATCH_SIZE
        yield text[start:end], lengths[start:end], labels[start:end]


def init_from_numpy(model, scale):
    with torch.no_grad():
        for _name, param in model.named_parameters():
            values = rng.uniform(-scale, scale, tuple(param.shape)).astype(np.float32)
            param.copy_(torch.from_numpy(values))


def categorical_accuracy(preds, y):
    top_pred = preds.argmax(1, keepdim=True)
    correct = top_pred.eq(y.view_as(top_pred)).sum()
    return correct.float() / y.shape[0]


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --- 1. Embedding -> 2-layer bidirectional LSTM over packed batches -> Linear -------------------
class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim, n_layers, bidirectional):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_IDX)
        self.rnn = nn.LSTM(
            embedding_dim,
            hidden_dim,
            num_layers=n_layers,
            bidirectional=bidirectional,
            batch_first=True,
        )
        self.fc = nn.Linear(hidden_dim * 2, output_dim)

    def forward(self, text, text_lengths):
        embedded = self.embedding(text)
        packed_embedded = nn.utils.rnn.pack_padded_sequence(
            embedded, text_lengths, batch_first=True, enforce_sorted=False
        )
        _packed_output, (hidden, _cell) = self.rnn(packed_embedded)
        # hidden: (num_layers * num_directions, batch, hidden); the last layer's two directions
        hidden = torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)
        return self.fc(hidden)


EMBEDDING_DIM, HIDDEN_DIM = 8, 10
model = LSTMClassifier(len(words), EMBEDDING_DIM, HIDDEN_DIM, 3, n_layers=2, bidirectional=True)
init_from_numpy(model, 0.3)
with torch.no_grad():
    model.embedding.weight.data[PAD_IDX] = torch.zeros(EMBEDDING_DIM)
    for name, param in model.rnn.named_parameters():
        if name.startswith("bias_ih"):  # forget-gate bias 1: gates are ordered i, f, g, o
            n = param.size(0)
            param.data[n // 4 : n // 2] = 1.0
print(model)
print(f"The model has {count_parameters(model):,} trainable parameters")
print([name for name, _ in model.rnn.named_parameters()][:4], model.rnn.weight_hh_l1_reverse.shape)

packed = nn.utils.rnn.pack_padded_sequence(
    model.embedding(train_text[:BATCH_SIZE]),
    train_lengths[:BATCH_SIZE],
    batch_first=True,
    enforce_sorted=False,
)
print("batch_sizes", packed.batch_sizes, "data", tuple(packed.data.shape))
print("sorted lengths", train_lengths[:BATCH_SIZE][packed.sorted_indices].tolist())
out, out_lengths = nn.utils.rnn.pad_packed_sequence(
    model.rnn(packed)[0], batch_first=True, total_length=MAX_LEN
)
print("padded output", tuple(out.shape), out_lengths.tolist(), out[0, int(out_lengths[0]) - 1, :3])

optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
criterion = nn.CrossEntropyLoss()


def train(model, iterator, optimizer, criterion):
    epoch_loss, epoch_acc, n = 0.0, 0.0, 0
    model.train()
    for text, lengths, labels in iterator:
        optimizer.zero_grad()
        predictions = model(text, lengths)
        loss = criterion(predictions, labels)
        acc = categorical_accuracy(predictions, labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        epoch_loss += loss.item()
        epoch_acc += acc.item()
        n += 1
    return epoch_loss / n, epoch_acc / n


def evaluate(model, iterator, criterion):
    epoch_loss, epoch_acc, n = 0.0, 0.0, 0
    model.eval()
    with torch.no_grad():
        for text, lengths, labels in iterator:
            predictions = model(text, lengths)
            epoch_loss += criterion(predictions, labels).item()
            epoch_acc += categorical_accuracy(predictions, labels).item()
            n += 1
    return epoch_loss / n, epoch_acc / n


N_EPOCHS = 5
for epoch in range(N_EPOCHS):
    train_loss, train_acc = train(
        model, batches(train_text, train_lengths, train_labels), optimizer, criterion
    )
    valid_loss, valid_acc = evaluate(
        model, batches(test_text, test_lengths, test_labels), criterion
    )
    print(
        f"Epoch: {epoch + 1:02} | Train Loss: {train_loss:.4f} | "
        f"Train Acc: {train_acc * 100:.2f}% | Val. Loss: {valid_loss:.4f} | "
        f"Val. Acc: {valid_acc * 100:.2f}%"
    )


def predict_sentiment(model, sentence):
    model.eval()
    indexed = [stoi[w] for w in sentence.split()]
    tensor = torch.tensor(indexed, dtype=torch.long).unsqueeze(0)
    length = torch.tensor([len(indexed)])
    probs = F.softmax(model(tensor, length), dim=1)
    return LABELS[probs.argmax(1).item()], probs.squeeze(0).tolist()


print(predict_sentiment(model, "the movie was great fun"))
print(predict_sentiment(model, "very boring and bad plot"))
print(model.fc.weight.grad.abs().sum().item(), model.rnn.bias_hh_l0.grad[:4])


# --- 2. A char-RNN style classifier: GRUCell stepped by hand over the padded batch ---------------
class GRUCellClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size, output_dim):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_IDX)
        self.cell = nn.GRUCell(embedding_dim, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_dim)

    def init_hidden(self, batch_size):
        return torch.zeros(batch_size, self.hidden_size)

    def encode(self, text, lengths):
        embedded = self.embedding(text)
        hidden = self.init_hidden(text.size(0))
        for t in range(text.size(1)):
            new_hidden = self.cell(embedded[:, t], hidden)
            # sequences that have ended keep their last hidden state
            mask = (t < lengths).unsqueeze(1)
            hidden = torch.where(mask, new_hidden, hidden)
        return hidden

    def forward(self, text, lengths):
        return F.log_softmax(self.h2o(self.encode(text, lengths)), dim=1)


gru_model = GRUCellClassifier(len(words), 6, 8, 3)
init_from_numpy(gru_model, 0.4)
print(gru_model)
gru_optimizer = torch.optim.SGD(gru_model.parameters(), lr=0.5, momentum=0.9)
nll = nn.NLLLoss()
for epoch in range(4):
    total = 0.0
    for text, lengths, labels in batches(train_text, train_lengths, train_labels):
        gru_optimizer.zero_grad()
        loss = nll(gru_model(text, lengths), labels)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(gru_model.parameters(), 5.0)
        gru_optimizer.step()
        total += loss.item()
    print(f"gru epoch {epoch} loss {total / 4:.5f} last grad norm {norm.item():.5f}")

with torch.no_grad():
    correct = (gru_model(test_text, test_lengths).argmax(1) == test_labels).sum().item()
print(f"GRUCell test accuracy {correct}/{len(test_labels)}")

# the same weights in an nn.GRU over a packed batch give the same final hidden state
gru = nn.GRU(6, 8, batch_first=True)
with torch.no_grad():
    gru.weight_ih_l0.copy_(gru_model.cell.weight_ih)
    gru.weight_hh_l0.copy_(gru_model.cell.weight_hh)
    gru.bias_ih_l0.copy_(gru_model.cell.bias_ih)
    gru.bias_hh_l0.copy_(gru_model.cell.bias_hh)
text, lengths = test_text[:BATCH_SIZE], test_lengths[:BATCH_SIZE]
packed = nn.utils.rnn.pack_padded_sequence(
    gru_model.embedding(text), lengths, batch_first=True, enforce_sorted=False
)
_, h_n = gru(packed)
h_cell = gru_model.encode(text, lengths)
print(tuple(h_n.shape), torch.allclose(h_n[0], h_cell, atol=1e-6), h_n[0, 0, :4])
h_n[0].sum().backward()
print(gru.weight_hh_l0.grad.shape, gru.weight_hh_l0.grad[0, :4])
