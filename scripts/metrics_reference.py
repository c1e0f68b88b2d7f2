"""Reference values for test/metrics.problem-types.test.ts, from scikit-learn and scipy.

Run with Debian's Python (apt-get install python3-sklearn python3-scipy):
    /usr/bin/python3 scripts/metrics_reference.py
It prints every number with repr() (17 significant digits); the test pastes them as its
expected values. Checked with scikit-learn 1.2.1, scipy 1.10.1, numpy 1.24.2.
"""
import warnings

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    matthews_corrcoef,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
)

warnings.simplefilter("ignore")  # ConstantInputWarning, UndefinedMetricWarning: the values are what we test
print(f"# sklearn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")


def show(name, value):
    print(f"{name} = {float(value)!r}")


def single(name, yt, yp, k):
    labels = list(range(k))
    kw = dict(labels=labels, zero_division=0)
    show(f"{name}.accuracy", accuracy_score(yt, yp))
    show(f"{name}.mcc", matthews_corrcoef(yt, yp))
    for avg in ("macro", "micro", "weighted"):
        show(f"{name}.{avg}_precision", precision_score(yt, yp, average=avg, **kw))
        show(f"{name}.{avg}_recall", recall_score(yt, yp, average=avg, **kw))
        show(f"{name}.{avg}_f1", f1_score(yt, yp, average=avg, **kw))
    if k == 2:  # sklearn's default average="binary", pos_label=1
        show(f"{name}.binary_precision", precision_score(yt, yp, zero_division=0))
        show(f"{name}.binary_recall", recall_score(yt, yp, zero_division=0))
        show(f"{name}.binary_f1", f1_score(yt, yp, zero_division=0))


# 3-class fixture of test/metrics.test.ts
single("three", [0, 0, 0, 0, 1, 1, 1, 2, 2, 2], [0, 0, 1, 2, 1, 1, 0, 2, 2, 1], 3)
# binary: TP 3, FN 2, FP 1, TN 2
single("binary", [1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 1, 0, 0], 2)
# MCC undefined (constant prediction) -> 0
show("constant_pred.mcc", matthews_corrcoef([0, 0, 1, 1], [0, 0, 0, 0]))

# multi-label: label d never true nor predicted
Yt = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
Yp = np.array([[1, 0, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
show("ml.subset_accuracy", accuracy_score(Yt, Yp))
show("ml.hamming_loss", hamming_loss(Yt, Yp))
for avg in ("micro", "macro", "samples"):
    show(f"ml.{avg}_precision", precision_score(Yt, Yp, average=avg, zero_division=0))
    show(f"ml.{avg}_recall", recall_score(Yt, Yp, average=avg, zero_division=0))
    show(f"ml.{avg}_f1", f1_score(Yt, Yp, average=avg, zero_division=0))
print("ml.per_label_f1 =", [float(x) for x in f1_score(Yt, Yp, average=None, zero_division=0)])


def reg(name, yt, yp):
    yt = np.asarray(yt, dtype=np.float64)
    yp = np.asarray(yp, dtype=np.float64)
    show(f"{name}.mse", mean_squared_error(yt, yp))
    show(f"{name}.rmse", mean_squared_error(yt, yp, squared=False))  # root_mean_squared_error in sklearn >= 1.4
    show(f"{name}.mae", mean_absolute_error(yt, yp))
    show(f"{name}.r2", r2_score(yt, yp))
    if yt.ndim == 1:
        show(f"{name}.pearson", pearsonr(yt, yp)[0])
        show(f"{name}.spearman", spearmanr(yt, yp)[0])
    else:
        ps = [pearsonr(yt[:, j], yp[:, j])[0] for j in range(yt.shape[1])]
        ss = [spearmanr(yt[:, j], yp[:, j])[0] for j in range(yt.shape[1])]
        print(f"{name}.pearson_per_target =", [float(x) for x in ps])
        print(f"{name}.spearman_per_target =", [float(x) for x in ss])
        show(f"{name}.pearson_mean", np.mean(ps))
        show(f"{name}.spearman_mean", np.mean(ss))
        print(f"{name}.mse_per_target =", [float(x) for x in mean_squared_error(yt, yp, multioutput="raw_values")])
        print(f"{name}.rmse_per_target =", [float(x) for x in mean_squared_error(yt, yp, multioutput="raw_values", squared=False)])
        print(f"{name}.r2_per_target =", [float(x) for x in r2_score(yt, yp, multioutput="raw_values")])


reg("ties", [1, 2, 2, 3, 5], [1.5, 2, 1, 4, 4])
reg("negative", [1, 2, 3], [3, 2, 1])
reg("multi", [[1, 2], [2, 4], [3, 6]], [[1, 3], [2, 3], [4, 6]])
reg("const_truth_exact", [2, 2, 2], [2, 2, 2])
reg("const_truth_wrong", [2, 2, 2], [1, 2, 3])
reg("const_pred", [1, 2, 3], [2, 2, 2])
show("one_example.r2", r2_score([1.0], [2.0]))
