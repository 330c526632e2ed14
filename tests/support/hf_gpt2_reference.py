# A small random GPT-2 in exactly Hugging Face's format, with reference logits (for
# tests/parity/models_hf_gpt2_test.cpp). Plain PyTorch (1.13; no transformers, no safetensors).
#
#   /usr/bin/python3 hf_gpt2_reference.py OUT_DIR
#
# writes OUT_DIR/config.json and OUT_DIR/model.safetensors as GPT2LMHeadModel.save_pretrained
# would (Conv1D weights (in, out), "transformer." names, the attn.bias / attn.masked_bias buffers,
# no lm_head.weight: tied), and OUT_DIR/reference.safetensors with "idx" (B, T) int64 and "logits"
# (B, T, V) float32, computed in float64 from the float32 weights.
import json
import math
import sys

import torch
from torch import nn

from safetensors_writer import save_safetensors  # beside this script

CONFIG = dict(
    activation_function="gelu_new",
    architectures=["GPT2LMHeadModel"],
    attn_pdrop=0.1,
    bos_token_id=99,
    embd_pdrop=0.1,
    eos_token_id=99,
    initializer_range=0.02,
    layer_norm_epsilon=1e-05,
    model_type="gpt2",
    n_ctx=32,
    n_embd=64,
    n_head=4,
    n_inner=None,
    n_layer=2,
    n_positions=32,
    reorder_and_upcast_attn=False,
    resid_pdrop=0.1,
    scale_attn_by_inverse_layer_idx=False,
    scale_attn_weights=True,
    summary_activation=None,
    summary_first_dropout=0.1,
    summary_proj_to_labels=True,
    summary_type="cls_index",
    summary_use_proj=True,
    torch_dtype="float32",
    transformers_version="4.26.1",
    use_cache=True,
    vocab_size=100,
)


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer with its weight stored (in, out)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).view(
            *x.shape[:-1], -1)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        n = c["n_positions"]
        self.register_buffer(
            "bias", torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n))
        self.register_buffer("masked_bias", torch.tensor(-1e4))
        self.n_head, self.n_embd = c["n_head"], c["n_embd"]
        self.c_attn = Conv1D(3 * self.n_embd, self.n_embd)
        self.c_proj = Conv1D(self.n_embd, self.n_embd)

    def forward(self, x):  # x: (B, T, C)
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        w = q @ k.transpose(-1, -2) / math.sqrt(v.size(-1))
        mask = self.bias[:, :, :T, :T]
        w = torch.where(mask, w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        y = torch.softmax(w, dim=-1) @ v  # (B, H, T, D)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class GPT2MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(4 * c["n_embd"], c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], 4 * c["n_embd"])

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.mlp = GPT2MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, idx):
        pos = torch.arange(idx.size(1))
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = GPT2Model(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, idx):
        return self.lm_head(self.transformer(idx))


def main():
    out = sys.argv[1]
    torch.manual_seed(1234)
    model = GPT2LMHeadModel(CONFIG)
    with torch.no_grad():  # random everything, so a transposed or swapped tensor changes the logits
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or "ln_f.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    model.eval()

    # GPT2LMHeadModel.state_dict() minus the tied lm_head.weight, as save_pretrained writes it.
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_safetensors(f"{out}/model.safetensors", state, {"format": "pt"})
    with open(f"{out}/config.json", "w") as f:
        json.dump(CONFIG, f, indent=2)

    g = torch.Generator().manual_seed(99)
    idx = torch.randint(0, CONFIG["vocab_size"], (3, CONFIG["n_positions"]), generator=g)
    with torch.no_grad():
        logits = model.double()(idx).float()
    save_safetensors(f"{out}/reference.safetensors", {"idx": idx, "logits": logits})


if __name__ == "__main__":
    main()
