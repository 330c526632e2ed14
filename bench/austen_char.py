#!/usr/bin/python3
"""The PyTorch twin of examples/austen_char.toml: the same data, split, windows, model, init,
optimizer, schedule and evaluation, so its validation loss can be compared with Ember's.

  /usr/bin/python3 bench/austen_char.py [--steps 600] [--threads 2] [--data data/austen]

Prints one JSON line: val_loss, train seconds per step, tokens per second and peak RSS.
Ember's choices mirrored here: the corpus is the directory's .txt files in name order; the
vocabulary is the sorted distinct characters; the first 90% of the characters train, the rest
validate; both are cut into non-overlapping windows of block_size (+1 for the targets); training
batches are drawn without replacement from a per-epoch shuffle; AdamW decays every parameter;
the schedule is a linear warm-up from 0 then a cosine to min_lr; the validation loss is the mean
over every validation token."""
import argparse, glob, json, math, os, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(s, C, H, bias):
        super().__init__()
        s.H = H
        s.ln_1 = nn.LayerNorm(C, elementwise_affine=True)
        s.c_attn = nn.Linear(C, 3 * C, bias=bias)
        s.attn_proj = nn.Linear(C, C, bias=bias)
        s.ln_2 = nn.LayerNorm(C)
        s.c_fc = nn.Linear(C, 4 * C, bias=bias)
        s.mlp_proj = nn.Linear(4 * C, C, bias=bias)
        s.register_buffer("mask", None, persistent=False)

    def forward(s, x):
        B, T, C = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, s.H, C // s.H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // s.H))
        if s.mask is None or s.mask.shape[-1] != T:
            s.mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~s.mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + s.attn_proj(y)
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, V, T, L, H, C, bias=True):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        s.h = nn.ModuleList(Block(C, H, bias) for _ in range(L))
        s.ln_f = nn.LayerNorm(C)
        s.lm_head = nn.Linear(C, V, bias=False)
        s.lm_head.weight = s.wte.weight  # tied
        for name, p in s.named_parameters():  # GPT-2 init, as models::GPT
            if p.dim() == 1:
                if name.endswith(".bias"):
                    nn.init.zeros_(p)
            else:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h:
            x = b(x)
        return s.lm_head(s.ln_f(x))


def windows(ids, T):
    n = (len(ids) - 1) // T
    t = torch.tensor(ids[: n * T + 1], dtype=torch.long)
    return t[: n * T].view(n, T), t[1 : n * T + 1].view(n, T)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data", "austen"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", type=int, default=1, help="0: skip the validation loss (timing only)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    text = "".join(open(f, encoding="utf-8").read() for f in sorted(glob.glob(os.path.join(a.data, "*.txt"))))
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = [stoi[c] for c in text]
    n_val = round(len(ids) * 0.1)
    T, B = 128, 32
    xtr, ytr = windows(ids[: len(ids) - n_val], T)
    xva, yva = windows(ids[len(ids) - n_val :], T)
    model = GPT(len(chars), T, 4, 4, 256)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    warm, total, min_lr, lr = 60, a.steps, 1e-4, 1e-3

    def lr_at(t):
        if t < warm:
            return lr * t / warm
        p = (t - warm) / (total - warm)
        return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * p)) / 2

    order, pos, times = torch.randperm(len(xtr)), 0, []
    for step in range(a.steps):
        if pos >= len(order):
            order, pos = torch.randperm(len(xtr)), 0
        idx = order[pos : pos + B]
        pos += B
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = F.cross_entropy(model(xtr[idx]).view(-1, len(chars)), ytr[idx].view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    val = float("nan")
    if a.eval:
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, len(xva), 16):
                out = model(xva[i : i + 16])
                total_loss += F.cross_entropy(out.view(-1, len(chars)), yva[i : i + 16].reshape(-1), reduction="sum").item()
        val = total_loss / yva.numel()
    sec = sorted(times[5:])[len(times[5:]) // 2] if len(times) > 10 else sum(times) / len(times)
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "threads": a.threads,
                      "steps": a.steps, "val_loss": val, "median_step_s": sec,
                      "tokens_per_s": B * T / sec,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
