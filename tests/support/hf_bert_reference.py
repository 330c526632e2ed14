# A small random BertForSequenceClassification in exactly Hugging Face's format, with reference
# outputs (for tests/parity/models_hf_bert_test.cpp). Plain PyTorch (1.13; no transformers, no
# safetensors).
#
#   /usr/bin/python3 hf_bert_reference.py OUT_DIR
#
# writes OUT_DIR/config.json and OUT_DIR/model.safetensors as
# BertForSequenceClassification.save_pretrained would ("bert." names, Linear weights (out, in), the
# persistent embeddings.position_ids buffer), and OUT_DIR/reference.safetensors with
# "input_ids", "attention_mask", "token_type_ids" (B, T) int64, "logits" (B, num_labels),
# "hidden" (B, T, H) (the last hidden state) and "attn0", "attn1" (B, heads, T, T) float32,
# computed in float64 from the float32 weights.
import json
import math
import sys

import torch
from torch import nn

from safetensors_writer import save_safetensors  # beside this script

CONFIG = dict(
    architectures=["BertForSequenceClassification"],
    attention_probs_dropout_prob=0.1,
    classifier_dropout=None,
    gradient_checkpointing=False,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    hidden_size=64,
    id2label={"0": "negative", "1": "neutral", "2": "positive"},
    initializer_range=0.02,
    intermediate_size=128,
    label2id={"negative": 0, "neutral": 1, "positive": 2},
    layer_norm_eps=1e-12,
    max_position_embeddings=32,
    model_type="bert",
    num_attention_heads=4,
    num_hidden_layers=2,
    pad_token_id=0,
    position_embedding_type="absolute",
    problem_type="single_label_classification",
    torch_dtype="float32",
    transformers_version="4.26.1",
    type_vocab_size=2,
    use_cache=True,
    vocab_size=100,
)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"],
                                            padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.register_buffer("position_ids",
                             torch.arange(c["max_position_embeddings"]).expand((1, -1)))

    def forward(self, input_ids, token_type_ids):
        T = input_ids.size(1)
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) +
             self.position_embeddings(self.position_ids[:, :T]))
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, H = c["num_attention_heads"], c["hidden_size"]
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, extended_mask):  # x: (B, T, H); extended_mask: (B, 1, 1, T) additive
        B, T, H = x.shape
        heads = lambda t: t.view(B, T, self.heads, H // self.heads).transpose(1, 2)
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(H // self.heads) + extended_mask
        probs = torch.softmax(scores, dim=-1)
        y = self.dropout(probs) @ v  # (B, heads, T, D)
        return y.transpose(1, 2).reshape(B, T, H), probs


class BertSelfOutput(nn.Module):
    def __init__(self, c, inner):
        super().__init__()
        self.dense = nn.Linear(inner, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c, c["hidden_size"])

    def forward(self, x, mask):
        y, probs = self.self(x, mask)
        return self.output(y, x), probs


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return torch.nn.functional.gelu(self.dense(x))  # "gelu": the exact erf form


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertSelfOutput(c, c["intermediate_size"])  # HF's BertOutput

    def forward(self, x, mask):
        a, probs = self.attention(x, mask)
        return self.output(self.intermediate(a), a), probs


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.embeddings(input_ids, token_type_ids)
        # HF's get_extended_attention_mask: (1 - mask) * finfo.min, added to the scores.
        mask = attention_mask[:, None, None, :].to(x.dtype)
        mask = (1.0 - mask) * torch.finfo(x.dtype).min
        attentions = []
        for layer in self.encoder.layer:
            x, probs = layer(x, mask)
            attentions.append(probs)
        return x, attentions


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden, attentions = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(self.dropout(self.bert.pooler(hidden))), hidden, attentions


def main():
    out = sys.argv[1]
    torch.manual_seed(4321)
    model = BertForSequenceClassification(CONFIG)
    with torch.no_grad():  # random everything, so a swapped or misplaced tensor changes the outputs
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    model.eval()

    # BertForSequenceClassification.state_dict(), as save_pretrained writes it.
    save_safetensors(f"{out}/model.safetensors", model.state_dict(), {"format": "pt"})
    with open(f"{out}/config.json", "w") as f:
        json.dump(CONFIG, f, indent=2)

    # A batch with padding (pad id 0, mask 0) and two segments per sequence.
    B, T = 3, 16
    lengths = [16, 11, 5]
    g = torch.Generator().manual_seed(7)
    input_ids = torch.randint(1, CONFIG["vocab_size"], (B, T), generator=g)
    attention_mask = torch.zeros(B, T, dtype=torch.int64)
    token_type_ids = torch.zeros(B, T, dtype=torch.int64)
    for b, n in enumerate(lengths):
        attention_mask[b, :n] = 1
        input_ids[b, n:] = CONFIG["pad_token_id"]
        token_type_ids[b, n // 2:n] = 1
    with torch.no_grad():
        logits, hidden, attentions = model.double()(input_ids, attention_mask, token_type_ids)
    save_safetensors(f"{out}/reference.safetensors", {
        "input_ids": input_ids, "attention_mask": attention_mask,
        "token_type_ids": token_type_ids, "logits": logits.float(), "hidden": hidden.float(),
        "attn0": attentions[0].float(), "attn1": attentions[1].float()})


if __name__ == "__main__":
    main()
