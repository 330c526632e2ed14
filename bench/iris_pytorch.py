# The PyTorch equivalent of `ember train examples/iris.toml`, for the whole-process time comparison
# (bench/iris_process.sh): read the CSV, stratified 60/20/20 split, standardize on the training
# split, MLP 4-16-3 with ReLU, Adam(lr=0.01), 150 epochs of batch 16 with a validation pass each
# epoch, early stopping (patience 30) on the validation loss, best and last checkpoints, metrics.csv,
# and the test accuracy of the best model.
import csv
import os
import sys

import torch

torch.set_num_threads(2)
torch.manual_seed(0)
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/iris_pytorch_run"
os.makedirs(out, exist_ok=True)

with open(sys.argv[1] if len(sys.argv) > 1 else "data/iris.csv") as f:
    rows = list(csv.reader(f))[1:]
classes = sorted({r[4] for r in rows})
x = torch.tensor([[float(v) for v in r[:4]] for r in rows])
y = torch.tensor([classes.index(r[4]) for r in rows])

g = torch.Generator().manual_seed(0)
train_idx, val_idx, test_idx = [], [], []
for c in range(len(classes)):
    idx = (y == c).nonzero().flatten()
    idx = idx[torch.randperm(len(idx), generator=g)]
    n_train, n_val = int(0.6 * len(idx)), int(0.2 * len(idx))
    train_idx += idx[:n_train].tolist()
    val_idx += idx[n_train:n_train + n_val].tolist()
    test_idx += idx[n_train + n_val:].tolist()
mean, std = x[train_idx].mean(0), x[train_idx].std(0, unbiased=False)
x = (x - mean) / std
xs = {k: x[v] for k, v in (("train", train_idx), ("val", val_idx), ("test", test_idx))}
ys = {k: y[v] for k, v in (("train", train_idx), ("val", val_idx), ("test", test_idx))}

model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()
best, best_state, bad, step = float("inf"), None, 0, 0
log = open(os.path.join(out, "metrics.csv"), "w")
log.write("epoch,step,train_loss,val_loss,val_accuracy\n")
for epoch in range(150):
    model.train()
    perm = torch.randperm(len(train_idx))
    total, count = 0.0, 0
    for i in range(0, len(perm), 16):
        b = perm[i:i + 16]
        loss = loss_fn(model(xs["train"][b]), ys["train"][b])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total, count, step = total + loss.item(), count + 1, step + 1
    model.eval()
    with torch.no_grad():
        logits = model(xs["val"])
        val_loss = loss_fn(logits, ys["val"]).item()
        val_acc = (logits.argmax(1) == ys["val"]).float().mean().item()
    log.write(f"{epoch + 1},{step},{total / count},{val_loss},{val_acc}\n")
    if val_loss < best:
        best, bad = val_loss, 0
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
        torch.save(best_state, os.path.join(out, "best.pt"))
    else:
        bad += 1
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, os.path.join(out, "last.pt"))
    if bad >= 30:
        break
model.load_state_dict(best_state)
with torch.no_grad():
    acc = (model(xs["test"]).argmax(1) == ys["test"]).float().mean().item()
print(f"pytorch iris: {step} steps, test_accuracy {acc:.4f}")
