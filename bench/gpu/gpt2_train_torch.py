"""GPT-2 small training steps in PyTorch (the rival of gpt2_train.cpp): eager with
scaled_dot_product_attention and fused AdamW, and torch.compile; tokens/s, loss after the steps,
peak memory. Prints "RESULT<TAB>name<TAB>value<TAB>note" lines. Usage: gpt2_train_torch.py [B] [steps]
"""
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, T, L, H, C = 50304, 1024, 12, 12, 768


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(b, t, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        self.lm_head.weight = self.wte.weight
        for name, p in self.named_parameters():  # GPT-2's initialisation, as models::GPT
            if p.dim() == 1:
                if name.endswith(".bias"):
                    nn.init.zeros_(p)
                continue
            std = 0.02 / math.sqrt(2 * L) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
            nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def run(name, B, steps, compile_model, dtype):
    torch.manual_seed(0)
    model = GPT().cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1, fused=True)
    step_model = torch.compile(model) if compile_model else model
    torch.cuda.reset_peak_memory_stats()
    seconds, loss = 0.0, float("nan")
    for step in range(steps + 1 + (3 if compile_model else 0)):  # warm-up steps are not timed
        idx = torch.randint(0, V, (B, T + 1), device="cuda")
        x, y = idx[:, :T], idx[:, 1:]
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
            loss_t = F.cross_entropy(step_model(x).flatten(0, 1).float(), y.flatten())
        loss_t.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = loss_t.item()
        if step >= (4 if compile_model else 1):
            seconds += time.perf_counter() - t0
    print(f"RESULT\ttorch {name} tokens/s (B={B})\t{B * T * steps / seconds:.0f}\t")
    print(f"RESULT\ttorch {name} loss after {steps} steps\t{loss:.4f}\t")
    print(f"RESULT\ttorch {name} peak memory\t{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB\t")
    sys.stdout.flush()


if __name__ == "__main__":
    B = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    torch.backends.cuda.matmul.allow_tf32 = True
    run("eager tf32", B, steps, False, torch.float32)
    run("eager bf16", B, steps, False, torch.bfloat16)
    run("compile bf16", B, steps, True, torch.bfloat16)
