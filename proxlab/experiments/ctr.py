r"""Group Adam / Group Adagrad on a synthetic Criteo-like CTR problem
(group-lasso-adaptive-optimizers.txt, "GA", Sec 4 in miniature).

GA trains CTR models (one embedding layer + MLP / OPNN / DCN) on Avazu,
iPinYou and Criteo for one epoch of streaming data (batch 512), puts the
regularizer on the embedding layer only, one group per embedding row (one
feature), and reports the test AUC with the *feature rate* (non-zero
features / features present in the training data):

* Table 2 / Fig. 1: Group Adam at ``lam21`` in ``{1e-4 ... 1e-2}`` vs Adam +
  magnitude pruning (prune rows by norm, fine-tune on the last 0/10/20/30 %
  of the stream, prune again; the best schedule) at the *same* feature rate:
  Group Adam's AUC is higher, markedly so at extreme sparsity;
* Table 3: Adam (rate 1.000) vs Group Adam, Adagrad vs Group Adagrad with
  tuned lambdas: equal or better AUC at feature rates of 0.016-0.13;
* Fig. 3: ``l21`` produces far more sparsity than ``l1`` at equal lambda;
* Table 4: the feature rate falls as the embedding dimension grows (the
  group weight is ``sqrt(dim)``).

The miniature (:mod:`proxlab.experiments.ctr_data`): categorical fields with
Zipf-distributed values and a logistic click model with main effects and
pairwise interactions on a known subset of features; the model is an
embedding (dim 8) + MLP (32-16-1) or + a DCN (two cross layers ``x_{l+1} =
x_0 (x_l^T w_l) + b_l + x_l`` beside the MLP); one pass over the training
stream, batch 512, mean log loss. Because the truth is known it also
measures *recovery*: the AUC of the embedding-row norms at telling the truly
relevant features from the others (``recovery_auc``, 0.5 = chance), the
fraction of relevant / irrelevant features kept, and the feature rate inside
the fields that carry no signal at all.

Panels (the ``panel`` entry of a configuration; one run = one panel, one
model, one seed):

``pruning``
    Adam (with snapshots of the stream at ``1 - r``), Group Adam at each
    ``lam21`` of ``lams``, and Adam + magnitude pruning at each Group Adam
    feature rate for each fine-tuning fraction ``r`` of ``finetune_fracs``
    (the fraction with the best *validation* AUC is marked ``selected``).
``adagrad``
    Adagrad vs Group Adagrad at each ``lam21``.
``l1_vs_l21``
    Group Adam with ``lam1 = v`` vs with ``lam21 = v`` for each ``v`` of ``lams``.
``dim``
    Group Adam at fixed lambdas for each embedding dimension of ``dims``.

The parents are ``torch.optim.Adam(lr)`` and ``torch.optim.Adagrad(lr,
initial_accumulator_value=eps, eps=0)``, which Group Adam / Group Adagrad
equal when every lambda is 0 (``tests/test_torch_optim.py``); the dense
layers are in the same optimizer with lambdas 0.
"""

from __future__ import annotations

import copy

import numpy as np

from . import _common as C
from .ctr_data import make_ctr_data, make_world

NAME = "ctr"
DESCRIPTION = "Group Adam / Group Adagrad vs Adam (+ magnitude pruning) / Adagrad on a synthetic CTR problem (GA Sec 4)"
CLAIMS = ("GA Table 2 / Fig. 1: at equal feature rate Group Adam has a higher AUC than Adam + magnitude pruning; "
          "Table 3: Group Adam / Group Adagrad keep the AUC of Adam / Adagrad at feature rates far below 1; "
          "Fig. 3: l21 gives more sparsity than l1 at equal lambda; Table 4: the feature rate falls as the "
          "embedding dimension grows.")

PANELS = ("pruning", "adagrad", "l1_vs_l21", "dim")
#: Table 3 picks the sparsest Group model whose validation AUC is within this of its parent's
T3_TOLERANCE = 0.002
MODELS = ("mlp", "dcn")


def _int_list(low, what):
    check = C.integer(low)

    def inner(key, value):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"config[{key!r}] must be a non-empty list of {what}, got {value!r}")
        return [check(f"{key}[{i}]", v) for i, v in enumerate(value)]

    return inner


SPEC = {
    "panel": ("pruning", C.choice(*PANELS)),
    "model": ("mlp", C.choice(*MODELS)),
    # the world
    "cardinalities": ([2000, 1000, 500, 300, 200, 100, 50, 20], _int_list(2, "integers >= 2")),
    "zipf": (1.1, C.real(0.0)),
    "n_relevant_fields": (3, C.integer(1)),
    "relevant_fraction": (0.3, C.real(0.0, 1.0, low_open=True)),
    "main_scale": (1.5, C.real(0.0)),
    "interaction_scale": (1.5, C.real(0.0)),
    "ctr": (0.25, C.real(1e-4, 1 - 1e-4)),
    "world_seed": (0, C.integer(0)),
    "n_train": (200_000, C.integer(1)),
    "n_valid": (20_000, C.integer(1)),
    "n_test": (50_000, C.integer(1)),
    # the model and the training
    "dim": (8, C.integer(1)),
    "dims": ([4, 8, 16], _int_list(1, "positive integers")),
    "hidden": ([32, 16], _int_list(1, "positive integers")),
    "batch_size": (512, C.integer(1)),
    "lr": (3e-3, C.real(0.0, low_open=True)),
    "adagrad_lr": (0.1, C.real(0.0, low_open=True)),
    "adagrad_eps": (1e-6, C.real(0.0, low_open=True)),
    "lams": ([3e-3, 1e-2, 3e-2], C.real_list(0.0, low_open=True)),
    "lam1": (0.0, C.real(0.0)),
    "lam21": (1e-2, C.real(0.0)),
    "lam2": (0.0, C.real(0.0)),
    "finetune_fracs": ([0.0, 0.1, 0.2, 0.3], C.real_list(0.0, 0.9)),
}



_QUICK_WORLD = {"cardinalities": [1000, 500, 300, 200, 100, 50], "n_train": 120_000, "n_valid": 10_000,
                "n_test": 30_000}
_FULL_WORLD = {"cardinalities": [5000, 2000, 1000, 500, 300, 200, 100, 100, 50, 50, 20, 10],
               "n_relevant_fields": 5, "n_train": 500_000, "n_valid": 50_000, "n_test": 100_000}


def configs(quick):
    """Quick: the pruning, adagrad and l1-vs-l21 panels on the MLP, one seed.
    Full: every panel, MLP and DCN, three seeds (one world)."""
    if quick:
        base = dict(_QUICK_WORLD, size="quick")
        return [dict(base, panel="pruning", model="mlp", lams=[3e-3, 1e-2, 3e-2], seed=0),
                dict(base, panel="adagrad", model="mlp", lams=[1e-3, 1e-2], seed=0),
                dict(base, panel="l1_vs_l21", model="mlp", lams=[1e-3, 1e-2], seed=0)]
    base = dict(_FULL_WORLD, size="full")
    out = []
    for seed in (0, 1, 2):
        for model in MODELS:
            out.append(dict(base, panel="pruning", model=model, lams=[1e-3, 3e-3, 1e-2, 2e-2, 5e-2], seed=seed))
            out.append(dict(base, panel="adagrad", model=model, lams=[1e-3, 3e-3, 1e-2, 3e-2], seed=seed))
        out.append(dict(base, panel="dim", model="dcn", dims=[4, 8, 16, 32], lam21=1e-2, seed=seed))
    out.append(dict(base, panel="l1_vs_l21", model="dcn", lams=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2], seed=0))
    return out


# ------------------------------------------------------------------ model
def _build_model(n_features, n_fields, dim, hidden, arch):
    import torch
    import torch.nn as nn

    class CTRModel(nn.Module):
        """Embedding + MLP (``arch="mlp"``), or + a DCN cross network beside it (``"dcn"``)."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(n_features, dim)
            nn.init.normal_(self.embedding.weight, std=0.05)
            d0 = n_fields * dim
            layers, width = [], d0
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU()]
                width = h
            self.deep = nn.Sequential(*layers)
            self.arch = arch
            if arch == "dcn":
                self.cross_w = nn.ParameterList([nn.Parameter(torch.randn(d0) * 0.01) for _ in range(2)])
                self.cross_b = nn.ParameterList([nn.Parameter(torch.zeros(d0)) for _ in range(2)])
                width += d0
            self.head = nn.Linear(width, 1)

        def forward(self, x):
            e = self.embedding(x).flatten(1)
            h = self.deep(e)
            if self.arch == "dcn":
                c = e
                for w, b in zip(self.cross_w, self.cross_b):
                    c = e * (c @ w).unsqueeze(1) + b + c  # DCN (Wang et al. 2017) cross layer
                h = torch.cat([c, h], dim=1)
            return self.head(h).squeeze(1)

    return CTRModel()


def _optimizer(method, model, cfg, *, lam1=0.0, lam21=0.0, lam2=0.0):
    import torch

    import proxlab.torch as pt

    emb = [("embedding.weight", model.embedding.weight)]
    rest = [(n, p) for n, p in model.named_parameters() if n != "embedding.weight"]
    groups = [{"params": emb, "groups": "rows", "lam1": lam1, "lam21": lam21, "lam2": lam2}, {"params": rest}]
    if method == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    if method == "adagrad":
        return torch.optim.Adagrad(model.parameters(), lr=cfg["adagrad_lr"],
                                   initial_accumulator_value=cfg["adagrad_eps"], eps=0.0)
    if method == "group_adam":
        return pt.GroupAdam(groups, lr=cfg["lr"])
    if method == "group_adagrad":
        return pt.GroupAdagrad(groups, lr=cfg["adagrad_lr"], eps=cfg["adagrad_eps"])
    raise ValueError(f"unknown method {method!r}")


# ------------------------------------------------------------------ training / evaluation
class _Run:
    """The data of one configuration on its device, and the helpers around them."""

    def __init__(self, cfg, dev):
        import torch

        self.cfg = cfg
        self.dev = dev
        self.world = make_world(cfg["cardinalities"], zipf=cfg["zipf"], n_relevant_fields=cfg["n_relevant_fields"],
                                relevant_fraction=cfg["relevant_fraction"], main_scale=cfg["main_scale"],
                                interaction_scale=cfg["interaction_scale"], ctr=cfg["ctr"], seed=cfg["world_seed"])
        d = make_ctr_data(self.world, cfg["n_train"], cfg["n_valid"], cfg["n_test"], seed=cfg["world_seed"])
        self.data = d
        t = lambda a: torch.as_tensor(a, device=dev)  # noqa: E731
        self.X = {s: t(d[f"X_{s}"]) for s in ("train", "valid", "test")}
        self.y = {s: t(d[f"y_{s}"]) for s in ("train", "valid", "test")}
        self.present = d["counts"] > 0
        self.bayes_auc = _auc(d["y_test"], d["logit_test"])
        self.order = torch.randperm(cfg["n_train"], generator=torch.Generator().manual_seed(cfg["seed"])).to(dev)
        irr = [np.arange(self.world.offsets[f], self.world.offsets[f + 1])
               for f in range(self.world.n_fields) if not self.world.relevant_fields[f]]
        self.irrelevant_field_rows = np.concatenate(irr) if irr else np.zeros(0, dtype=np.int64)

    def model(self, dim=None):
        import torch

        torch.manual_seed(self.cfg["seed"])
        m = _build_model(self.world.n_features, self.world.n_fields, dim or self.cfg["dim"], self.cfg["hidden"],
                         self.cfg["model"])
        return m.to(self.dev)

    def stream(self, model, opt, start, stop, on_batch=None):
        """Train on the samples ``order[start:stop]`` in batches (one pass)."""
        import torch.nn.functional as F

        bs = self.cfg["batch_size"]
        model.train()
        for k, i in enumerate(range(start, stop, bs)):
            idx = self.order[i:min(i + bs, stop)]
            opt.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(model(self.X["train"][idx]), self.y["train"][idx]).backward()
            opt.step()
            if on_batch is not None:
                on_batch(i + len(idx))

    def scores(self, model, split):
        import torch

        model.eval()
        with torch.no_grad():
            out = model(self.X[split]).double().cpu().numpy()
        model.train()
        return out

    def measure(self, model):
        """AUCs, log loss, feature rate and recovery of a trained model."""
        y_val, y_test = self.data["y_valid"], self.data["y_test"]
        s_val, s_test = self.scores(model, "valid"), self.scores(model, "test")
        w = model.embedding.weight.detach()
        norms = w.double().norm(dim=1).cpu().numpy()
        nonzero = (w != 0).any(dim=1).cpu().numpy()
        pres = self.present
        rel = self.world.relevant
        p = 1.0 / (1.0 + np.exp(-s_test))
        eps = 1e-12
        logloss = float(-np.mean(y_test * np.log(p + eps) + (1 - y_test) * np.log(1 - p + eps)))
        irr_f = self.irrelevant_field_rows[pres[self.irrelevant_field_rows]]
        return {
            "auc": _auc(y_test, s_test), "val_auc": _auc(y_val, s_val), "logloss": logloss,
            "feature_rate": float(nonzero[pres].mean()), "kept_features": int(nonzero[pres].sum()),
            "emb_sparsity": float((w == 0).double().mean()),
            "recall_relevant": float(nonzero[pres & rel].mean()) if (pres & rel).any() else float("nan"),
            "kept_irrelevant": float(nonzero[pres & ~rel].mean()) if (pres & ~rel).any() else float("nan"),
            "irrelevant_field_rate": float(nonzero[irr_f].mean()) if irr_f.size else float("nan"),
            "recovery_auc": _auc(rel[pres], norms[pres]),
        }


def _auc(y, s):
    """ROC AUC (ties count one half); nan when one class is absent."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, s))


def _row(run, cfg, method, measured, *, dim=None, lam1=0.0, lam21=0.0, lam2=0.0, finetune_frac=float("nan"),
         selected=True):
    return {"panel": cfg["panel"], "model": cfg["model"], "seed": cfg["seed"], "method": method,
            "dim": int(dim or cfg["dim"]), "lam1": float(lam1), "lam21": float(lam21), "lam2": float(lam2),
            "finetune_frac": float(finetune_frac), "selected": bool(selected), "bayes_auc": run.bayes_auc,
            "n_features_present": int(run.present.sum()), "n_relevant_present": int((run.present &
                                                                                      run.world.relevant).sum()),
            **measured}


def _train(run, method, *, dim=None, lam1=0.0, lam21=0.0, lam2=0.0):
    model = run.model(dim)
    opt = _optimizer(method, model, run.cfg, lam1=lam1, lam21=lam21, lam2=lam2)
    run.stream(model, opt, 0, run.cfg["n_train"])
    return model


def _panel_pruning(run, cfg):
    import torch

    from ..torch.metrics import magnitude_pruning

    n, bs = cfg["n_train"], cfg["batch_size"]
    fracs = sorted(set(cfg["finetune_fracs"]))
    # snapshot positions: the first batch boundary at or after (1 - r) n
    cut = {r: min(n, int(np.ceil((1 - r) * n / bs)) * bs) for r in fracs}
    model = run.model()
    opt = _optimizer("adam", model, cfg)
    snaps = {}

    def on_batch(pos):
        for r, c in cut.items():
            if c == pos and r not in snaps:
                snaps[r] = (copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()))

    for r, c in cut.items():
        if c == 0:
            snaps[r] = (copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()))
    run.stream(model, opt, 0, n, on_batch=on_batch)
    rows = [_row(run, cfg, "adam", run.measure(model))]
    present = torch.as_tensor(run.present)
    for lam in cfg["lams"]:
        g = _train(run, "group_adam", lam21=lam, lam1=cfg["lam1"], lam2=cfg["lam2"])
        mg = run.measure(g)
        rows.append(_row(run, cfg, "group_adam", mg, lam1=cfg["lam1"], lam21=lam, lam2=cfg["lam2"]))
        target = mg["feature_rate"]
        cand = []
        for r in fracs:
            m = run.model()
            m.load_state_dict(snaps[r][0])
            o = _optimizer("adam", m, cfg)
            o.load_state_dict(snaps[r][1])
            finetune = (lambda m=m, o=o, c=cut[r]: run.stream(m, o, c, n)) if cut[r] < n else None
            magnitude_pruning(m.embedding.weight, target, present=present, finetune=finetune)
            cand.append((r, run.measure(m)))
        best = max(range(len(cand)), key=lambda k: (cand[k][1]["val_auc"], -k))
        for k, (r, meas) in enumerate(cand):
            rows.append(_row(run, cfg, "adam_pruned", meas, lam21=lam, finetune_frac=r, selected=k == best))
    return rows


def _panel_adagrad(run, cfg):
    rows = [_row(run, cfg, "adagrad", run.measure(_train(run, "adagrad")))]
    for lam in cfg["lams"]:
        m = _train(run, "group_adagrad", lam21=lam, lam1=cfg["lam1"], lam2=cfg["lam2"])
        rows.append(_row(run, cfg, "group_adagrad", run.measure(m), lam1=cfg["lam1"], lam21=lam, lam2=cfg["lam2"]))
    return rows


def _panel_l1_vs_l21(run, cfg):
    rows = []
    for v in cfg["lams"]:
        rows.append(_row(run, cfg, "group_adam_l1", run.measure(_train(run, "group_adam", lam1=v)), lam1=v))
        rows.append(_row(run, cfg, "group_adam_l21", run.measure(_train(run, "group_adam", lam21=v)), lam21=v))
    return rows


def _panel_dim(run, cfg):
    rows = []
    for dim in cfg["dims"]:
        m = _train(run, "group_adam", dim=dim, lam1=cfg["lam1"], lam21=cfg["lam21"], lam2=cfg["lam2"])
        rows.append(_row(run, cfg, "group_adam", run.measure(m), dim=dim, lam1=cfg["lam1"], lam21=cfg["lam21"],
                         lam2=cfg["lam2"]))
        a = _train(run, "adam", dim=dim)
        rows.append(_row(run, cfg, "adam", run.measure(a), dim=dim))
    return rows


_PANELS = {"pruning": _panel_pruning, "adagrad": _panel_adagrad, "l1_vs_l21": _panel_l1_vs_l21, "dim": _panel_dim}


def task(config):
    """One panel on one model and seed; one row per trained (or pruned) model.

    Columns: ``panel, model, seed, method`` (``adam``, ``group_adam``,
    ``adam_pruned``, ``adagrad``, ``group_adagrad``, ``group_adam_l1``,
    ``group_adam_l21``), ``dim, lam1, lam21, lam2, finetune_frac`` (pruned
    rows), ``selected`` (False for the pruning schedules not chosen by
    validation AUC), ``auc, val_auc, logloss, bayes_auc`` (the true model's
    test AUC), ``feature_rate, kept_features, n_features_present,
    emb_sparsity, recall_relevant, kept_irrelevant, irrelevant_field_rate,
    recovery_auc, n_relevant_present``.
    """
    import pandas as pd

    cfg = C.check_config(config, SPEC)
    if cfg["n_relevant_fields"] > len(cfg["cardinalities"]):
        raise ValueError(f"config['n_relevant_fields'] must be at most the number of fields "
                         f"({len(cfg['cardinalities'])}), got {cfg['n_relevant_fields']}")
    if cfg["lam1"] > 0 and cfg["panel"] == "l1_vs_l21":
        raise ValueError("config['lam1'] must be 0 in the l1_vs_l21 panel (its lams set lam1 and lam21)")
    with C.torch_session(cfg) as dev:
        run = _Run(cfg, dev)
        rows = _PANELS[cfg["panel"]](run, cfg)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ summary
def _mean(df, keys):
    agg = df.groupby(keys, as_index=False, dropna=False).agg(
        auc=("auc", "mean"), auc_std=("auc", "std"), feature_rate=("feature_rate", "mean"),
        val_auc=("val_auc", "mean"), recovery_auc=("recovery_auc", "mean"),
        recall_relevant=("recall_relevant", "mean"), kept_irrelevant=("kept_irrelevant", "mean"),
        irrelevant_field_rate=("irrelevant_field_rate", "mean"), seeds=("seed", "nunique"))
    return agg


def summarize(table):
    """The miniature's Tables 2, 3, 4 and Fig. 3 as one long table (means over seeds).

    ``table`` column: ``T2`` rows pair Group Adam at each ``lam21`` with Adam
    + pruning (best fine-tuning fraction by validation AUC) at Group Adam's
    feature rate; ``T3`` rows give each parent and, for the Group method, the
    sparsest ``lam`` whose validation AUC is within 0.001 of the parent's;
    ``F3`` rows the feature rate at ``lam1 = v`` vs ``lam21 = v``; ``T4`` the
    feature rate per embedding dimension.
    """
    import pandas as pd

    t = table[table["selected"]]
    parts = []
    pr = t[t["panel"] == "pruning"]
    if not pr.empty:
        agg = _mean(pr[pr["method"] == "group_adam"], ["model", "method", "lam21"])
        ga = agg.set_index(["model", "lam21"])
        ap = pr[pr["method"] == "adam_pruned"].groupby(["model", "lam21"]).agg(
            adam_pruned_auc=("auc", "mean"), adam_pruned_rate=("feature_rate", "mean"),
            finetune_frac=("finetune_frac", "mean"), adam_pruned_recovery=("recovery_auc", "mean"))
        j = ga.join(ap).reset_index()
        j = j.assign(table="T2", method="group_adam vs adam_pruned", auc_gain=j["auc"] - j["adam_pruned_auc"])
        parts.append(j)
    for parent, child, panel in (("adam", "group_adam", "pruning"), ("adagrad", "group_adagrad", "adagrad")):
        sub = t[t["panel"] == panel]
        if sub.empty:
            continue
        agg = _mean(sub[sub["method"].isin([parent, child])], ["model", "method", "lam21"])
        for model, g in agg.groupby("model"):
            par = g[g["method"] == parent]
            kids = g[g["method"] == child]
            if par.empty or kids.empty:
                continue
            ok = kids[kids["val_auc"] >= float(par["val_auc"].iloc[0]) - T3_TOLERANCE]
            pick = (ok if not ok.empty else kids.sort_values("lam21").head(1)).sort_values("feature_rate").head(1)
            parts.append(pd.concat([par, pick]).assign(table="T3"))
    l1 = t[t["panel"] == "l1_vs_l21"]
    if not l1.empty:
        agg = _mean(l1, ["model", "method", "lam1", "lam21"])
        agg["lam"] = agg[["lam1", "lam21"]].max(axis=1)
        parts.append(agg.assign(table="F3"))
    dm = t[t["panel"] == "dim"]
    if not dm.empty:
        parts.append(_mean(dm, ["model", "method", "dim", "lam21"]).assign(table="T4"))
    if not parts:
        return pd.DataFrame({"table": []})
    out = pd.concat(parts, ignore_index=True)
    if "lam" not in out:
        out["lam"] = float("nan")
    out["lam"] = out["lam"].fillna(out["lam21"])
    out = out.rename(columns={"adam_pruned_auc": "pruned_auc", "adam_pruned_recovery": "pruned_recovery"})
    cols = ["table", "model", "method", "dim", "lam", "auc", "auc_std", "feature_rate", "pruned_auc",
            "finetune_frac", "auc_gain", "recovery_auc", "pruned_recovery", "irrelevant_field_rate", "seeds"]
    out = out[[c for c in cols if c in out.columns]]
    num = [c for c in out.columns if out[c].dtype.kind == "f" and c != "lam"]
    out[num] = out[num].round(4)
    return out.reset_index(drop=True)


def figure(table):
    """See :func:`proxlab.figures.exp_ctr.figure`."""
    from ..figures.exp_ctr import figure as fig

    return fig(table)
