#!/usr/bin/python3
"""PyTorch reference for bertune's masked-LM step (test/fixtures/mlm/reference.json).

A plain-torch BertForMaskedLM, float64, written from the math: the encoder of
scripts/make_references.py (itself checked against Hugging Face's BertModel to 1e-6) and the MLM
head as transformers' BertLMPredictionHead — transform.dense → gelu (erf) → LayerNorm(eps), then
the decoder whose weight IS the word-embedding matrix (one tensor, so its gradient is the sum of the
embedding lookup's and the decoder's) plus cls.predictions.bias. No transformers import.

Weights: ../shared/models/bert-tiny-hub-layout/model-repo (BertForPreTraining names: a bert. prefix,
LayerNorm gamma/beta, cls.predictions.*), whose encoder is bert-random-tiny's.

It records, for a fixed masked batch (eval mode, no dropout):
  - the masked-position logits (a few columns), the mean cross-entropy over masked positions (labels
    -100 elsewhere, as CrossEntropyLoss(ignore_index=-100));
  - gradients: cls.predictions.bias (at chosen ids, and its norm), the head's transform, one encoder
    matrix, and the tied word embeddings: total rows, and the decoder's share alone (from an untied
    copy) for ids inside and outside the batch, plus the whole tensor's norm;
  - the global gradient norm, then one AdamW step (torch.optim.AdamW with the Trainer's groups: no
    decay on biases and LayerNorm weights; clip_grad_norm_ 1.0; lr 1e-3, weight decay 0.01), and the
    loss and logits after it.

Run: /usr/bin/python3 scripts/make_mlm_reference.py   (Debian's python3-torch; a few seconds)

   /usr/bin/python3 scripts/make_mlm_reference.py --check DIR IDS [TOP_K]
loads a `bertune pretrain` output by transformers' BertForMaskedLM state-dict names (it refuses any
name BertForMaskedLM would not load, and any it would miss but the tied decoder's) and prints, as
JSON, the top-k ids and probabilities at each [MASK] (id 103) of IDS (comma-separated token ids).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_references import ACT, bert_forward, layer_norm, read_safetensors  # noqa: E402

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
MODEL = os.path.join(SHARED, "models", "bert-tiny-hub-layout", "model-repo")
OUT = os.path.join(ROOT, "test", "fixtures", "mlm")

LR, WD, EPS, MAX_NORM = 1e-3, 0.01, 1e-8, 1.0


def bare(name):
    n = name[5:] if name.startswith("bert.") else name
    return n.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")


def vocab_ids():
    with open(os.path.join(MODEL, "vocab.txt"), encoding="utf8") as f:
        return {t.rstrip("\n"): i for i, t in enumerate(f)}


def mlm_logits(p, cfg, batch, positions, decoder_weight=None):
    """Logits at flat positions (row * seq + col): the head on the gathered hidden states."""
    x, _ = bert_forward(p, cfg, *batch)
    b, s, h = x.shape
    t = x.reshape(b * s, h)[positions]
    t = ACT[cfg["hidden_act"]](t @ p["cls.predictions.transform.dense.weight"].T + p["cls.predictions.transform.dense.bias"])
    t = layer_norm(t, p["cls.predictions.transform.LayerNorm.weight"], p["cls.predictions.transform.LayerNorm.bias"], cfg["layer_norm_eps"])
    w = p["embeddings.word_embeddings.weight"] if decoder_weight is None else decoder_weight
    return t @ w.T + p["cls.predictions.bias"]


def no_decay(name):
    return name.endswith(".bias") or "LayerNorm" in name


def tolist(t):
    return t.detach().reshape(-1).tolist() if t.dim() > 0 else t.item()


def main():
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    raw = read_safetensors(os.path.join(MODEL, "model.safetensors"))
    # BertForMaskedLM's parameters: the encoder (pooler kept; it gets no gradient) and the head (decoder tied).
    p0 = {}
    for k, v in raw.items():
        if k.startswith("cls.seq_relationship") or k == "cls.predictions.decoder.weight":
            continue
        p0[bare(k) if not k.startswith("cls.") else k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")] = v
    assert torch.equal(raw["cls.predictions.decoder.weight"], raw["bert.embeddings.word_embeddings.weight"]), "fixture decoder is tied"

    v = vocab_ids()
    sents = ["the movie was great and the acting was superb .", "a dull , lifeless film ."]
    rows = [[v["[CLS]"]] + [v[w] for w in s.split()] + [v["[SEP]"]] for s in sents]
    seq = max(len(r) for r in rows)
    ids = [r + [0] * (seq - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (seq - len(r)) for r in rows]
    # Masked positions (row, col) and what the input holds there: [MASK] (80%), a random token (10%), kept (10%).
    choice = [((0, 2), "mask"), ((0, 4), "mask"), ((0, 9), "random"), ((1, 1), "keep"), ((1, 4), "mask")]
    labels = [[-100] * seq for _ in rows]
    inputs = [list(r) for r in ids]
    for (r, c), how in choice:
        labels[r][c] = ids[r][c]
        if how == "mask":
            inputs[r][c] = v["[MASK]"]
        elif how == "random":
            inputs[r][c] = v["plot"]
    positions = [r * seq + c for r in range(len(rows)) for c in range(seq) if labels[r][c] != -100]
    targets = [labels[r][c] for r in range(len(rows)) for c in range(seq) if labels[r][c] != -100]
    batch = (torch.tensor(inputs), torch.zeros(len(rows), seq, dtype=torch.long), torch.tensor(mask, dtype=torch.float64))
    pos_t, tgt_t = torch.tensor(positions), torch.tensor(targets)

    # Full-sequence logits and CrossEntropyLoss(ignore_index=-100) give the same loss as masked-only logits.
    params = {n: t.clone().requires_grad_(True) for n, t in p0.items()}
    logits = mlm_logits(params, cfg, batch, pos_t)
    loss = F.cross_entropy(logits, tgt_t)
    lab_full = torch.tensor(labels).reshape(-1)
    every = mlm_logits(params, cfg, batch, torch.arange(len(rows) * seq))
    assert abs(F.cross_entropy(every, lab_full, ignore_index=-100).item() - loss.item()) < 1e-12
    loss.backward()
    grads = {n: t.grad.clone() for n, t in params.items() if t.grad is not None}  # clip_grad_norm_ below scales .grad in place
    assert "pooler.dense.weight" not in grads  # the MLM loss does not reach the pooler

    # The decoder's share of the tied gradient: the same loss with an untied copy of the embeddings as decoder.
    q = {n: t.clone().requires_grad_(True) for n, t in p0.items()}
    dec = p0["embeddings.word_embeddings.weight"].clone().requires_grad_(True)
    F.cross_entropy(mlm_logits(q, cfg, batch, pos_t, decoder_weight=dec), tgt_t).backward()
    lookup = q["embeddings.word_embeddings.weight"].grad
    total = grads["embeddings.word_embeddings.weight"]
    assert torch.allclose(dec.grad + lookup, total, atol=1e-14), "tied gradient = decoder + lookup"

    in_batch = sorted(set(x for r in inputs for x in r))
    outside = [1996 + 7 * k for k in range(6)] + [v["good"], v["bad"], v["boring"], 30521]
    outside = [i for i in outside if i not in in_batch]
    chosen = sorted(set(in_batch + outside + targets))
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values()))

    # One step as the Trainer takes it: clip, AdamW with two groups.
    trainable = [n for n in params if n in grads]
    opt = torch.optim.AdamW(
        [{"params": [params[n] for n in trainable if not no_decay(n)], "weight_decay": WD},
         {"params": [params[n] for n in trainable if no_decay(n)], "weight_decay": 0.0}],
        lr=LR, betas=(0.9, 0.999), eps=EPS,
    )
    clipped_norm = torch.nn.utils.clip_grad_norm_([params[n] for n in trainable], MAX_NORM)
    assert abs(clipped_norm.item() - norm.item()) < 1e-12
    opt.step()
    with torch.no_grad():
        after = mlm_logits(params, cfg, batch, pos_t)
        loss_after = F.cross_entropy(after, tgt_t)
    cols = sorted(set(targets + outside[:4]))
    ref = {
        "model": "bert-tiny-hub-layout/model-repo",
        "batch": {"input_ids": inputs, "original_ids": ids, "attention_mask": mask, "labels": labels, "choice": [[r, c, how] for (r, c), how in choice]},
        "positions": positions,
        "targets": targets,
        "loss": loss.item(),
        "logit_columns": cols,
        "logits": [[logits[i, c].item() for c in cols] for i in range(len(positions))],
        "logits_row_logsumexp": torch.logsumexp(logits, 1).tolist(),
        "grad_norm": norm.item(),
        "grads": {
            "cls.predictions.bias": {"ids": chosen, "values": grads["cls.predictions.bias"][chosen].tolist(), "norm": grads["cls.predictions.bias"].norm().item(), "sum": grads["cls.predictions.bias"].sum().item()},
            "cls.predictions.transform.dense.weight": tolist(grads["cls.predictions.transform.dense.weight"]),
            "cls.predictions.transform.LayerNorm.weight": tolist(grads["cls.predictions.transform.LayerNorm.weight"]),
            "cls.predictions.transform.dense.bias": tolist(grads["cls.predictions.transform.dense.bias"]),
            "encoder.layer.0.attention.self.query.weight": tolist(grads["encoder.layer.0.attention.self.query.weight"]),
            "embeddings.word_embeddings.weight": {
                "ids": chosen,
                "in_batch": in_batch,
                "total_rows": [total[i].tolist() for i in chosen],
                "decoder_rows": [dec.grad[i].tolist() for i in chosen],
                "norm": total.norm().item(),
                "decoder_norm": dec.grad.norm().item(),
            },
        },
        "step": {"lr": LR, "weight_decay": WD, "eps": EPS, "max_grad_norm": MAX_NORM, "loss_after": loss_after.item(), "logits_after": [[after[i, c].item() for c in cols] for i in range(len(positions))]},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"loss {loss.item():.6f}, grad norm {norm.item():.6f} (clipping to {MAX_NORM} acts: {norm.item() > MAX_NORM}), loss after one step {loss_after.item():.6f}")
    print(f"wrote {os.path.join(OUT, 'reference.json')}")


def check_folder(folder, ids, top_k):
    """A pretrain output read by BertForMaskedLM's names: its keys, then fill-mask probabilities."""
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert cfg["architectures"] == ["BertForMaskedLM"], cfg["architectures"]
    raw = read_safetensors(os.path.join(folder, "model.safetensors"))
    h, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    expected = {f"bert.embeddings.{n}" for n in ("word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias")}
    for l in range(L):
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"):
            expected |= {f"bert.encoder.layer.{l}.{m}.weight", f"bert.encoder.layer.{l}.{m}.bias"}
        for m in ("attention.output.LayerNorm", "output.LayerNorm"):
            expected |= {f"bert.encoder.layer.{l}.{m}.weight", f"bert.encoder.layer.{l}.{m}.bias"}
    expected |= {"cls.predictions.bias", "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"}
    # BertForMaskedLM has no pooler: from_pretrained reports bert.pooler.* as unused, which is all that may be extra.
    extra = set(raw) - expected
    missing = expected - set(raw)
    assert not missing, f"missing for BertForMaskedLM: {sorted(missing)}"
    assert extra <= {"bert.pooler.dense.weight", "bert.pooler.dense.bias"}, f"names BertForMaskedLM does not know: {sorted(extra)}"
    p = {bare(k) if k.startswith("bert.") else k: v for k, v in raw.items()}
    seq = torch.tensor([ids])
    positions = torch.tensor([j for j, t in enumerate(ids) if t == 103])
    batch = (seq, torch.zeros_like(seq), torch.ones(1, len(ids)))
    probs = torch.softmax(mlm_logits(p, cfg, batch, positions), -1)
    top = torch.topk(probs, top_k, dim=-1)
    print(json.dumps({"extra": sorted(extra), "top": [[{"token": int(i), "score": float(s)} for s, i in zip(top.values[m], top.indices[m])] for m in range(len(positions))]}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        check_folder(sys.argv[2], [int(x) for x in sys.argv[3].split(",")], int(sys.argv[4]) if len(sys.argv) > 4 else 5)
        sys.exit(0)
    sys.exit(main())
