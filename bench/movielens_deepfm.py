#!/usr/bin/python3
"""Plain-PyTorch twin of examples/movielens_deepfm.toml (models::CTRModel, type deepfm / fm / lr)
trained on the exact tensors `ember prepare` writes, so Ember's AUC can be checked against it.

  ember prepare examples/movielens_deepfm.toml --out /tmp/ml
  /usr/bin/python3 bench/movielens_deepfm.py /tmp/ml [--seed 0] [--epochs 10] [--model deepfm]
  /usr/bin/python3 bench/movielens_deepfm.py [/tmp/ml] --bench [--threads 2]   (training step speed)

Model (src/models/ctr.cpp): ids, values = x[:, 0], x[:, 1] of x: (B, 2, S). Each field is pooled
with embedding_bag: single-slot fields as a sum weighted by their values, multi-valued fields by
their pooling (mean or weighted sum) with padding id 0 skipped; single-slot fields come first,
then the multi-valued ones, each in slot order.
  logit = bias + sum_f pool_f(w)                          w: (num_ids, 1), zero-initialised
        + 0.5 * sum_k [(sum_f e_f)^2 - sum_f e_f^2]       e: (B, F, 10), V ~ N(0, 0.01^2)
        + MLP(concat_f e_f)                               Linear(F*10, 400)-ReLU x3, Linear(400, 1)
Training: Adam lr 1e-3, batch 1024, reshuffled every epoch, BCE with logits, up to --epochs
epochs, early stopping on validation AUC (patience 2), test AUC and log-loss at the best epoch.
Prints per-epoch validation AUC and `pytorch deepfm: best epoch E, test AUC A, test log-loss L`.
--bench prints "TRAIN<TAB>pytorch<TAB>threads<TAB>median s/step<TAB>min<TAB>max<TAB>samples/s"
(the same step as bench/deepfm_bench.cpp: random MovieLens-shaped batches unless DIR is given)."""
import argparse, copy, json, math, os, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 1024

# ---- data ----

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
           "U8": torch.uint8, "I8": torch.int8, "F16": torch.float16, "BF16": torch.bfloat16,
           "I16": torch.int16, "BOOL": torch.bool}


def load_safetensors(path):
    """{name: tensor} of a safetensors file: u64 LE header length, JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} runs past the end ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES[meta["dtype"]]
        begin, end = meta["data_offsets"]
        shape = meta["shape"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: {name}: offsets {begin}..{end} outside {len(data)} bytes")
        count = math.prod(shape)
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dt) if end > begin else \
            torch.empty(0, dtype=dt)
        if t.numel() != count:
            raise ValueError(f"{path}: {name}: {end - begin} bytes do not hold shape {shape}")
        out[name] = t.reshape(shape)
    return out


def load_layout(d):
    """(slots, num_ids) from DIR/preprocess.json: slots are dicts with name, first_slot, n_slots,
    id_begin, id_end, pooling."""
    with open(os.path.join(d, "preprocess.json")) as f:
        fields = json.load(f)["fields"]
    keys = ("name", "first_slot", "n_slots", "id_begin", "id_end", "pooling")
    return [{k: s[k] for k in keys} for s in fields["slots"]], fields["num_ids"]


def synthetic_layout():
    """MovieLens-shaped fields: userId (671 users), movieId (9,066), year (5-year buckets) and
    genres (multi, up to 10 of 20 genres), each with its OOV id; id 0 is padding."""
    sizes = [("userId", 1 + 671, 1), ("movieId", 1 + 9066, 1), ("year", 27, 1),
             ("genres", 1 + 20, 10)]
    slots, slot, nid = [], 0, 1
    for name, n_ids, n_slots in sizes:
        slots.append(dict(name=name, first_slot=slot, n_slots=n_slots, id_begin=nid,
                          id_end=nid + n_ids, pooling="mean" if n_slots > 1 else "sum"))
        slot, nid = slot + n_slots, nid + n_ids
    return slots, nid


def synthetic_batch(slots, n, g):
    """x: (n, 2, S), y: (n,) with uniform ids; multi fields get 1-3 values then padding."""
    S = slots[-1]["first_slot"] + slots[-1]["n_slots"]
    x = torch.zeros(n, 2, S)
    for s in slots:
        a, k = s["first_slot"], s["n_slots"]
        ids = torch.randint(s["id_begin"] + 1, s["id_end"], (n, k), generator=g).float()
        if k > 1:
            used = torch.arange(k).unsqueeze(0) < torch.randint(1, 4, (n, 1), generator=g)
            ids = ids * used
        x[:, 0, a:a + k] = ids
        x[:, 1, a:a + k] = (ids != 0).float()
    return x, torch.randint(0, 2, (n,), generator=g).float()


# ---- model ----


class CTRModel(nn.Module):
    def __init__(self, slots, num_ids, model="deepfm", k=10, hidden=(400, 400, 400)):
        super().__init__()
        self.slots, self.model = slots, model
        self.single = [s["first_slot"] for s in slots if s["n_slots"] == 1]
        self.multi = [s for s in slots if s["n_slots"] > 1]
        self.linear = nn.Embedding(num_ids, 1)
        nn.init.zeros_(self.linear.weight)
        self.bias = nn.Parameter(torch.zeros(1))
        if model == "lr":
            return
        self.embedding = nn.Embedding(num_ids, k)
        nn.init.normal_(self.embedding.weight, 0.0, 0.01)
        if model != "deepfm":
            return
        layers, prev = [], len(slots) * k
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        self.dnn = nn.Sequential(*layers, nn.Linear(prev, 1))

    def pool(self, table, ids, values):
        """table: (num_ids, d); ids, values: (B, S) -> (B, F, d), single-slot fields first."""
        B, d = ids.shape[0], table.shape[1]
        parts = []
        if self.single:
            i = ids[:, self.single].reshape(-1, 1)
            v = values[:, self.single].reshape(-1, 1)
            parts.append(F.embedding_bag(i, table, mode="sum", per_sample_weights=v)
                         .view(B, len(self.single), d))
        for s in self.multi:
            a, n = s["first_slot"], s["n_slots"]
            i = ids[:, a:a + n]
            if s["pooling"] == "mean":
                e = F.embedding_bag(i, table, mode="mean", padding_idx=0)
            else:
                e = F.embedding_bag(i, table, mode="sum", per_sample_weights=values[:, a:a + n],
                                    padding_idx=0)
            parts.append(e.unsqueeze(1))
        return torch.cat(parts, 1) if len(parts) > 1 else parts[0]

    def forward(self, x):  # x: (B, 2, S) -> (B, 1)
        ids, values = x[:, 0].long(), x[:, 1].contiguous()
        logit = self.pool(self.linear.weight, ids, values).sum(1) + self.bias
        if self.model == "lr":
            return logit
        e = self.pool(self.embedding.weight, ids, values)  # (B, F, k)
        logit = logit + 0.5 * (e.sum(1).pow(2) - e.pow(2).sum(1)).sum(1, keepdim=True)
        if self.model == "deepfm":
            logit = logit + self.dnn(e.flatten(1))
        return logit


# ---- metrics ----


def roc_auc(scores, labels):
    """Mann-Whitney AUC: (sum of positive ranks - P(P+1)/2) / (P N), tied scores share the
    average of their ranks."""
    scores, labels = scores.double().flatten(), labels.double().flatten()
    order = torch.argsort(scores)
    s = scores[order]
    _, counts = torch.unique_consecutive(s, return_counts=True)
    ends = torch.cumsum(counts, 0).double()  # 1-based rank of each group's last member
    avg = ends - (counts.double() - 1) / 2
    ranks = torch.empty_like(s)
    ranks[order] = torch.repeat_interleave(avg, counts)
    P = labels.sum().item()
    N = labels.numel() - P
    if P == 0 or N == 0:
        return float("nan")
    return ((ranks * labels).sum().item() - P * (P + 1) / 2) / (P * N)


@torch.no_grad()
def predict(model, x, batch=8192):
    model.eval()
    out = torch.cat([model(x[i:i + batch]) for i in range(0, x.shape[0], batch)]).flatten()
    model.train()
    return out


# ---- training ----


def train(args):
    data = load_safetensors(os.path.join(args.dir, "data.safetensors"))
    slots, num_ids = load_layout(args.dir)
    split = {k: (data[k + ".x"].float(), data[k + ".y"].float()) for k in ("train", "val", "test")}
    torch.manual_seed(args.seed)
    model = CTRModel(slots, num_ids, args.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xtr, ytr = split["train"]
    print(f"train {xtr.shape[0]}, val {split['val'][0].shape[0]}, test {split['test'][0].shape[0]}"
          f" rows; {len(slots)} fields, {xtr.shape[2]} slots, {num_ids} ids; "
          f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)
    best, best_epoch, best_state, waited = -1.0, 0, None, 0
    for epoch in range(1, args.epochs + 1):
        t0, total = time.perf_counter(), 0.0
        perm = torch.randperm(xtr.shape[0])
        for i in range(0, xtr.shape[0], BATCH):
            idx = perm[i:i + BATCH]
            loss = F.binary_cross_entropy_with_logits(model(xtr[idx]), ytr[idx].unsqueeze(1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        auc = roc_auc(predict(model, split["val"][0]), split["val"][1])
        print(f"epoch {epoch}: train loss {total / xtr.shape[0]:.4f}, val AUC {auc:.4f} "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
        if auc > best:
            best, best_epoch, best_state, waited = auc, epoch, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= 2:
                break
    model.load_state_dict(best_state)
    xte, yte = split["test"]
    logits = predict(model, xte)
    logloss = F.binary_cross_entropy_with_logits(logits, yte).item()
    name = {"lr": "lr", "fm": "fm", "deepfm": "deepfm"}[args.model]
    print(f"pytorch {name}: best epoch {best_epoch}, test AUC {roc_auc(logits, yte):.4f}, "
          f"test log-loss {logloss:.4f}")


def bench(args):
    """Median seconds per training step over --reps blocks of --steps steps (after a warm-up)."""
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1234)
    if args.dir:
        data = load_safetensors(os.path.join(args.dir, "data.safetensors"))
        slots, num_ids = load_layout(args.dir)
        x, y = data["train.x"].float(), data["train.y"].float()
        perm = torch.randperm(x.shape[0], generator=g)
        batches = [(x[perm[i:i + BATCH]], y[perm[i:i + BATCH]])
                   for i in range(0, 8 * BATCH, BATCH)]
    else:
        slots, num_ids = synthetic_layout()
        batches = [synthetic_batch(slots, BATCH, g) for _ in range(8)]
    torch.manual_seed(0)
    model = CTRModel(slots, num_ids, args.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(x)
        F.binary_cross_entropy_with_logits(logits.float(), y.unsqueeze(1)).backward()
        opt.step()

    for i in range(10):
        step(*batches[i % 8])
    times = []
    for r in range(args.reps):
        t0 = time.perf_counter()
        for i in range(args.steps):
            step(*batches[i % 8])
        times.append((time.perf_counter() - t0) / args.steps)
    times.sort()
    med = times[len(times) // 2]
    print(f"TRAIN\tpytorch{'-bf16' if args.bf16 else ''}\t{args.threads}\t{med:.6f}\t{times[0]:.6f}\t{times[-1]:.6f}\t"
          f"{BATCH / med:.0f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir", nargs="?", help="output directory of `ember prepare`")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--model", choices=("lr", "fm", "deepfm"), default="deepfm")
    p.add_argument("--bench", action="store_true", help="time training steps instead")
    p.add_argument("--threads", type=int, default=1, help="--bench: torch.set_num_threads")
    p.add_argument("--bf16", action="store_true",
                   help="--bench: forward under torch.autocast('cpu', dtype=torch.bfloat16)")
    p.add_argument("--reps", type=int, default=7, help="--bench: timed blocks")
    p.add_argument("--steps", type=int, default=50, help="--bench: steps per block")
    args = p.parse_args()
    if args.bench:
        bench(args)
    elif args.dir:
        train(args)
    else:
        p.error("give the directory written by `ember prepare`, or --bench")


if __name__ == "__main__":
    main()
