"""proxlab.torch optimizers under DistributedDataParallel: 2 processes, gloo
backend on 127.0.0.1, the same iterates as one process on the full batch.

Setup. A float64 MLP (Linear 6->5, tanh, Linear 5->3), the same initial
weights in every process (``torch.manual_seed``; DDP also broadcasts rank 0's
weights at construction). At every step a batch of ``B = 16`` rows is drawn
from a generator seeded identically everywhere; rank ``r`` of 2 takes rows
``8r .. 8r + 7``. Each rank's loss is the *mean* over its own rows of the
squared error (summed over the 3 outputs). DDP all-reduces the gradients and
divides by the world size, so every rank steps with

    (1/2) (grad mean_{rank 0 rows} + grad mean_{rank 1 rows}) = grad mean_{all 16 rows},

the gradient of the single-process loss (mean over the full batch) -- equal
shard sizes make the two means agree; with unequal shards the loss would have
to be the per-rank *sum* divided by the global batch size. The optimizers run
unchanged on every rank (their state is per parameter and elementwise or
per group of one tensor, and each rank holds whole tensors): GroupAdam
(``lam21`` on input columns), RAMDA (group lasso, exact subproblem) and
ProxSSI (group lasso, Newton), 30 steps each.

Tolerance: ``|ddp - single| <= 1e-12 (1 + |single|)`` for every parameter and
prox point after the last step. The two runs differ only by the rounding of
the gradient (a mean of two half-batch means against one full-batch mean,
~1e-16 relative), which these optimizers carry along without amplification
over 30 steps (measured <= 2e-16). Every run zeroes some groups, so the zero
decisions are compared too. The two ranks must hold bit-identical
parameters (gloo's all-reduce gives every rank the same sum).
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="proxlab.torch needs torch")
dist = pytest.importorskip("torch.distributed", reason="torch.distributed is not available")

import proxlab.torch as pt  # noqa: E402

WORLD = 2
B = 16
STEPS = 30
TOL = 1e-12

OPTIMIZERS = {
    "GroupAdam": lambda model: pt.GroupAdam(pt.param_groups(model, lam21=2.0), lr=0.02),
    "RAMDA": lambda model: pt.RAMDA(pt.param_groups(model, ("group_l2", {"lam": 0.02})), lr=0.05),
    "ProxSSI": lambda model: pt.ProxSSI(pt.param_groups(model, ("group_l2", {"lam": 0.05})), lr=0.02),
}


def _model():
    torch.manual_seed(1234)
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()


def _batch(step):
    rng = np.random.default_rng(1000 + step)
    X = torch.tensor(rng.standard_normal((B, 6)))
    Y = torch.tensor(rng.standard_normal((B, 3)))
    return X, Y


def _loss(model, X, Y):
    return ((model(X) - Y) ** 2).sum(dim=1).mean()


def _result(model, opt):
    return {"params": [p.detach().clone() for p in model.parameters()],
            "prox": [opt.prox_point(p).detach().clone() for p in model.parameters()]}


def _train(model, opt, rows=slice(None)):
    for step in range(STEPS):
        X, Y = _batch(step)
        opt.zero_grad()
        _loss(model, X[rows], Y[rows]).backward()
        opt.step()


def _worker(rank, port, out_dir):
    torch.set_num_threads(1)
    try:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD,
                                timeout=timedelta(seconds=60))
    except Exception as err:  # noqa: BLE001 -- reported to the parent, which skips with it
        with open(os.path.join(out_dir, f"init_failed_{rank}.txt"), "w") as f:
            f.write(f"{type(err).__name__}: {err}")
        return
    try:
        rows = slice(rank * B // WORLD, (rank + 1) * B // WORLD)
        out = {}
        for name, make in OPTIMIZERS.items():
            model = _model()
            ddp = torch.nn.parallel.DistributedDataParallel(model)
            opt = make(ddp.module)
            for step in range(STEPS):
                X, Y = _batch(step)
                opt.zero_grad()
                _loss(ddp, X[rows], Y[rows]).backward()  # DDP averages the gradients over the ranks
                opt.step()
            out[name] = _result(model, opt)
        torch.save(out, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("this torch build has no gloo backend (torch.distributed.is_gloo_available() is False)")
    import torch.multiprocessing as mp

    out_dir = str(tmp_path_factory.mktemp("ddp"))
    mp.spawn(_worker, args=(_free_port(), out_dir), nprocs=WORLD, join=True)
    failed = sorted(f for f in os.listdir(out_dir) if f.startswith("init_failed"))
    if failed:
        with open(os.path.join(out_dir, failed[0])) as f:
            pytest.skip(f"gloo could not start on 127.0.0.1 in this sandbox: {f.read()}")
    return [torch.load(os.path.join(out_dir, f"rank{r}.pt"), weights_only=True) for r in range(WORLD)]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_ddp_two_processes_equal_one_process_on_the_full_batch(name, ddp_results):
    model = _model()
    opt = OPTIMIZERS[name](model)
    _train(model, opt)
    single = _result(model, opt)
    r0, r1 = ddp_results[0][name], ddp_results[1][name]
    for key in ("params", "prox"):
        for a, b, s in zip(r0[key], r1[key], single[key]):
            assert torch.equal(a, b), f"{name}: the ranks disagree ({key})"
            err = float(((a - s).abs() / (1.0 + s.abs())).max())
            assert err <= TOL, f"{name}: DDP vs single process {err:.3g} ({key})"
    start = [p.detach() for p in _model().parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(single["params"], start))  # it trained
    assert any(bool((q == 0).any()) for q in single["prox"]), f"{name}: no structure to compare"


def test_ddp_check_detects_a_wrong_loss_scaling(ddp_results):
    """The comparison can fail: the single-process run with the per-rank loss
    *summed* over rows (not averaged) does not match the DDP run."""
    model = _model()
    opt = OPTIMIZERS["RAMDA"](model)
    for step in range(STEPS):
        X, Y = _batch(step)
        opt.zero_grad()
        ((model(X) - Y) ** 2).sum().backward()
        opt.step()
    a = ddp_results[0]["RAMDA"]["params"][0]
    assert float((a - model[0].weight.detach()).abs().max()) > 1e-6
