#!/usr/bin/env python3
"""Same-run PyTorch baseline for `npm run bench`: BERT training and inference throughput, and
training a dropout + Linear head on cached features (mode "head").

Uses transformers' BertForSequenceClassification when it is installed, otherwise a plain-torch
BERT with the same architecture (post-LayerNorm, exact GELU, tanh pooler). Reads one JSON job
from argv[1] and prints one JSON result line. Random weights: throughput does not depend on them.
"""
import json
import resource
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, h, heads, inter, p):
        super().__init__()
        self.heads = heads
        self.qkv = nn.ModuleList([nn.Linear(h, h) for _ in range(3)])
        self.out = nn.Linear(h, h)
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.inter = nn.Linear(h, inter)
        self.out2 = nn.Linear(inter, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask_add):
        b, s, h = x.shape
        q, k, v = (m(x).view(b, s, self.heads, -1).transpose(1, 2) for m in self.qkv)
        att = self.drop(F.softmax(q @ k.transpose(-1, -2) / math.sqrt(h // self.heads) + mask_add, dim=-1))
        ctx = (att @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.drop(self.out(ctx)))
        return self.ln2(x + self.drop(self.out2(F.gelu(self.inter(x)))))


class PlainBert(nn.Module):
    def __init__(self, c, labels):
        super().__init__()
        h = c["hidden_size"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.pos = nn.Embedding(c["max_position_embeddings"], h)
        self.tok_type = nn.Embedding(c["type_vocab_size"], h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(
            [Layer(h, c["num_attention_heads"], c["intermediate_size"], 0.1) for _ in range(c["num_hidden_layers"])]
        )
        self.pool = nn.Linear(h, h)
        self.cls = nn.Linear(h, labels)

    def forward(self, input_ids, attention_mask, token_type_ids, labels=None):
        s = input_ids.shape[1]
        x = self.word(input_ids) + self.pos.weight[:s] + self.tok_type(token_type_ids)
        x = self.drop(self.ln(x))
        mask_add = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_add)
        logits = self.cls(self.drop(torch.tanh(self.pool(x[:, 0]))))
        return F.cross_entropy(logits, labels), logits


def build(c, labels):
    try:
        from transformers import BertConfig, BertForSequenceClassification

        model = BertForSequenceClassification(BertConfig(**c, num_labels=labels))
        return model, "transformers"
    except ImportError:
        return PlainBert(c, labels), "plain-torch"


def head_epoch(job):
    """One epoch of dropout + Linear(hidden -> 2) on fixed features: shuffle, forward, cross-entropy,
    backward, clip_grad_norm_, AdamW, as the frozen path does per step. Examples per second."""
    n, h, b = job["rows"], job["hidden"], job["batch"]
    feats = torch.randn(n, h)
    labels = torch.arange(n) % 2
    head = nn.Sequential(nn.Dropout(0.1), nn.Linear(h, 2))
    opt = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.0)
    head.train()

    def epoch():
        order = torch.randperm(n)
        for i in range(0, n, b):
            idx = order[i : i + b]
            loss = F.cross_entropy(head(feats[idx]), labels[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
            opt.step()
            opt.zero_grad()

    epoch()  # warm-up
    t0 = time.perf_counter()
    epoch()
    return n / (time.perf_counter() - t0)


def blas_library():
    """The BLAS shared library this process mapped (Debian's torch calls whatever libblas.so.3 points to)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and line.split()[-1].startswith("/")}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def gemm(job):
    """1024 x 1024 float32 products per second, in GFLOP/s, and whether they are right (float64 check):
    the figure that says whether the baseline runs at its machine's speed."""
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    exact = (a.double() @ b.double()).float()
    ok = torch.allclose(a @ b, exact, rtol=1e-3, atol=1e-3)
    for _ in range(3):
        a @ b
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    gflops = 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9
    return {"gflops": gflops, "correct": bool(ok), "blas": blas_library()}


def main():
    job = json.loads(sys.argv[1])
    torch.set_num_threads(job["threads"])
    torch.manual_seed(0)
    if job["mode"] == "gemm":
        print(json.dumps({"impl": "GEMM 1024", "torch": torch.__version__, "device": "cpu", **gemm(job)}))
        return
    if job["mode"] == "head":
        print(json.dumps({"impl": "nn.Linear head", "torch": torch.__version__, "device": "cpu", "seq_per_s": head_epoch(job)}))
        return
    device = torch.device("cuda" if job.get("cuda") and torch.cuda.is_available() else "cpu")
    model, impl = build(job["config"], 2)
    model.to(device)
    b, s = job["batch"], job["seq"]
    ids = torch.randint(1000, 30000, (b, s), device=device)
    mask = torch.ones(b, s, dtype=torch.long, device=device)
    types = torch.zeros(b, s, dtype=torch.long, device=device)
    labels = torch.randint(0, 2, (b,), device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)

    def step():
        if job["mode"] == "train":
            model.train()
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
            loss = out[0] if isinstance(out, tuple) else out.loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
        else:
            model.eval()
            with torch.no_grad():
                model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(job["steps"]):
        step()
    dt = time.perf_counter() - t0
    # The process's peak resident memory (Linux reports KiB), beside bertune's for the same shape.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"impl": impl, "torch": torch.__version__, "device": device.type, "seq_per_s": b * job["steps"] / dt, "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
