#!/usr/bin/python3
"""PyTorch references for the losses of transformers' three problem types (test/fixtures/losses/).

BertForSequenceClassification picks its loss by config.problem_type:
  single_label_classification  nn.CrossEntropyLoss(weight=w, label_smoothing=eps)   (mean)
  multi_label_classification   nn.BCEWithLogitsLoss(pos_weight=p)                   (mean over rows x K)
  regression                   nn.MSELoss()  (logits.squeeze() when K = 1: the same mean)

For each case this writes a linear head (weight [K, hidden], bias [K]) and its inputs x
[rows, hidden], all rounded to float32 (what the TypeScript side holds), the targets, and what
torch computes in float64: the logits, the loss and, by autograd, dL/dlogits, dL/dW and dL/db.
It also writes the "balanced" weights (sklearn's compute_class_weight formula, and
negatives/positives per label for pos_weight) computed in numpy.

Before writing, every torch loss is checked against the formula written out here by hand, so
the fixtures also pin down torch's semantics (notably weight + label_smoothing together, where
the smoothing term is weighted by w_c and divided by sum_i w[y_i], not by rows).

Run: /usr/bin/python3 scripts/make_loss_references.py   (Debian's python3-torch; CPU; instant)
Deterministic: fixed seeds, so a rerun rewrites the same files.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "losses")
ROWS, HIDDEN = 5, 6


def f32(t):
    """Round to float32 and back: the values the TypeScript side starts from."""
    return t.float().double()


def tolist(t):
    return [round(float(v), 15) for v in t.flatten()]


def head(g, k, std=1.0):
    x = f32(torch.randn(ROWS, HIDDEN, generator=g))
    w = f32(torch.randn(k, HIDDEN, generator=g) * std)
    b = f32(torch.randn(k, generator=g) * 0.5)
    return x, w, b


# ---------------------------------------------------------------- the formulas, by hand

def ce_by_hand(z, y, w, eps):
    """torch 1.13's cross_entropy_loss_label_smoothing (aten/src/ATen/native/LossNLL.cpp), mean:
    (1 - eps) * sum_i w[y_i] (-logp[i, y_i]) / sum_i w[y_i]
      + eps / K * sum_i sum_c w_c (-logp[i, c]) / sum_i w[y_i]."""
    k = z.shape[1]
    w = torch.ones(k) if w is None else w
    logp = torch.log_softmax(z, 1)
    norm = w[y].sum()
    nll = -(w[y] * logp[torch.arange(len(y)), y]).sum() / norm
    smooth = -(logp * w[None, :]).sum() / norm
    return (1 - eps) * nll + eps / k * smooth


def bce_by_hand(z, t, p):
    """BCEWithLogitsLoss: -[p t log s(z) + (1 - t) log(1 - s(z))], mean over every element."""
    p = torch.ones(z.shape[1]) if p is None else p
    s = torch.sigmoid(z)
    return (-(p * t * torch.log(s) + (1 - t) * torch.log(1 - s))).mean()


def mse_by_hand(z, t):
    return ((z - t) ** 2).mean()


# ---------------------------------------------------------------- the cases

def case(name, problem_type, x, w, b, targets, loss_fn, by_hand, **extra):
    W = w.clone().requires_grad_(True)
    B = b.clone().requires_grad_(True)
    z = x @ W.T + B
    z.retain_grad()
    if problem_type == "regression" and w.shape[0] == 1:
        # transformers: loss_fct(logits.squeeze(), labels.squeeze()) when num_labels == 1
        loss = loss_fn(z.squeeze(), targets.squeeze())
    else:
        loss = loss_fn(z, targets)
    loss.backward()
    hand = by_hand(z.detach(), targets)
    assert abs(float(loss) - float(hand)) < 1e-12, (name, float(loss), float(hand))
    out = {
        "about": f"written by scripts/make_loss_references.py: torch {torch.__version__}, float64, autograd",
        "problem_type": problem_type,
        "rows": ROWS,
        "hidden": HIDDEN,
        "num_labels": w.shape[0],
        **extra,
        "x": tolist(x),
        "weight": tolist(w),
        "bias": tolist(b),
        "targets": tolist(targets) if targets.dtype != torch.int64 else targets.tolist(),
        "logits": tolist(z.detach()),
        "loss": float(loss),
        "dlogits": tolist(z.grad),
        "dweight": tolist(W.grad),
        "dbias": tolist(B.grad),
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"  {name}: loss {float(loss):.6f}")
    return float(loss)


def balanced_single(y, k):
    """sklearn.utils.class_weight.compute_class_weight("balanced"): n / (K * bincount(y))."""
    return len(y) / (k * np.bincount(y, minlength=k).astype(np.float64))


def balanced_multi(t):
    """pos_weight = negatives / positives per label; a label without positives, or without
    negatives, gets 1 (see balancedWeights in src/heads/objective.ts)."""
    pos = t.sum(0)
    neg = t.shape[0] - pos
    return np.where((pos > 0) & (neg > 0), neg / np.maximum(pos, 1), 1.0)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20240610)
    print("single-label classification (CrossEntropyLoss):")
    x, w, b = head(g, 3, std=1.5)
    y = torch.tensor([2, 0, 1, 1, 2])
    cw = f32(torch.tensor([0.3, 2.0, 1.1]))
    losses = {}
    for name, weight, eps in [("single_plain", None, 0.0), ("single_weighted", cw, 0.0), ("single_smoothed", None, 0.1), ("single_weighted_smoothed", cw, 0.2)]:
        extra = {}
        if weight is not None:
            extra["class_weights"] = tolist(weight)
        if eps:
            extra["label_smoothing"] = eps
        losses[name] = case(
            name, "single_label_classification", x, w, b, y,
            nn.CrossEntropyLoss(weight=weight, label_smoothing=eps),
            lambda z, t, weight=weight, eps=eps: ce_by_hand(z, t, weight, eps),
            **extra,
        )
    # The weighted+smoothed semantics, pinned: dividing the smoothing term by rows instead of
    # sum_i w[y_i] would change this case's loss by far more than the tests' tolerance.
    z = (x @ w.T + b)
    logp = torch.log_softmax(z, 1)
    by_rows = 0.8 * (-(cw[y] * logp[torch.arange(ROWS), y]).sum() / cw[y].sum()) + 0.2 / 3 * (-(logp * cw).sum() / ROWS)
    print(f"    (weighted+smoothed with the smoothing term over rows instead of sum w[y]: {float(by_rows):.6f})")

    print("multi-label classification (BCEWithLogitsLoss):")
    x, w, b = head(g, 4, std=1.5)
    t = torch.tensor([[1, 0, 0, 1], [0, 0, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 1]], dtype=torch.float64)
    pw = f32(torch.from_numpy(balanced_multi(t.numpy())))
    case("multi_plain", "multi_label_classification", x, w, b, t, nn.BCEWithLogitsLoss(), lambda z, t: bce_by_hand(z, t, None))
    case("multi_pos_weight", "multi_label_classification", x, w, b, t, nn.BCEWithLogitsLoss(pos_weight=pw), lambda z, t: bce_by_hand(z, t, pw), class_weights=tolist(pw))

    print("regression (MSELoss):")
    x, w, b = head(g, 1)
    t = f32(torch.randn(ROWS, 1, generator=g) * 2)
    case("regression_k1", "regression", x, w, b, t, nn.MSELoss(), mse_by_hand)
    x, w, b = head(g, 3)
    t = f32(torch.randn(ROWS, 3, generator=g) * 2)
    case("regression_k3", "regression", x, w, b, t, nn.MSELoss(), mse_by_hand)

    # Balanced weights, including a class/label that is rare and (for multi-label) one with no positive.
    y = np.array([0, 0, 0, 1, 2, 2, 0, 2])
    mt = np.array([[1, 0, 0, 1], [1, 1, 0, 1], [0, 0, 0, 1], [1, 0, 0, 1], [0, 1, 0, 1]], dtype=np.float64)
    balanced = {
        "about": "written by scripts/make_loss_references.py: sklearn's compute_class_weight('balanced') formula n/(K*count), and negatives/positives per label (1 where a label has no positive or no negative), in numpy",
        "single": {"num_labels": 3, "targets": y.tolist(), "weights": balanced_single(y, 3).tolist()},
        "multi": {"num_labels": 4, "rows": mt.shape[0], "targets": mt.flatten().tolist(), "weights": balanced_multi(mt).tolist()},
    }
    with open(os.path.join(OUT, "balanced.json"), "w") as f:
        json.dump(balanced, f, separators=(",", ":"))
        f.write("\n")
    print(f"  balanced single {balanced['single']['weights']}, multi {balanced['multi']['weights']}")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    sys.exit(main())
