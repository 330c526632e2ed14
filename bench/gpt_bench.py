#!/usr/bin/python3
"""The PyTorch side of bench/gpt_bench.cpp: training steps of the austen_char model (random token
batches) and KV-cached greedy generation at batch 1 (austen-shaped and GPT-2-small-shaped).

  /usr/bin/python3 bench/gpt_bench.py [--threads 2] [--what all|train|train-bf16|gen]

The model is bench/austen_char.py's GPT (the PyTorch twin of examples/austen_char.toml); the
KV-cache loop below runs its blocks one position at a time, concatenating past keys and values.
Prints the same tab-separated rows as gpt_bench: "TRAIN pytorch median min max tokens/s",
"GEN model pytorch median min max tokens/s" and "RSS task pytorch baseline built peak" (MB)."""
import argparse, math, os, resource, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from austen_char import GPT  # noqa: E402

AUSTEN = dict(V=81, T=128, L=4, H=4, C=256)
GPT2 = dict(V=50257, T=1024, L=12, H=12, C=768)
BATCH, PROMPT, NEW = 32, 16, 128


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stats(v):
    v = sorted(v)
    return v[len(v) // 2], v[0], v[-1]


def train(warmup=1, steps=6, report=True, bf16=False):
    torch.manual_seed(0)
    s = AUSTEN
    model = GPT(s["V"], s["T"], s["L"], s["H"], s["C"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    g = torch.Generator().manual_seed(1234)
    batches = [(torch.randint(0, s["V"], (BATCH, s["T"]), generator=g),
                torch.randint(0, s["V"], (BATCH, s["T"]), generator=g)) for _ in range(4)]
    times = []
    for i in range(warmup + steps):
        x, y = batches[i % 4]
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.view(-1, s["V"]).float(), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    med, lo, hi = stats(times)
    if report:
        print(f"TRAIN\tpytorch{'-bf16' if bf16 else ''}\t{med:.4f}\t{lo:.4f}\t{hi:.4f}\t{BATCH * s['T'] / med:.0f}", flush=True)


def block_step(b, x, past):
    """One block on x: (1, T, C) holding the positions after `past` = (k, v) or None."""
    B, T, C = x.shape
    q, k, v = b.c_attn(b.ln_1(x)).split(C, dim=2)
    q, k, v = (t.view(B, T, b.H, C // b.H).transpose(1, 2) for t in (q, k, v))
    if past is not None:
        k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
    S = k.shape[2]
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // b.H))
    if T > 1:  # query i (position S - T + i) sees keys j <= S - T + i
        att = att.masked_fill(~torch.ones(T, S, dtype=torch.bool).tril(S - T), float("-inf"))
    y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
    x = x + b.attn_proj(y)
    return x + b.mlp_proj(F.gelu(b.c_fc(b.ln_2(x)), approximate="tanh")), (k, v)


@torch.no_grad()
def generate(model, prompt, n_new):
    """Greedy, as models::generate: a full context restarts the cache from the last T/2 tokens."""
    block = model.wpe.weight.shape[0]
    cache, seq, out = [None] * len(model.h), list(prompt), []
    feed = torch.tensor([prompt])
    for _ in range(n_new):
        past = 0 if cache[0] is None else cache[0][0].shape[2]
        if past + feed.shape[1] > block:
            cache, past, feed = [None] * len(model.h), 0, torch.tensor([seq[-(block // 2):]])
        x = model.wte(feed) + model.wpe(torch.arange(past, past + feed.shape[1]))
        for i, b in enumerate(model.h):
            x, cache[i] = block_step(b, x, cache[i])
        nxt = int(model.lm_head(model.ln_f(x[:, -1])).argmax(-1))
        out.append(nxt)
        seq.append(nxt)
        feed = torch.tensor([[nxt]])
    return out


def make(s):
    torch.manual_seed(0)
    return GPT(s["V"], s["T"], s["L"], s["H"], s["C"]).eval()


def gen(name, s, reps, warm_tokens):
    model = make(s)
    prompt = [(i * 7 + 3) % s["V"] for i in range(PROMPT)]
    generate(model, prompt, warm_tokens)  # warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        assert len(generate(model, prompt, NEW)) == NEW
        times.append(time.perf_counter() - t0)
    med, lo, hi = stats(times)
    print(f"GEN\t{name}\tpytorch\t{med:.4f}\t{lo:.4f}\t{hi:.4f}\t{NEW / med:.1f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--what", default="all",
                    choices=["all", "train", "train-bf16", "gen", "rss-train", "rss-gen"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.what.startswith("rss"):  # one task in this fresh process, as gpt_bench rss
        base = peak_mb()
        if a.what == "rss-train":
            built = base  # the model is built inside train()
            train(0, 3, report=False)
        else:
            model = make(GPT2)
            built = peak_mb()
            generate(model, [(i * 7 + 3) % GPT2["V"] for i in range(PROMPT)], 8)
        print(f"RSS\t{a.what[4:]}\tpytorch\t{base:.0f}\t{built:.0f}\t{peak_mb():.0f}", flush=True)
        return
    if a.what in ("all", "train"):
        train()
    if a.what in ("all", "train-bf16"):
        train(bf16=True)
    if a.what in ("all", "gen"):
        gen("austen", AUSTEN, 5, NEW)
        gen("gpt2", GPT2, 1, 8)


if __name__ == "__main__":
    main()
