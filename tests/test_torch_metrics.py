"""Structure metrics and the magnitude-pruning baseline (proxlab.torch.metrics), on hand-computed values."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import proxlab.torch as pt  # noqa: E402
from proxlab.groups import Groups  # noqa: E402
from proxlab.torch import metrics as M  # noqa: E402

A = torch.tensor([[1.0, 0.0, 0.0], [2.0, 0.0, 3.0]])  # columns: (1,2) (0,0) (0,3); rows: (1,0,0) (2,0,3)
B = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]])  # rows of 4: one zero


def test_sparsity_counts_exact_zeros_and_tol():
    assert M.sparsity(A) == 3 / 6
    assert M.sparsity([A, B]) == (3 + 7) / (6 + 8)
    assert M.sparsity(torch.tensor([1e-9, -1e-9, 0.5]), tol=1e-8) == 2 / 3
    assert math.isnan(M.sparsity([]))


def test_group_sparsity_and_weighted_group_sparsity_by_hand():
    src = [(A, "columns"), (B, "rows")]
    # groups: A has 3 columns of size 2 (one zero), B has 2 rows of size 4 (one zero)
    assert M.group_sparsity(src) == 2 / 5
    assert M.weighted_group_sparsity(src) == (2 + 4) / (6 + 8)
    assert M.group_sparsity(A, layout="rows") == 0.0
    assert M.group_sparsity(A, layout="all") == 0.0
    # entries without a layout count for the element-wise metric only
    assert M.group_sparsity([(A, "columns"), (B, None)]) == 1 / 3
    assert math.isnan(M.group_sparsity(A))


def test_group_norms_for_every_kind_of_layout():
    norms, zero = M.group_norms(A, "columns")
    np.testing.assert_allclose(norms.numpy(), [math.sqrt(5), 0.0, 3.0])
    assert zero.tolist() == [False, True, False]
    norms, zero = M.group_norms(A, 2)  # contiguous pairs of the flattening: (1,0) (0,2) (0,3)
    np.testing.assert_allclose(norms.numpy(), [1.0, 2.0, 3.0])
    g = Groups(6, [np.array([1, 2, 4]), np.array([0, 3, 5])])  # (0,0,0) and (1,2,3)
    norms, zero = M.group_norms(A, g)
    np.testing.assert_allclose(norms.numpy(), [0.0, math.sqrt(14)])
    assert zero.tolist() == [True, False]
    assert M.group_sizes(A, g).tolist() == [3, 3]
    conv = torch.zeros(4, 3, 2, 2)
    conv[:, 1] = 1.0
    assert M.group_sizes(conv, "in_channels").tolist() == [16, 16, 16]
    assert M.group_norms(conv, "in_channels")[1].tolist() == [True, False, True]
    assert M.group_norms(conv, "out_channels")[1].tolist() == [False] * 4


def test_feature_rate_counts_present_features_only():
    emb = torch.tensor([[1.0, 1.0], [0.0, 0.0], [0.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
    assert M.feature_rate(emb) == 3 / 5
    present = torch.tensor([True, True, True, False, True])
    assert M.feature_rate(emb, present=present) == 3 / 4
    assert M.feature_rate(emb, present=np.array([4, 1, 7, 0, 2])) == 3 / 4  # counts
    # two tables: per-table masks; the first-layer columns of a Linear
    assert M.feature_rate([emb, emb], present=[present, None]) == (3 + 3) / (4 + 5)
    assert M.feature_rate(A, "columns") == 2 / 3
    with pytest.raises(ValueError, match="present"):
        M.feature_rate(emb, present=torch.ones(4, dtype=torch.bool))


def test_low_rank_level_by_hand():
    d = torch.diag(torch.tensor([3.0, 2.0, 0.0], dtype=torch.float64))  # rank 2 of 3
    r1 = torch.outer(torch.tensor([1.0, 2.0]), torch.tensor([1.0, -1.0, 0.5, 2.0])).double()  # rank 1 of 2
    assert M.low_rank_level([d, r1]) == pytest.approx(1 - 3 / 5)
    # parameters saved by the factors: min(r (m + n), m n) = min(12, 9) and min(6, 8)
    assert M.low_rank_level([d, r1], weighting="params") == pytest.approx(1 - (9 + 6) / (9 + 8))
    assert M.low_rank_level(torch.zeros(3, 4)) == 1.0
    assert math.isnan(M.low_rank_level(torch.ones(5)))  # vectors are skipped
    conv = torch.zeros(4, 2, 3, 3)
    conv[0] = 1.0
    assert M.low_rank_level(conv) == pytest.approx(1 - 1 / 4)  # (4, 18), rank 1
    with pytest.raises(ValueError, match="weighting"):
        M.low_rank_level(d, weighting="nope")


def test_structure_metrics_of_a_module_uses_the_layouts_of_param_groups():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Embedding(5, 2), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight[1].zero_()
        model[2].weight[:, 0].zero_()
    ents = M.entries(model)
    assert [(e.name, e.layout) for e in ents] == [("0.weight", "rows"), ("2.weight", "columns")]
    out = M.structure_metrics(model)
    assert out["n_params"] == 10 + 12
    assert out["n_groups"] == 5 + 4
    assert out["group_sparsity"] == 2 / 9
    assert out["weighted_group_sparsity"] == (2 + 3) / 22
    assert out["sparsity"] == 5 / 22
    with_bias = M.entries(model, include_bias=True)
    assert [e.layout for e in with_bias] == ["rows", "columns", None]
    assert M.structure_metrics(with_bias)["n_params"] == 25


def test_structure_report_measures_the_prox_point_of_averaging_methods():
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    opt = pt.RMDA(pt.param_groups(model, ("group_l2", {"lam": 5.0})), lr=0.1, c=0.5)
    x, y = torch.randn(16, 6), torch.randn(16, 3)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    rep = M.structure_report(model, opt)
    w_hat = opt.prox_point(model.weight)
    assert w_hat is not model.weight
    assert rep["prox_group_sparsity"] == M.group_sparsity(w_hat, layout="columns")
    assert rep["prox_group_sparsity"] == 1.0  # lam is large: every column of W_hat is 0 ...
    assert rep["group_sparsity"] == 0.0  # ... while the average W_t is not sparse
    assert M.group_sparsity(model, tensor=opt.prox_point) == 1.0
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    assert not any(k.startswith("prox_") for k in M.structure_report(model, sgd))
    gadam = pt.GroupAdam(pt.param_groups(model, lam21=1e-3), lr=1e-3)
    assert [e.layout for e in M.entries(gadam)] == ["columns", None]


def test_tensor_getter_is_checked():
    with pytest.raises(ValueError, match="shape"):
        M.sparsity(A, tensor=lambda p: p.reshape(-1))
    with pytest.raises(TypeError, match="callable"):
        M.sparsity(A, tensor=3)
    with pytest.raises(ValueError, match="layout"):
        M.group_sparsity(A, layout="diagonal")


def test_prune_groups_keeps_the_largest_rows_jointly_and_drops_absent_ones():
    norms = torch.tensor([1.0, 5.0, 3.0, 0.5, 4.0])
    emb = norms[:, None] * torch.tensor([[0.6, 0.8]])  # row norms = norms
    e1 = emb.clone()
    kept = M.prune_groups_(e1, 0.4)
    assert kept[0].tolist() == [False, True, False, False, True]
    assert torch.equal(e1[[1, 4]], emb[[1, 4]]) and not e1[[0, 2, 3]].any()
    # row 1 never appears in the training data: it is not a feature, it is zeroed,
    # and N = round(0.4 * 4) = 2 of the present rows are kept
    e2 = emb.clone()
    kept = M.prune_groups_(e2, 0.4, present=torch.tensor([True, False, True, True, True]))
    assert kept[0].tolist() == [False, False, True, False, True]
    assert M.feature_rate(e2, present=torch.tensor([True, False, True, True, True])) == 0.5
    # two tables ranked jointly: norms 1, 5, 3 | 0.5, 4 -> keep 5 and 4
    a, b = emb[:3].clone(), emb[3:].clone()
    kept = M.prune_groups_([a, b], 0.4)
    assert kept[0].tolist() == [False, True, False] and kept[1].tolist() == [False, True]
    # columns of a Linear weight
    w = torch.tensor([[1.0, 3.0, 0.1], [1.0, 3.0, 0.1]])
    M.prune_groups_(w, 1 / 3, "columns")
    assert w.tolist() == [[0.0, 3.0, 0.0], [0.0, 3.0, 0.0]]
    # contiguous groups of 2 entries (the gather path): keep the 3 largest pairs
    v = torch.arange(1.0, 13.0).reshape(3, 4)
    M.prune_groups_(v, 0.5, 2)
    assert v.tolist() == [[0, 0, 0, 0], [0, 0, 7, 8], [9, 10, 11, 12]]
    with pytest.raises(ValueError, match="feature_rate"):
        M.prune_groups_(emb.clone(), 1.5)


def test_magnitude_pruning_prunes_again_after_finetuning():
    emb = torch.arange(1.0, 11.0)[:, None].repeat(1, 3)  # row norms increase with the index
    calls = []

    def finetune():  # the fine-tuning makes pruned rows grow back, larger than the kept ones
        calls.append(int((emb != 0).any(dim=1).sum()))
        with torch.no_grad():
            emb[:5] = 100.0

    kept = M.magnitude_pruning(emb, 0.3, finetune=finetune)
    assert calls == [3]  # first pruning kept rows 7, 8, 9
    assert kept[0].tolist() == [True, True, True] + [False] * 7  # the second pruning keeps rows 0, 1, 2
    assert M.feature_rate(emb) == pytest.approx(0.3)
    once = torch.arange(1.0, 11.0)[:, None].repeat(1, 3)
    assert M.magnitude_pruning(once, 0.2)[0].tolist() == [False] * 8 + [True, True]
