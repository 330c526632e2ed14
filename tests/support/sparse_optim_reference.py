# Reference trajectories of torch.optim.SparseAdam and torch.optim.Adagrad on an
# nn.EmbeddingBag(sparse=True), for tests/unit/optim_sparse_test.cpp. Plain PyTorch 1.13.
#
#   /usr/bin/python3 sparse_optim_reference.py OUT_DIR
#
# writes OUT_DIR/reference.safetensors: "w0" (V, D) float32 initial weight; per step s,
# "idx.s" / "off.s" (int64 bags, different each step, repeats inside a bag, rows >= USED never
# used) and "c.s" (B, D) float32 (loss = sum(embedding_bag * c)); then for each optimizer
# "<opt>.w.s" the weight after step s and its final state ("sparse_adam.exp_avg",
# "sparse_adam.exp_avg_sq", "adagrad.sum").
import sys

import torch
from torch import nn

from safetensors_writer import save_safetensors  # beside this script

V, D, USED, STEPS = 30, 5, 20, 6
MODES = {"sparse_adam": "sum", "adagrad": "mean"}


def main(out_dir):
    g = torch.Generator().manual_seed(1234)
    t = {"w0": torch.randn(V, D, generator=g)}
    for s in range(STEPS):
        n = int(torch.randint(6, 14, (1,), generator=g))
        t[f"idx.{s}"] = torch.randint(0, USED, (n,), generator=g)
        cuts = torch.randint(0, n + 1, (3,), generator=g).sort().values
        t[f"off.{s}"] = torch.cat([torch.zeros(1, dtype=torch.long), cuts])
        t[f"c.{s}"] = torch.randn(4, D, generator=g)
    for name, mode in MODES.items():
        bag = nn.EmbeddingBag(V, D, mode=mode, sparse=True)
        with torch.no_grad():
            bag.weight.copy_(t["w0"])
        if name.startswith("sparse_adam"):
            opt = torch.optim.SparseAdam(bag.parameters(), lr=0.05, betas=(0.8, 0.95), eps=1e-6)
        else:
            opt = torch.optim.Adagrad(bag.parameters(), lr=0.3, lr_decay=0.05,
                                      initial_accumulator_value=0.1, eps=1e-10)
        for s in range(STEPS):
            opt.zero_grad()
            (bag(t[f"idx.{s}"], t[f"off.{s}"]) * t[f"c.{s}"]).sum().backward()
            opt.step()
            t[f"{name}.w.{s}"] = bag.weight.detach().clone()
        st = opt.state[bag.weight]
        if name.startswith("sparse_adam"):
            t[f"{name}.exp_avg"] = st["exp_avg"].clone()
            t[f"{name}.exp_avg_sq"] = st["exp_avg_sq"].clone()
        else:
            t[f"{name}.sum"] = st["sum"].clone()
    save_safetensors(f"{out_dir}/reference.safetensors", t)


if __name__ == "__main__":
    main(sys.argv[1])
