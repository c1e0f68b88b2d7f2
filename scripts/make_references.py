#!/usr/bin/python3
"""Independent PyTorch references for bertune's numerics tests (test/fixtures/ref-mini/).

A plain-torch BERT written from the math (embeddings, post-LayerNorm self-attention with the
additive padding mask, the configured activation, tanh pooler) — it imports nothing from
transformers and shares no code with the TypeScript model. It runs in float64.

1. It is first checked against ../shared/models/bert-random-tiny/reference.json (outputs of
   Hugging Face's own BertModel): every encoder output to 1e-6, and its one AdamW step of
   BertForSequenceClassification too. The script stops if it does not match.
2. It then writes a small model (vocab 40, hidden 16, 2 layers) whose weights are large enough
   that the activation variants and LayerNorm eps visibly change the outputs, and records:
   - forward outputs for hidden_act gelu, gelu_new, relu, silu, tanh and for layer_norm_eps 1e-7;
   - several full fine-tuning steps on one full batch: linear warmup + decay, clipping that acts
     (gradient norm >> max_grad_norm), torch's own AdamW with the Hugging Face Trainer's two
     parameter groups (no decay on biases and LayerNorm parameters, found by module type), and
     torch.nn.utils.clip_grad_norm_;
   - the same with only the top layer trained (--unfreeze-top 1), and with layer-wise LR decay
     and a head LR multiplier;
   - clip_grad_norm_ on a gradient whose norm is small, where its 1e-6 epsilon shows.

Run: /usr/bin/python3 scripts/make_references.py   (Debian's python3-torch; CPU; a few seconds)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
OUT = os.path.join(ROOT, "test", "fixtures", "ref-mini")


# ---------------------------------------------------------------- safetensors (by hand)

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).astype(np.float64))
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name].detach().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- the model, from the math

ACT = {
    "gelu": lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))),
    "relu": lambda x: torch.clamp(x, min=0.0),
    "silu": lambda x: x / (1.0 + torch.exp(-x)),
    "tanh": torch.tanh,
}


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased, as nn.LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def bert_forward(p, cfg, ids, types, mask):
    """p: BertModel state dict (bare names). Returns (last_hidden_state, pooler_output)."""
    b, s = ids.shape
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = h // nh
    eps = cfg["layer_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    x = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.position_embeddings.weight"][:s][None] + p["embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, p["embeddings.LayerNorm.weight"], p["embeddings.LayerNorm.bias"], eps)
    add = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float64).min
    split = lambda t: t.view(b, s, nh, dh).transpose(1, 2)
    for l in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{l}."
        q = split(linear(x, p, pre + "attention.self.query"))
        k = split(linear(x, p, pre + "attention.self.key"))
        v = split(linear(x, p, pre + "attention.self.value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + add, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, s, h)
        x = layer_norm(linear(ctx, p, pre + "attention.output.dense") + x, p[pre + "attention.output.LayerNorm.weight"], p[pre + "attention.output.LayerNorm.bias"], eps)
        inter = act(linear(x, p, pre + "intermediate.dense"))
        x = layer_norm(linear(inter, p, pre + "output.dense") + x, p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(linear(x[:, 0], p, "pooler.dense"))
    return x, pooled


def classifier_logits(p, cfg, batch):
    """BertForSequenceClassification in eval mode / with dropout 0: Linear on the pooler output."""
    _, pooled = bert_forward(p, cfg, *batch)
    return pooled @ p["classifier.weight"].T + p["classifier.bias"]


def no_decay(name):
    """The Hugging Face Trainer's rule, found by module type as get_parameter_names does: the
    parameters of LayerNorm modules and every bias. (Here LayerNorm modules are the three
    per-block norms and the embeddings norm; identified by the module path, not by a name match.)"""
    module, leaf = name.rsplit(".", 1)
    layer_norm_modules = {"embeddings.LayerNorm"} | {f"encoder.layer.{l}.{m}" for l in range(64) for m in ("attention.output.LayerNorm", "output.LayerNorm")}
    return leaf == "bias" or module.replace("bert.", "", 1) in layer_norm_modules


def depth(name, layers):
    """Depth from the top: classifier and pooler 0, top layer 1, ..., embeddings layers+1."""
    if name.startswith("classifier.") or name.startswith("pooler."):
        return 0
    if name.startswith("embeddings."):
        return layers + 1
    return layers - int(name.split(".")[2])


def linear_schedule(warmup, total):
    """transformers.get_linear_schedule_with_warmup's multiplier."""
    def f(step):
        if step < warmup:
            return step / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))
    return f


def train_steps(p0, cfg, batch, labels, o):
    """Full-batch fine-tuning steps as the Hugging Face Trainer takes them (dropout 0)."""
    layers = cfg["num_hidden_layers"]
    params = {n: t.clone().requires_grad_(True) for n, t in p0.items()}
    trainable = [n for n in params if depth(n, layers) <= o.get("unfreeze_top", layers + 1)]
    groups = {}
    for n in trainable:
        scale = o.get("layerwise_lr_decay", 1.0) ** depth(n, layers) * (o.get("head_lr_multiplier", 1.0) if n.startswith("classifier.") else 1.0)
        wd = 0.0 if no_decay(n) else o["weight_decay"]
        groups.setdefault((wd, scale), []).append(params[n])
    opt = torch.optim.AdamW(
        [{"params": ps, "weight_decay": wd, "lr": o["lr"] * scale} for (wd, scale), ps in groups.items()],
        lr=o["lr"], betas=(0.9, 0.999), eps=o["adam_epsilon"],
    )
    base = [g["lr"] for g in opt.param_groups]
    sched = linear_schedule(o["warmup_steps"], o["steps"])
    log = []
    for step in range(o["steps"]):
        for g, lr in zip(opt.param_groups, base):
            g["lr"] = lr * sched(step)
        opt.zero_grad()
        loss = F.cross_entropy(classifier_logits(params, cfg, batch), labels)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([params[n] for n in trainable], o["max_grad_norm"])
        opt.step()
        log.append({"loss": loss.item(), "grad_norm": norm.item(), "learning_rate": o["lr"] * sched(step)})
    with torch.no_grad():
        logits = classifier_logits(params, cfg, batch)
    return {n: t.detach() for n, t in params.items()}, log, logits


def max_diff(a, b):
    return float((torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max())


# ---------------------------------------------------------------- 1. check against Hugging Face

def check_against_hugging_face():
    d = os.path.join(SHARED, "models", "bert-random-tiny")
    ref = json.load(open(os.path.join(d, "reference.json")))
    cfg = json.load(open(os.path.join(d, "config.json")))
    p = read_safetensors(os.path.join(d, "model.safetensors"))
    e = ref["encoder"]
    ids, types = torch.tensor(e["input_ids"]), torch.tensor(e["token_type_ids"])
    mask = torch.tensor(e["attention_mask"], dtype=torch.float64)
    last, pooled = bert_forward(p, cfg, ids, types, mask)
    m = mask[:, :, None]
    checks = {
        "pooler_output": max_diff(pooled, e["pooler_output"]),
        "cls_hidden": max_diff(last[:, 0], e["cls_hidden"]),
        "mean_pooled": max_diff((last * m).sum(1) / m.sum(1), e["mean_pooled"]),
        "last_hidden_state_first_row": max_diff(last[0, 1], e["last_hidden_state_first_row"]),
        "last_hidden_state_sum_abs (relative)": abs(last.abs().sum().item() - e["last_hidden_state_sum_abs"]) / e["last_hidden_state_sum_abs"],
    }
    # The reference's one BertForSequenceClassification step: loss, norm, AdamW with HF's groups.
    st = ref["classifier_step"]
    full = dict(p)
    full["classifier.weight"] = torch.tensor(st["classifier_init"]["weight"])
    full["classifier.bias"] = torch.tensor(st["classifier_init"]["bias"])
    batch = (ids, types, mask)
    labels = torch.tensor(st["labels"])
    opt = st["optimizer"]
    _, log, after = train_steps(full, cfg, batch, labels, {
        "lr": opt["lr"], "weight_decay": opt["weight_decay"], "adam_epsilon": opt["eps"], "warmup_steps": 0, "steps": 1, "max_grad_norm": st["max_grad_norm"],
    })
    before = classifier_logits(full, cfg, batch)
    checks["classifier_step.logits_before"] = max_diff(before, st["logits_before"])
    checks["classifier_step.loss"] = abs(log[0]["loss"] - st["loss"])
    checks["classifier_step.grad_norm_before_clip"] = abs(log[0]["grad_norm"] - st["grad_norm_before_clip"])
    # (linear schedule with 0 warmup over 1 step: step 0 runs at the full rate, as the reference did.)
    checks["classifier_step.logits_after_one_step"] = max_diff(after, st["logits_after_one_step"])
    for k, v in checks.items():
        print(f"  {k}: {v:.2e}")
        assert v < 1e-6, f"the plain-torch BERT does not match Hugging Face on {k} ({v:.3e} >= 1e-6)"
    return checks


# ---------------------------------------------------------------- 2. the references

def mini_model():
    cfg = {
        "architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 32, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0, "max_position_embeddings": 16, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": None,
        "id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "label2id": {"LABEL_0": 0, "LABEL_1": 1},
    }
    g = torch.Generator().manual_seed(20260101)
    rnd = lambda *shape, std=1.0: torch.randn(*shape, generator=g) * std
    h, i = cfg["hidden_size"], cfg["intermediate_size"]
    # Embeddings tiny (std 3e-4: the embeddings LayerNorm's input variance ~3e-7, so eps 1e-7 shifts it
    # by ~15%); dense weights large (std 0.5: pre-activations of std ~2, where gelu, gelu_new and
    # relu differ by 1e-3..1e-1).
    p = {
        "embeddings.word_embeddings.weight": rnd(cfg["vocab_size"], h, std=3e-4),
        "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], h, std=3e-4),
        "embeddings.token_type_embeddings.weight": rnd(2, h, std=3e-4),
        "embeddings.LayerNorm.weight": 1 + rnd(h, std=0.3),
        "embeddings.LayerNorm.bias": rnd(h, std=0.1),
    }
    for l in range(cfg["num_hidden_layers"]):
        pre = f"encoder.layer.{l}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            p[pre + m + ".weight"] = rnd(h, h, std=0.5)
            p[pre + m + ".bias"] = rnd(h, std=0.1)
        p[pre + "intermediate.dense.weight"] = rnd(i, h, std=0.5)
        p[pre + "intermediate.dense.bias"] = rnd(i, std=0.1)
        p[pre + "output.dense.weight"] = rnd(h, i, std=0.3)
        p[pre + "output.dense.bias"] = rnd(h, std=0.1)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            p[pre + ln + ".weight"] = 1 + rnd(h, std=0.3)
            p[pre + ln + ".bias"] = rnd(h, std=0.1)
    p["pooler.dense.weight"] = rnd(h, h, std=0.3)
    p["pooler.dense.bias"] = rnd(h, std=0.1)
    # Round to float32: the file holds float32 and every reference starts from exactly those values.
    p = {n: t.float().double() for n, t in p.items()}
    head = {"weight": rnd(2, h, std=0.5).float().double(), "bias": torch.zeros(2)}
    # A batch of 6 sequences, lengths 3..9, padded with id 0; ids 1..39; token types 0 then 1.
    lengths = [9, 3, 7, 5, 8, 4]
    ids, types, mask = [], [], []
    for n in lengths:
        row = torch.randint(1, cfg["vocab_size"], (n,), generator=g).tolist()
        ids.append(row + [0] * (max(lengths) - n))
        types.append([0] * ((n + 1) // 2) + [1] * (n - (n + 1) // 2) + [0] * (max(lengths) - n))
        mask.append([1] * n + [0] * (max(lengths) - n))
    labels = [0, 1, 1, 0, 1, 0]
    return cfg, p, head, (torch.tensor(ids), torch.tensor(types), torch.tensor(mask, dtype=torch.float64)), labels


def tolist(t):
    return [round(float(x), 12) for x in t.flatten()] if t.dim() else float(t)


def main():
    print("checking the plain-torch BERT against Hugging Face's reference.json (bert-random-tiny):")
    hf = check_against_hugging_face()
    cfg, p, head, batch, labels = mini_model()
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "model.safetensors"), p)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    ids, types, mask = batch
    ref = {
        "about": "written by scripts/make_references.py (plain torch, float64) from model.safetensors; see that script",
        "checked_against_hugging_face": {k: float(f"{v:.3e}") for k, v in hf.items()},
        "batch": {"input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.long().tolist(), "labels": labels},
        "forward": {},
    }
    variants = {
        "gelu": {}, "gelu_new": {"hidden_act": "gelu_new"}, "relu": {"hidden_act": "relu"}, "silu": {"hidden_act": "silu"},
        "tanh": {"hidden_act": "tanh"}, "gelu_eps_1e-7": {"layer_norm_eps": 1e-7},
    }
    outs = {}
    for name, over in variants.items():
        c = {**cfg, **over}
        last, pooled = bert_forward(p, c, *batch)
        outs[name] = (last, pooled)
        ref["forward"][name] = {"config": over, "last_hidden_state": tolist(last), "pooler_output": tolist(pooled)}
    print("how far the variants are from gelu (max |Δ last_hidden_state| over real tokens):")
    m = mask[:, :, None].bool().expand_as(outs["gelu"][0])
    for name in variants:
        d = float((outs[name][0] - outs["gelu"][0])[m].abs().max())
        ref["forward"][name]["max_abs_diff_from_gelu"] = d
        print(f"  {name}: {d:.3e}")
    # The attention scale 1/sqrt(d_head) and how much it matters here.
    full = {**p, "classifier.weight": head["weight"], "classifier.bias": head["bias"]}
    ref["head_init"] = {"weight": tolist(head["weight"]), "bias": tolist(head["bias"])}
    yl = torch.tensor(labels)
    common = {"lr": 1e-2, "weight_decay": 0.5, "adam_epsilon": 1e-8, "warmup_steps": 2, "steps": 5, "max_grad_norm": 0.25}
    scenarios = {
        "full": {},
        "unfreeze_top_1": {"unfreeze_top": 1},
        "layerwise_decay_and_head_multiplier": {"layerwise_lr_decay": 0.5, "head_lr_multiplier": 4.0},
    }
    keep = [
        "embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
        "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.output.LayerNorm.weight",
        "encoder.layer.0.intermediate.dense.bias", "encoder.layer.1.attention.self.key.weight",
        "encoder.layer.1.output.LayerNorm.weight", "encoder.layer.1.output.dense.bias",
        "pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias",
    ]
    ref["training"] = {}
    for name, over in scenarios.items():
        o = {**common, **over}
        final, log, logits = train_steps(full, cfg, batch, yl, o)
        # What weight decay alone did: the same run with weight_decay 0.
        nodecay, _, _ = train_steps(full, cfg, batch, yl, {**o, "weight_decay": 0.0})
        # What clipping did: the same run without clipping.
        noclip, _, _ = train_steps(full, cfg, batch, yl, {**o, "max_grad_norm": 1e30})
        effect = lambda other: max(float((final[n] - other[n]).abs().max()) for n in final)
        ref["training"][name] = {
            "options": o,
            "log": log,
            "logits_after": tolist(logits),
            "weights_after": {n: tolist(final[n]) for n in keep},
            "weight_decay_effect": effect(nodecay),
            "clipping_effect": effect(noclip),
        }
        print(f"training {name}: grad norms {[round(e['grad_norm'], 3) for e in log]} (max_grad_norm {o['max_grad_norm']}); "
              f"weight decay moves weights by {effect(nodecay):.2e}, clipping by {effect(noclip):.2e}")
    # clip_grad_norm_ where its epsilon shows: global norm 1e-3, max_norm 1e-4.
    g2 = torch.Generator().manual_seed(7)
    grads = [torch.randn(3, 4, generator=g2), torch.randn(5, generator=g2)]
    scale = 1e-3 / math.sqrt(sum(float((t ** 2).sum()) for t in grads))
    grads = [(t * scale).float().double() for t in grads]
    ps = [torch.zeros_like(t, requires_grad=True) for t in grads]
    for q, t in zip(ps, grads):
        q.grad = t.clone()
    norm = torch.nn.utils.clip_grad_norm_(ps, 1e-4)
    ref["clip_small_norm"] = {
        "max_norm": 1e-4,
        "grads": [{"shape": list(t.shape), "values": tolist(t)} for t in grads],
        "norm": norm.item(),
        "clipped": [tolist(q.grad) for q in ps],
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
