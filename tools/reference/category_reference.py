#!/usr/bin/python3
"""Independent numpy reference for category-level retrieval: mAP, precision at K, precision-recall curves, the
CCA and semantic-matching baselines, and the small linear algebra they need.

Nothing here is ported from another repository: the metric definitions follow the Wikipedia/ACMR/DSCMR evaluation
code (ACMR_demo models/adv_crossmodal_*_wiki.py, DSCMR evaluate.py fx_calc_map_label: average of the precision at
each relevant item's rank over the relevant items, all ranks), written here from their definition with numpy only
(numpy 1.24, /usr/bin/python3). Both of those codes rank with np.argsort's default (introsort, unstable), so their
order among equal scores is unspecified; ours is fixed: higher score first, equal scores by ascending item index
(np.argsort(-s, kind="stable")).

    /usr/bin/python3 tools/reference/category_reference.py fixtures tests/fixtures/category
    /usr/bin/python3 tools/reference/category_reference.py baselines [DATA_DIR]     # prints the Wikipedia numbers

fixtures writes small .npy files (synthetic inputs and the expected outputs) that the C# tests compare with.
baselines runs CCA and semantic matching on the shipped Wikipedia features (SIFT-BoVW 128 + LDA-10), standard split.
"""
import json
import os
import sys

import numpy as np

# ----------------------------------------------------------------------------------------------------------------
# Metrics


def rank_order(scores):
    """Item indices by descending score; equal scores by ascending index."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def relevance(scores, query_label, item_labels):
    return (np.asarray(item_labels)[rank_order(scores)] == query_label).astype(np.float64)


def average_precision(rel):
    r = rel.sum()
    if r == 0:
        return 0.0
    hits = np.cumsum(rel)
    return float((hits / np.arange(1, len(rel) + 1) * rel).sum() / r)


def precision_at(rel, k):
    k = min(k, len(rel))
    return float(rel[:k].sum() / k)


def interpolated_pr(rel, levels):
    """Interpolated precision at each recall level: the best precision at any rank whose recall reaches it."""
    r = rel.sum()
    hits = np.cumsum(rel)
    precision = hits / np.arange(1, len(rel) + 1)
    recall = hits / r
    return np.array([precision[recall >= lv - 1e-12].max() for lv in levels])


def category_metrics(sims, query_labels, item_labels, ks, levels):
    """Per-query AP, mean P@K over queries, mean interpolated PR (queries with relevant items only)."""
    aps, pk, pr = [], [], []
    for i in range(sims.shape[0]):
        rel = relevance(sims[i], query_labels[i], item_labels)
        aps.append(average_precision(rel))
        pk.append([precision_at(rel, k) for k in ks])
        if rel.sum() > 0:
            pr.append(interpolated_pr(rel, levels))
    return np.array(aps), np.array(pk).mean(0), np.array(pr).mean(0)


def cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def map_both(img, txt, labels):
    s = cosine(img, txt)
    ks, levels = [1], [0.0]
    i2t = category_metrics(s, labels, labels, ks, levels)[0].mean()
    t2i = category_metrics(s.T, labels, labels, ks, levels)[0].mean()
    return i2t, t2i


# ----------------------------------------------------------------------------------------------------------------
# Baselines


def cca_fit(x, y, dim, reg):
    """Regularised CCA: centre with the training means, covariances over n - 1, reg * I added to both auto-
    covariances, whitening by the inverse square roots (eigh), SVD of the whitened cross-covariance."""
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    n = x.shape[0]
    cxx = xc.T @ xc / (n - 1) + reg * np.eye(x.shape[1])
    cyy = yc.T @ yc / (n - 1) + reg * np.eye(y.shape[1])
    cxy = xc.T @ yc / (n - 1)

    def inv_sqrt(c):
        w, v = np.linalg.eigh(c)
        return (v / np.sqrt(w)) @ v.T

    kx, ky = inv_sqrt(cxx), inv_sqrt(cyy)
    u, s, vt = np.linalg.svd(kx @ cxy @ ky)
    return mx, my, kx @ u[:, :dim], ky @ vt.T[:, :dim], s[:dim]


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def logreg_fit(x, y, classes, weight_decay):
    """Multinomial logistic regression on z-scored features: mean cross-entropy + weight_decay / 2 * |W|^2 (bias not
    penalised), minimised by Newton's method with a backtracking line search to a gradient below 1e-10. Returns the
    standardisation and the weights ((d + 1) x classes, bias last)."""
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    z = (x - mu) / sd
    n, d = z.shape
    zb = np.hstack([z, np.ones((n, 1))])
    dd = d + 1
    onehot = np.eye(classes)[y]
    pen = np.full(dd, weight_decay)
    pen[-1] = 0.0
    w = np.zeros((dd, classes))

    def objective(w):
        s = zb @ w
        m = s.max(1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(s - m).sum(1))
        return (lse - (s * onehot).sum(1)).mean() + 0.5 * (pen[:, None] * w * w).sum()

    for _ in range(100):
        p = softmax(zb @ w)
        g = zb.T @ (p - onehot) / n + pen[:, None] * w
        if np.abs(g).max() < 1e-10:
            break
        h = np.zeros((dd * classes, dd * classes))
        for a in range(classes):
            for b in range(classes):
                c = p[:, a] * ((a == b) - p[:, b]) / n
                h[a * dd:(a + 1) * dd, b * dd:(b + 1) * dd] = (zb * c[:, None]).T @ zb
        h += np.diag(np.tile(pen, classes)) + 1e-12 * np.eye(dd * classes)
        gv = g.T.reshape(-1)
        step = np.linalg.solve(h, gv).reshape(classes, dd).T
        f0, t = objective(w), 1.0
        while objective(w - t * step) > f0 - 1e-4 * t * (gv @ step.T.reshape(-1)) and t > 1e-12:
            t *= 0.5
        w = w - t * step
    return mu, sd, w


def logreg_posteriors(model, x):
    mu, sd, w = model
    z = (x - mu) / sd
    return softmax(np.hstack([z, np.ones((len(z), 1))]) @ w)


# ----------------------------------------------------------------------------------------------------------------
# Fixtures


def save(out, name, array):
    np.save(os.path.join(out, name), array)


def fixtures(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(16)
    ks = np.array([1, 3, 5, 10, 50], dtype=np.int64)
    levels = np.linspace(0.0, 1.0, 11)
    # Two metric cases: scores quantised to a few values (many ties, which the stable order decides), and
    # continuous scores; the gallery lacks class 3, so queries of class 3 have AP 0 and no PR curve.
    queries, items = 9, 23
    item_labels = rng.integers(0, 3, items).astype(np.int64)
    query_labels = rng.integers(0, 4, queries).astype(np.int64)
    query_labels[0] = 3
    for name, sims in (("ties", np.round(rng.random((queries, items)) * 4) / 4),
                       ("continuous", rng.standard_normal((queries, items)))):
        sims = sims.astype(np.float32)
        ap, pk, pr = category_metrics(sims, query_labels, item_labels, ks, levels)
        save(out, f"metrics_{name}_sims.npy", sims)
        save(out, f"metrics_{name}_ap.npy", ap)
        save(out, f"metrics_{name}_pk.npy", pk)
        save(out, f"metrics_{name}_pr.npy", pr)
        print(name, "mAP", ap.mean(), "P@K", pk)
    save(out, "metrics_query_labels.npy", query_labels)
    save(out, "metrics_item_labels.npy", item_labels)
    save(out, "metrics_ks.npy", ks)

    # Symmetric eigen-decomposition (with a repeated eigenvalue) and a truncated SVD of a noisy low-rank matrix.
    q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    sym = (q * np.array([5.0, 3.0, 3.0, 1.0, 0.5, -0.25, -2.0])) @ q.T
    save(out, "eigen_matrix.npy", sym)
    save(out, "eigen_values.npy", np.linalg.eigvalsh(sym)[::-1].copy())
    low = rng.standard_normal((40, 5)) @ np.diag([9.0, 6.0, 4.0, 2.5, 1.5]) @ rng.standard_normal((5, 30))
    low += 0.05 * rng.standard_normal((40, 30))
    u, s, vt = np.linalg.svd(low)
    save(out, "svd_matrix.npy", low)
    save(out, "svd_values.npy", s)
    save(out, "svd_u.npy", u[:, :5].copy())
    save(out, "svd_v.npy", vt[:5].T.copy())

    # CCA and logistic regression on small synthetic sets with a shared 3-class structure.
    n, p, qd, classes = 60, 6, 4, 3
    labels = np.arange(n) % classes
    latent = rng.standard_normal((n, 2)) + np.eye(classes)[labels] @ rng.standard_normal((classes, 2)) * 2
    x = latent @ rng.standard_normal((2, p)) + 0.5 * rng.standard_normal((n, p))
    y = latent @ rng.standard_normal((2, qd)) + 0.5 * rng.standard_normal((n, qd))
    x[:, -1] = 0.3  # a constant column: singular covariance without the ridge
    # The C# side reads the float32 files, so the reference fits on exactly those values.
    x = x.astype(np.float32).astype(np.float64)
    y = y.astype(np.float32).astype(np.float64)
    train, test = slice(0, 45), slice(45, n)
    mx, my, wx, wy, corr = cca_fit(x[train], y[train], 3, 1e-3)
    save(out, "cca_x.npy", x.astype(np.float32))
    save(out, "cca_y.npy", y.astype(np.float32))
    save(out, "cca_labels.npy", labels.astype(np.int64))
    save(out, "cca_correlations.npy", corr)
    save(out, "cca_x_test_projected.npy", (x[test] - mx) @ wx)
    save(out, "cca_y_test_projected.npy", (y[test] - my) @ wy)
    model = logreg_fit(x[train], labels[train], classes, 1e-2)
    save(out, "logreg_test_posteriors.npy", logreg_posteriors(model, x[test]))
    print("cca correlations", corr)


# ----------------------------------------------------------------------------------------------------------------
# The Wikipedia baselines


def load_wikipedia(d):
    def f(name):
        return np.load(os.path.join(d, name)).astype(np.float64)

    return (f("train_img_sift_bovw128.npy"), f("train_txt_lda10.npy"), np.loadtxt(os.path.join(d, "train_labels.txt"), dtype=int),
            f("test_img_sift_bovw128.npy"), f("test_txt_lda10.npy"), np.loadtxt(os.path.join(d, "test_labels.txt"), dtype=int))


def baselines(d):
    xtr, ytr, ltr, xte, yte, lte = load_wikipedia(d)
    result = {}
    mx, my, wx, wy, corr = cca_fit(xtr, ytr, 10, 1e-4)
    result["cca"] = map_both((xte - mx) @ wx, (yte - my) @ wy, lte)
    img = logreg_fit(xtr, ltr, 10, 1e-3)
    txt = logreg_fit(ytr, ltr, 10, 1e-3)
    result["sm"] = map_both(logreg_posteriors(img, xte), logreg_posteriors(txt, yte), lte)
    rng = np.random.default_rng(0)
    result["random"] = map_both(rng.standard_normal((len(lte), 5)), rng.standard_normal((len(lte), 5)), lte)
    print(json.dumps({k: {"i2t": round(v[0], 4), "t2i": round(v[1], 4)} for k, v in result.items()}))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/category")
    elif len(sys.argv) >= 2 and sys.argv[1] == "baselines":
        baselines(sys.argv[2] if len(sys.argv) > 2 else "../shared/data/wikipedia")
    else:
        print(__doc__)
        sys.exit(2)
