r"""The Group family of Yue et al. (group-lasso-adaptive-optimizers.txt, "GA"):
Group SGD, Group Momentum, Group Adagrad, Group Adam, Group AMSGrad and
Group AdaHessian, all instances of GA Algorithm 1.

**One rule, six moment choices (GA Algorithm 1, Table 1).** At step ``t`` with
gradient ``g_t`` at ``x_t``, each optimizer produces a first moment ``m_t`` and
a positive diagonal *denominator* ``D_t`` (``x_{t+1} = x_t - m_t / D_t`` is the
parent method, eq (1) with ``D_t = sqrt(V_t) / alpha_t``); then

.. math::

    \Sigma_t = \Sigma_{t-1} + Q_t/\alpha_t = D_t \quad(\Sigma_0 = 0),\qquad
    z_t = z_{t-1} + m_t - (Q_t/\alpha_t)\, x_t \qquad\text{(lines 5-6)}

    x_{t+1} = \arg\min_x\; z_t\cdot x + \tfrac12 x^\top \Sigma_t x + \Psi_t(x)
    \qquad\text{(eq (6), (24))}

with ``Psi_t`` of eq (5): ``lam1 ||x||_1 + lam21 sum_g sqrt(d_g) ||A_t^{1/2} x_g||
+ lam2 ||x||^2``. Writing ``s_t = -soft(z_t, lam1)`` (eq (9), line 8) and
``den = D_t + 2 lam2``:

* ``form="exact"`` — Theorem 1 *corrected*: ``A_t = Sigma_t/2 + lam2 I = den/2``
  and

  .. math::

      x_{t+1} = \mathrm{den}^{-1}\max\Big(1 - \frac{\sqrt{d_g}\,\lambda_{21}}
      {\|\tilde s_{t,g}\|_2}, 0\Big) s_{t,g},\qquad
      \tilde s_t = A_t^{-1/2} s_t\quad\text{(eqs (8), (10) corrected)}

  the exact minimizer of (6) (proof: ``y = A_t^{1/2} x`` turns (25) into
  ``-tilde s . y + lam1 sum_i |y_i| / sqrt(A_ii) + lam21 sqrt(d_g) ||y|| + ||y||^2``,
  a weighted l1 plus a plain group norm under the identity metric, whose
  prox is block soft-thresholding after soft-thresholding). The paper prints
  ``tilde s = A_t^{-1} s`` (eq (10)) and ``sqrt(d lam21)`` (eq (8)); both are
  errata (docs/errata/group_lasso.md; the oracle decides:
  ``tests/test_group_family.py -k theorem1``).
* ``form="practical"`` (default) — GA Algorithm 1 line 10 / Algorithm 2 line 13 /
  Algorithm 3 line 11 as printed: ``s_t`` in place of ``tilde s_t``. It is the
  exact minimizer of (6) with ``A_t = I`` **only when ``den`` is constant
  within each group** (then ``x_g = (s_g / den) (1 - lam21 sqrt(d_g)/||s_g||)_+``
  is block soft-thresholding); otherwise its non-zero groups are an
  approximation (the exact ``A_t = I`` minimizer needs a secular root), while
  its zero/non-zero decision ``||s_g|| <= lam21 sqrt(d_g)`` is exactly the
  zero test of the ``A_t = I`` problem for every diagonal metric
  (``||soft(d z, step lam1)_g|| <= step lam21 w_g`` in
  :class:`~proxlab.regularizers.group.SparseGroupLasso` with
  ``d = alpha D``, ``step = alpha``). Measured in ``tests/test_group_family.py``
  (claim GA-A1).

  **Why practical is the default.** It is the algorithm the paper names Group
  Adam / Group Adagrad (Algorithms 1-3), the one its experiments ran
  (Sec 4.4: it beat the ``tilde s`` variant at equal sparsity, Fig 2) and the one
  of the authors' public code (tfplus); the two forms need ``lam21`` values two
  orders of magnitude apart for the same sparsity (Table 9), so the paper's
  ``lam21`` (Tables 2, 6, 7) only mean something in the practical form. The
  exact form is one keyword away and is what the oracle matrix checks.

**The first-step coefficient ``Q_1`` (Theorem 2).** Theorem 2's induction
(App. B) needs ``Sigma_t`` equal to the denominator of the update at every
``t``. Algorithm 2 prints ``Q_t = sqrt(V_t) - sqrt(V_{t-1})`` (its two cases,
``t = 1`` and ``t > 1``, are identical) and ``eps`` only in line 13's
denominator, so ``Sigma_t = sqrt(V_t)/alpha`` while the update divides by
``(sqrt(V_t) + eps)/alpha``: the first step is then
``x_2 = x_1 - (alpha m_1 + eps x_1) / (sqrt(V_1) + eps)``, Adam's step plus
``-eps x_1 / (sqrt(V_1) + eps)`` (the whole ``x_1`` is lost on a coordinate
whose first gradient is 0); from ``t = 2`` on the rule is Adam again, so
the offset persists. Here ``q1="consistent"`` (default; tfplus folds ``eps`` into
``sigma`` at ``t = 1`` the same way) takes ``Q_1 = sqrt(V_1) + eps``, i.e.
``Sigma_t = D_t`` for all ``t``, and every member reduces exactly to its
parent for any ``x_1`` and ``eps``; ``q1="printed"`` keeps Algorithm 2's
``Q_1 = sqrt(V_1)`` (Adam-type members only; Algorithm 3 adds ``eps`` to ``V_1``
itself, which is consistent). The step still solves *its own* subproblem
``argmin z_t . x + 1/2 x' D_t x + Psi_t`` (the one ``subproblem`` returns).

**Members** (``alpha`` = ``lr``; all bias corrections as in Algorithm 2):

=================  ==========================================  =============================================
name               ``m_t``                                     ``D_t``
=================  ==========================================  =============================================
group_sgd          ``g_t``                                     ``t^power / lr`` (Table 1: ``power = 1/2``)
group_momentum     ``momentum m_{t-1} + g_t``                  ``1 / lr``
group_adagrad      ``g_t``                                     ``sqrt(V_t) / lr``, ``V_t = eps + sum g^2`` (Alg. 3)
group_adam         ``mhat_t / (1 - beta1^t)``                  ``(sqrt(vhat_t / (1 - beta2^t)) + eps) / lr``
group_amsgrad      as Adam                                     ``(sqrt(max_{s<=t} vhat_s / (1 - beta2^t)) + eps)/lr``
group_adahessian   as Adam                                     Adam's with ``vhat`` fed by ``curvature^2``
=================  ==========================================  =============================================

Parents with every lambda 0 (``tests/test_group_family.py``, 200 steps, float64):
``torch.optim.SGD(lr)`` (``power = 0``; ``power > 0``: with ``LambdaLR``
``t^-power``), ``SGD(lr, momentum, dampening=0)``,
``Adagrad(lr, initial_accumulator_value=eps, eps=0)``, ``Adam(lr, betas, eps)``,
``Adam(lr, betas, eps, amsgrad=True)`` (torch keeps the max of the raw
``vhat`` and bias-corrects after; Table 1 prints a max of ``V`` fed back into
its own EMA, tfplus a max of the bias-corrected ``v``: torch's is
implemented), AdaHessian (Yao et al. 2020, Hessian power 1, no spatial
averaging). With ``lam21 = 0`` Group Adagrad is FTRL-Proximal
(:mod:`proxlab.solvers.ftrl`, claim GA-T2).

All members share one fused Numba kernel (:func:`group_family_kernel`):
moments, ``Sigma``, ``z``, ``s`` in one pass over the coordinates, then the
closed form over all groups in one pass over the CSR layout.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_scalar
from ..groups import Groups
from ._base import Algorithm, Subproblem, check_beta, check_lr, register

__all__ = ["GroupSGD", "GroupMomentum", "GroupAdagrad", "GroupAdam", "GroupAMSGrad", "GroupAdaHessian",
           "group_family_kernel", "hutchinson_diagonal", "theorem1_exact", "practical_closed_form"]

SGD, MOMENTUM, ADAGRAD, ADAM, AMSGRAD, ADAHESSIAN = range(6)
FORMS = ("practical", "exact")
Q1_CHOICES = ("consistent", "printed")

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)


# ------------------------------------------------------------------ kernel
#: groups per block of the fused grouped pass (s and den of a block stay in cache)
BLOCK = 256


@njit(inline="always", error_model="numpy")
def _coordinate(variant, i, gi, t, x, z, sig, r2, r3, r4, lr, b1, b2, eps, power, bc1, bc2, shift, lam1, lam2):
    """Lines 3-9 of GA Algorithm 1 at coordinate ``i``: moments, ``Sigma_t``,
    ``z_t`` (written to the state rows ``z``, ``sig``, ``r2..r4``); returns
    ``(s_i, den_i)`` with ``s = -soft(z_t, lam1)`` and ``den = D_t + 2 lam2``."""
    if variant == SGD:
        m = gi
        D = t ** power / lr
    elif variant == MOMENTUM:
        m = b1 * r2[i] + gi
        r2[i] = m
        D = 1.0 / lr
    elif variant == ADAGRAD:
        V = r2[i] + gi * gi
        if t == 1:
            V += eps  # Algorithm 3 line 5
        r2[i] = V
        m = gi
        D = math.sqrt(V) / lr
    else:
        mh = b1 * r2[i] + (1.0 - b1) * gi
        c = np.float64(r4[i]) if variant == ADAHESSIAN else gi
        vh = b2 * r3[i] + (1.0 - b2) * c * c
        r2[i] = mh
        r3[i] = vh
        m = mh / bc1
        if variant == AMSGRAD:
            vm = max(np.float64(r4[i]), np.float64(r3[i]))
            r4[i] = vm
            D = (math.sqrt(vm / bc2) + eps) / lr
        else:
            D = (math.sqrt(vh / bc2) + eps) / lr
    target = D - shift  # Sigma_t (= D_t unless q1 = "printed")
    q = target - sig[i]
    sig[i] = target
    zi = z[i] + m - q * x[i]
    z[i] = zi
    return min(max(zi, -lam1), lam1) - zi, D + 2.0 * lam2  # -soft(z, lam1): +0.0 in the dead zone


@njit(inline="always", error_model="numpy")
def _group_factor(sb, db, a, b, thr, exact):
    """``max(0, 1 - thr / ||s_g||)`` (practical) or with ``||s_g / sqrt(den_g / 2)||`` (exact)."""
    s2 = 0.0
    for k in range(a, b):
        r = sb[k] / math.sqrt(0.5 * db[k]) if exact else sb[k]
        s2 += r * r
    nrm = math.sqrt(s2)
    return 1.0 - thr / nrm if nrm > thr else 0.0


def _make_group_family_kernel(VARIANT):
    """The Group-family kernel with the variant frozen (``VARIANT >= 0``) or read
    from ``h[0]`` (``VARIANT = -1``, :func:`group_family_kernel`)."""

    @njit(cache=True, error_model="numpy")
    def kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
        """One step of any Group optimizer (GA Algorithm 1, fused).

        ``h = (variant, lr, b1, b2, eps, q1_printed, power)`` (``b1`` is the momentum
        of Group Momentum), ``kind`` = 1 for the exact form (Theorem 1 corrected),
        0 for the practical form (line 10), ``rp = (lam1, lam21, lam2)``, ``(idx,
        ptr, gw)`` the CSR layout (empty: no group term; an empty ``idx`` with a
        non-empty ``ptr`` means consecutive groups, ``idx = 0..n-1``). Rows of
        ``S``: ``z``, ``sigma`` (``Sigma_{t-1}``), then per variant ``m`` / ``V``
        (Adagrad), ``v``, ``vmax`` (AMSGrad) or ``curv`` (AdaHessian, the
        curvature of this step, written by ``step`` before the call).

        Per coordinate: moments, ``D_t``, ``Q_t/alpha = Sigma_t - Sigma_{t-1}``,
        ``z_t``, ``s_t = -soft(z_t, lam1)``, ``den = D_t + 2 lam2``; per group:
        ``x_g = max(0, 1 - lam21 w_g / ||s_g||) s_g / den_g`` (practical) or with
        ``||s_g / sqrt(den_g / 2)||`` (exact). Consecutive groups run in blocks of
        :data:`BLOCK` groups: one vectorized coordinate loop per block writes
        ``s`` and ``den`` to a cache-resident buffer, the group factors follow,
        then ``x`` is written — each state array is read and written once.
        Other layouts: a coordinate pass writing ``s`` and ``den`` to ``work``,
        then a group pass.
        """
        variant = int(h[0]) if VARIANT < 0 else VARIANT
        lr, b1, b2, eps, printed, power = h[1], h[2], h[3], h[4], h[5], h[6]
        lam1, lam21, lam2 = rp[0], rp[1], rp[2]
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        shift = eps / lr if (printed != 0.0 and variant >= ADAM) else 0.0
        n = x.shape[0]
        exact = kind == 1
        G = ptr.shape[0] - 1
        z = S[0]
        sig = S[1]
        r2 = S[2] if S.shape[0] > 2 else S[0]  # rows a variant lacks are never touched
        r3 = S[3] if S.shape[0] > 3 else S[0]
        r4 = S[4] if S.shape[0] > 4 else S[0]
        if lam21 > 0.0 and G > 0 and ptr[G] == n and idx.shape[0] == 0:
            size = 0
            for g0 in range(0, G, BLOCK):
                size = max(size, ptr[min(g0 + BLOCK, G)] - ptr[g0])
            sb = np.empty(size)
            db = np.empty(size)
            for g0 in range(0, G, BLOCK):
                g1 = min(g0 + BLOCK, G)
                a0 = ptr[g0]
                a1 = ptr[g1]
                xs, gs, zs, ss = x[a0:a1], g[a0:a1], z[a0:a1], sig[a0:a1]
                q2, q3, q4 = r2[a0:a1], r3[a0:a1], r4[a0:a1]
                for k in range(a1 - a0):
                    si, dn = _coordinate(variant, k, np.float64(gs[k]), t, xs, zs, ss, q2, q3, q4, lr, b1, b2,
                                         eps, power, bc1, bc2, shift, lam1, lam2)
                    sb[k] = si
                    db[k] = dn
                for gg in range(g0, g1):
                    a = ptr[gg] - a0
                    b = ptr[gg + 1] - a0
                    f = _group_factor(sb, db, a, b, lam21 * gw[gg], exact)
                    for k in range(a, b):
                        sb[k] *= f
                for k in range(a1 - a0):
                    xs[k] = sb[k] / db[k]
            return
        den = work[0]
        srow = work[1]
        for i in range(n):
            si, dn = _coordinate(variant, i, np.float64(g[i]), t, x, z, sig, r2, r3, r4, lr, b1, b2, eps, power,
                                 bc1, bc2, shift, lam1, lam2)
            den[i] = dn
            srow[i] = si
            x[i] = si / dn
        if lam21 > 0.0:
            contiguous = idx.shape[0] == 0
            for gg in range(G):
                a = ptr[gg]
                b = ptr[gg + 1]
                s2 = 0.0
                for k in range(a, b):
                    i = k if contiguous else idx[k]
                    si = srow[i]
                    if exact:
                        si = si / math.sqrt(0.5 * den[i])
                    s2 += si * si
                thr = lam21 * gw[gg]
                nrm = math.sqrt(s2)
                f = 1.0 - thr / nrm if nrm > thr else 0.0
                for k in range(a, b):
                    i = k if contiguous else idx[k]
                    x[i] = (f * srow[i]) / den[i]

    return kernel


group_family_kernel = _make_group_family_kernel(-1)


# -------------------------------------------------------- closed forms (numpy)
def practical_closed_form(z, D, lam1, lam21, lam2, groups):
    """GA Algorithm 1 line 10 (numpy): ``x = den^{-1} (1 - lam21 w_g/||s_g||)_+ s``
    with ``s = -soft(z, lam1)``, ``den = D + 2 lam2`` (float64)."""
    z = np.asarray(z, dtype=np.float64)
    s = np.clip(z, -lam1, lam1) - z
    den = np.asarray(D, dtype=np.float64) + 2.0 * lam2
    x = s / den
    if groups is not None and lam21 > 0:
        nrm = groups.norms(s)
        thr = lam21 * groups.weights
        f = np.where(nrm > thr, 1.0 - thr / np.where(nrm > 0, nrm, 1.0), 0.0)
        x[groups.idx] = x[groups.idx] * np.repeat(f, groups.sizes)
    return x


def theorem1_exact(z, D, lam1, lam21, lam2, groups):
    """Theorem 1 corrected (numpy): ``x = den^{-1} (1 - lam21 w_g/||A^{-1/2} s_g||)_+ s``,
    ``A = den / 2`` — the exact minimizer of
    ``z . x + 1/2 x' D x + lam1 ||x||_1 + lam21 sum_g w_g ||A^{1/2} x_g|| + lam2 ||x||^2``."""
    z = np.asarray(z, dtype=np.float64)
    s = np.clip(z, -lam1, lam1) - z
    den = np.asarray(D, dtype=np.float64) + 2.0 * lam2
    x = s / den
    if groups is not None and lam21 > 0:
        nrm = groups.norms(s / np.sqrt(0.5 * den))
        thr = lam21 * groups.weights
        f = np.where(nrm > thr, 1.0 - thr / np.where(nrm > 0, nrm, 1.0), 0.0)
        x[groups.idx] = x[groups.idx] * np.repeat(f, groups.sizes)
    return x


def hutchinson_diagonal(hvp, n, rng, samples=1):
    """Hutchinson's estimate of ``diag(H)``: the mean over ``samples`` Rademacher
    vectors ``u`` of ``u * (H u)`` (AdaHessian, Yao et al. 2020, eq (7)).

    Unbiased: ``E[u_i (H u)_i] = sum_j H_ij E[u_i u_j] = H_ii``; exact for a
    diagonal ``H`` (``u_i^2 = 1``), with variance ``sum_{j != i} H_ij^2 / samples``
    otherwise. ``hvp(u)`` returns the Hessian-vector product.
    """
    out = np.zeros(n)
    for _ in range(int(samples)):
        u = rng.choice(np.array([-1.0, 1.0]), size=n)
        out += u * np.asarray(hvp(u), dtype=np.float64)
    return out / int(samples)


def quartic_hessian_diag(x):
    """Exact Hessian diagonal ``1 + x^2`` of ``f(x) = sum_i x_i^2/2 + x_i^4/12``
    (the curvature source of the Group AdaHessian examples)."""
    return 1.0 + np.asarray(x, dtype=np.float64) ** 2


# ------------------------------------------------------------------- base
class _GroupFamily(Algorithm):
    """GA Algorithm 1 with a variant's ``m_t`` and ``D_t`` (see the module docstring).

    Parameters common to every member
    ---------------------------------
    lam1, lam21, lam2 : float >= 0, default 0
        ``lambda_1``, ``lambda_21``, ``lambda_2`` of eq (5).
    n, groups, weights : group layout
        ``groups`` an int group size or index arrays (``Groups``); ``weights``
        ``"sqrt"`` (``sqrt(d_g)``, eq (5)), ``"ones"`` or an array. Needed when
        ``lam21 > 0``; without groups the regularizer is the elastic net.
    regularizer : SparseGroupLasso or GroupL2 instance, name or (name, params)
        Alternative to ``lam*`` + ``groups`` (its strengths and layout are used).
    form : {"practical", "exact"}, default "practical"
        Algorithm 1 line 10 as printed, or Theorem 1 corrected (module docstring).
    """

    family = "Group (GA)"
    variant = SGD
    _kernel = group_family_kernel
    _kernel_factory = staticmethod(_make_group_family_kernel)
    _has_q1 = False
    fields = ("z", "sigma")

    def __init__(self, regularizer=None, nan_policy="raise", n=None, groups=None, weights="sqrt",
                 form="practical", **hyper):
        q1 = hyper.pop("q1", "consistent") if self._has_q1 else "consistent"
        super().__init__(regularizer=None, nan_policy=nan_policy, **hyper)
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        if q1 not in Q1_CHOICES:
            raise ValueError(f"q1 must be one of {Q1_CHOICES}, got {q1!r}")
        self.form = form
        self.q1 = q1
        self._set_regularizer(regularizer, n, groups, weights)

    # ------------------------------------------------------------- set-up
    def _set_regularizer(self, regularizer, n, groups, weights):
        from .. import regularizers
        from ._base import resolve_regularizer

        hp = self.hyper
        reg = resolve_regularizer(regularizer)
        if reg is not None:
            if groups is not None or any(hp[k] for k in ("lam1", "lam21", "lam2")):
                raise ValueError(f"{self.name}: pass either regularizer= or lam1/lam21/lam2 with groups, not both")
            if reg.name == "sparse_group_lasso":
                hp["lam1"], hp["lam21"], hp["lam2"] = reg.lam1, reg.lam21, reg.lam2
            elif reg.name == "group_l2":
                hp["lam21"] = reg.lam
            else:
                raise ValueError(f"{self.name}: the regularizer must be sparse_group_lasso or group_l2 "
                                 f"(GA eq (5)), got {reg.name!r}")
            self.groups = reg.groups
        elif groups is not None:
            if n is None and not isinstance(groups, Groups):
                raise ValueError(f"{self.name}: n (the dimension) is required with groups={groups!r}")
            self.groups = Groups.coerce(n if n is not None else groups.n, groups, weights)
        else:
            self.groups = None
        lam1, lam21, lam2 = hp["lam1"], hp["lam21"], hp["lam2"]
        if lam21 > 0 and self.groups is None:
            raise ValueError(f"{self.name}: lam21 > 0 needs a group layout: pass n and groups "
                             "(or a sparse_group_lasso regularizer)")
        if self.groups is not None:
            self.regularizer = regularizers.get("sparse_group_lasso", lam1=lam1, lam21=lam21, lam2=lam2,
                                                n=self.groups.n, groups=self.groups)
        elif lam1 or lam2:
            self.regularizer = regularizers.get("elastic_net", lam1=lam1, lam2=lam2)
        else:
            self.regularizer = None

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        for k in ("lam1", "lam21", "lam2"):
            hyper[k] = check_nonneg(k, hyper[k])
        return self._check_variant_hyper(hyper)

    def _check_variant_hyper(self, hyper):
        return hyper

    @property
    def h(self):
        hp = self.hyper
        return np.array([float(self.variant), hp["lr"], hp.get("beta1", hp.get("momentum", 0.0)),
                         hp.get("beta2", 0.0), hp.get("eps", 0.0), 1.0 if self.q1 == "printed" else 0.0,
                         hp.get("power", 0.0)], dtype=np.float64)

    def _spec(self):
        if self._spec_cache is None:
            hp = self.hyper
            G = self.groups
            idx, ptr, gw = (G.idx, G.ptr, G.weights) if G is not None else (_EMPTY_I, _EMPTY_I, _EMPTY_F)
            if G is not None and G.contiguous:
                idx = _EMPTY_I  # the kernel's marker for consecutive groups
            self._spec_cache = (1 if self.form == "exact" else 0,
                                np.array([hp["lam1"], hp["lam21"], hp["lam2"]], dtype=np.float64), idx, ptr, gw)
        return self._spec_cache

    def _kernel_key(self, spec):
        return int(self.variant)  # the variant's branch is frozen; the form stays a runtime flag

    # --------------------------------------------------- moments (python)
    def _denominator(self, state, grad, t):
        """``(m_t, D_t, rows)``: the first moment, the denominator and the new
        variant rows of ``S`` (float64), state untouched."""
        raise TypeError(f"{type(self).__name__} must define its denominator (abstract base)")

    def _quantities(self, state, grad):
        """``(z_t, D_t, Sigma_t, rows)`` in float64 (state untouched)."""
        t = state.t + 1
        m, D, rows = self._denominator(state, grad, t)
        shift = self.hyper["eps"] / self.hyper["lr"] if self.q1 == "printed" else 0.0
        target = D - shift
        q = target - state["sigma"].astype(np.float64)
        z = state["z"].astype(np.float64) + m - q * state["x"].astype(np.float64)
        return z, D, target, rows

    # ---------------------------------------------------------- contract
    def subproblem(self, state, grad, curvature=None):
        """``argmin_x z_t . x + 1/2 x' D_t x + Psi_t(x)`` as the metric prox
        ``argmin R(x) + (1/(2 lr)) sum_i d_i (x_i - c_i)^2`` with ``d = lr D_t``,
        ``c = -z_t / D_t``.

        ``R`` is ``Psi_t``: for ``form="exact"`` the sparse group lasso with the
        ``A_t^{1/2}``-weighted group norm (``sparse_group_lasso_weighted`` with
        ``a = sqrt(A_t) = sqrt((D_t + 2 lam2) / 2)``), whose argmin the step
        returns exactly. For ``form="practical"`` it is the ``A_t = I`` sparse
        group lasso and the step's output is an **approximation** of its argmin
        (exact when ``D_t`` is constant within every group; the zero groups
        always agree): see the module docstring and claim GA-A1.
        """
        self._stage_curvature(state, curvature, write=False)
        return self._subproblem_staged(state, grad)

    def _subproblem_staged(self, state, grad):
        z, D, _, _ = self._quantities(state, grad)
        lr = self.hyper["lr"]
        center = (-z / D).astype(state["x"].dtype)
        return Subproblem(self._subproblem_reg(D), center, lr, lr * D)

    def _subproblem_reg(self, D):
        hp = self.hyper
        if self.form == "exact" and self.groups is not None and hp["lam21"] > 0:
            from .. import regularizers

            a = np.sqrt(0.5 * (D + 2.0 * hp["lam2"]))
            return regularizers.get("sparse_group_lasso_weighted", lam1=hp["lam1"], lam21=hp["lam21"],
                                    lam2=hp["lam2"], a=a, n=self.groups.n, groups=self.groups)
        return self.regularizer

    def _advance(self, state, grad, prox_point):
        z, _, target, rows = self._quantities(state, grad)
        for name, value in rows.items():
            state[name][:] = value
        state["z"][:] = z
        state["sigma"][:] = target
        state["x"][:] = prox_point

    # --------------------------------------------------------------- step
    def _stage_curvature(self, state, curvature, write):
        """Hook for Group AdaHessian (validates, and writes when ``write``)."""
        if curvature is not None:
            raise TypeError(f"{self.name} takes no curvature (only group_adahessian does)")
        return True

    def step(self, state, grad, curvature=None):
        """One update; returns ``state["x"]`` (validation before any write)."""
        grad = self._check_grad(state, grad)
        if grad is None or not self._stage_curvature(state, curvature, write=True):
            return state["x"]
        x = state["x"]
        self.kernel()(state.t + 1, x, grad, state["S"], state["sc"], self.h, *self._spec(), self._workspace(x.shape[0]))
        state["t"] = state.t + 1
        return x

    def step_python(self, state, grad, curvature=None):
        """The readable path: subproblem -> solve -> advance. For the exact form
        the solve is the catalogue's metric prox of the weighted sparse group
        lasso (secular root); for the practical form it is line 10 in numpy."""
        grad = self._check_grad(state, grad)
        if grad is None or not self._stage_curvature(state, curvature, write=True):
            return state["x"]
        sub = self._subproblem_staged(state, grad)
        if self.form == "practical":
            hp = self.hyper
            z, D, _, _ = self._quantities(state, grad)
            x = practical_closed_form(z, D, hp["lam1"], hp["lam21"], hp["lam2"], self.groups)
        else:
            x = sub.solve()
        self._advance(state, grad, np.asarray(x).astype(state["x"].dtype))
        state["t"] = state.t + 1
        return state["x"]

    def __repr__(self):
        hyp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items())
        extra = f", q1={self.q1!r}" if self._has_q1 else ""
        return f"{type(self).__name__}({hyp}, form={self.form!r}{extra}, groups={self.groups!r})"

    # ---------------------------------------------------------- examples
    @classmethod
    def approximate_examples(cls, rng):
        """Practical-form instances (GA line 10, the default): with per-coordinate
        denominators their non-zero groups approximate the ``A_t = I`` argmin,
        while every zero decision is exact (claim GA-A1)."""
        if cls.variant in (SGD, MOMENTUM):
            return []  # D_t is constant: the practical form is exact and is in examples()
        n, mixed = cls._layouts(rng)
        kw = {"hessian_diag": quartic_hessian_diag} if cls.variant == ADAHESSIAN else {}
        return [cls(lr=0.1, lam1=0.05, lam21=0.3, lam2=0.01, n=n, groups=mixed, **kw),
                cls(lr=0.1, lam21=0.5, n=n, groups=4, **kw)]

    @classmethod
    def _layouts(cls, rng):
        n = 12
        perm = rng.permutation(n)
        mixed = [perm[:1], perm[1:4], perm[4:6], perm[6:11]]  # sizes 1, 3, 2, 5; one coordinate in no group
        return n, mixed


def _check_eps_positive(hyper):
    hyper["eps"] = check_scalar("eps", hyper["eps"], low=0.0, low_open=True)
    return hyper


# ---------------------------------------------------------------- members
@register
class GroupSGD(_GroupFamily):
    """Group SGD: GA Algorithm 1 with Table 1's SGD row (``m_t = g_t``, ``V_t = I``,
    ``alpha_t = lr / t^power``), i.e. ``D_t = t^power / lr``.

    With ``power = 0`` the update is dual averaging with a constant step,
    ``x_{t+1} = argmin (g_{1:t} - x_1/lr) . x + ||x||^2/(2 lr) + Psi(x)``
    ``= prox_{lr Psi}(x_1 - lr g_{1:t})`` and, with every lambda 0,
    ``torch.optim.SGD(lr)``; with ``power = 1/2`` (Table 1, the default) it is
    SGD with the step ``lr / sqrt(t)`` (torch ``SGD`` + ``LambdaLR``).
    Since ``D_t`` is the same for every coordinate, the practical form is the
    exact minimizer of (6) with ``A_t = I``.
    """

    name = "group_sgd"
    variant = SGD
    source = "GA Alg. 1, Table 1 (SGD row)"
    parent = "torch.optim.SGD(lr) with lr_t = lr / t^power (power = 0: plain SGD)"
    defaults = {"lr": 0.1, "power": 0.5, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}

    def _check_variant_hyper(self, hyper):
        hyper["power"] = check_scalar("power", hyper["power"], low=0.0)
        return hyper

    def _denominator(self, state, grad, t):
        hp = self.hyper
        D = np.full(grad.shape, float(t) ** hp["power"] / hp["lr"])
        return grad.astype(np.float64), D, {}

    @classmethod
    def examples(cls, rng):
        n, mixed = cls._layouts(rng)
        return [
            cls(lr=0.1, lam1=0.5, lam21=3.0, lam2=0.01, n=n, groups=mixed),
            cls(lr=0.05, power=0.0, lam21=2.0, n=n, groups=4, form="exact"),
            cls(lr=0.1, lam1=0.1, lam21=1.0, n=n, groups=mixed, form="exact"),
            cls(lr=0.1, lam1=0.05, lam2=0.1),
            cls(lr=0.01),
        ]


@register
class GroupMomentum(_GroupFamily):
    """Group Momentum: Table 1's MOMENTUM row, ``m_t = momentum m_{t-1} + g_t``,
    ``V_t = I``, ``alpha_t = lr`` (``D_t = 1 / lr``). With every lambda 0 it is
    heavy-ball ``torch.optim.SGD(lr, momentum, dampening=0, nesterov=False)``
    (torch's first buffer is ``g_1``, i.e. ``m_0 = 0``). ``D_t`` is constant, so
    the practical form is the exact ``A_t = I`` minimizer.
    """

    name = "group_momentum"
    variant = MOMENTUM
    source = "GA Alg. 1, Table 1 (MOMENTUM row)"
    parent = "torch.optim.SGD(lr, momentum, dampening=0)"
    defaults = {"lr": 0.01, "momentum": 0.9, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}
    fields = ("z", "sigma", "m")

    def _check_variant_hyper(self, hyper):
        hyper["momentum"] = check_beta(hyper["momentum"], "momentum")
        return hyper

    def _denominator(self, state, grad, t):
        hp = self.hyper
        m = hp["momentum"] * state["m"].astype(np.float64) + grad.astype(np.float64)
        return m, np.full(grad.shape, 1.0 / hp["lr"]), {"m": m}

    @classmethod
    def examples(cls, rng):
        n, mixed = cls._layouts(rng)
        return [
            cls(lr=0.05, lam1=0.5, lam21=3.0, lam2=0.01, n=n, groups=mixed),
            cls(lr=0.05, momentum=0.5, lam21=2.0, n=n, groups=3, form="exact"),
            cls(lr=0.02, lam1=0.1, lam2=0.05),
            cls(lr=0.01, momentum=0.0),
        ]


@register
class GroupAdagrad(_GroupFamily):
    """Group Adagrad (GA Algorithm 3): ``m_t = g_t``, ``V_t = V_{t-1} + g_t^2``
    (``+ eps`` at ``t = 1``), ``Q_t = sqrt(V_t) - sqrt(V_{t-1})``, ``D_t = sqrt(V_t)/lr``.

    ``eps`` sits in ``V_1`` (under the root), so ``Sigma_t = D_t`` as printed
    and with every lambda 0 this is ``torch.optim.Adagrad(lr,
    initial_accumulator_value=eps, eps=0, lr_decay=0)`` for any ``x_1``. With
    ``lam21 = 0`` it is FTRL-Proximal (:class:`proxlab.solvers.ftrl.FTRL` with
    ``beta = 0``, ``initial_accumulator = eps``, FTRL's ``lam2 = 2 lam2``; claim GA-T2).

    Default ``eps = 0.1``: the initial accumulator of the authors' code (tfplus
    Group FTRL, TF's FTRL default); the paper gives no value. ``lr = 0.01``
    (GA Table 5).
    """

    name = "group_adagrad"
    variant = ADAGRAD
    source = "GA Alg. 3"
    parent = "torch.optim.Adagrad(lr, initial_accumulator_value=eps, eps=0)"
    defaults = {"lr": 0.01, "eps": 0.1, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}
    fields = ("z", "sigma", "V")

    def _check_variant_hyper(self, hyper):
        return _check_eps_positive(hyper)

    def _denominator(self, state, grad, t):
        hp = self.hyper
        g = grad.astype(np.float64)
        V = state["V"].astype(np.float64) + g * g
        if t == 1:
            V = V + hp["eps"]
        return g, np.sqrt(V) / hp["lr"], {"V": V}

    @classmethod
    def examples(cls, rng):
        n, mixed = cls._layouts(rng)
        return [
            cls(lr=0.1, lam1=0.05, lam21=0.3, lam2=0.01, n=n, groups=mixed, form="exact"),
            cls(lr=0.1, eps=1e-6, lam21=0.5, n=n, groups=4, form="exact"),
            cls(lr=0.1, lam1=0.1, lam2=0.05),
            cls(lr=0.05),
        ]


class _AdamType(_GroupFamily):
    _has_q1 = True
    fields = ("z", "sigma", "m", "v")

    def __init__(self, regularizer=None, nan_policy="raise", n=None, groups=None, weights="sqrt",
                 form="practical", q1="consistent", **hyper):
        super().__init__(regularizer=regularizer, nan_policy=nan_policy, n=n, groups=groups, weights=weights,
                         form=form, q1=q1, **hyper)

    def _check_variant_hyper(self, hyper):
        hyper["beta1"] = check_beta(hyper["beta1"], "beta1")
        hyper["beta2"] = check_beta(hyper["beta2"], "beta2")
        return _check_eps_positive(hyper)

    def _second_input(self, state, grad):
        return grad.astype(np.float64)

    def _denominator(self, state, grad, t):
        hp = self.hyper
        b1, b2, eps, lr = hp["beta1"], hp["beta2"], hp["eps"], hp["lr"]
        g = grad.astype(np.float64)
        c = self._second_input(state, grad)
        mh = b1 * state["m"].astype(np.float64) + (1 - b1) * g
        vh = b2 * state["v"].astype(np.float64) + (1 - b2) * c * c
        rows = {"m": mh, "v": vh}
        vd = vh
        if self.variant == AMSGRAD:
            # the max is taken after vh is rounded to the state dtype, as in the kernel
            vd = np.maximum(state["vmax"].astype(np.float64), vh.astype(state["v"].dtype).astype(np.float64))
            rows["vmax"] = vd
        D = (np.sqrt(vd / (1 - b2 ** t)) + eps) / lr
        return mh / (1 - b1 ** t), D, rows

    @classmethod
    def _adam_examples(cls, rng, **kw):
        n, mixed = cls._layouts(rng)
        return [
            cls(lr=0.1, lam1=0.05, lam21=0.5, lam2=0.01, n=n, groups=mixed, form="exact", **kw),
            cls(lr=0.05, eps=1e-3, lam21=1.0, n=n, groups=4, form="exact", **kw),
            cls(lr=0.1, lam1=0.02, lam21=0.5, n=n, groups=3, form="exact", q1="printed", **kw),
            cls(lr=0.1, lam1=0.05, lam2=0.1, **kw),
            cls(lr=0.01, **kw),
        ]


@register
class GroupAdam(_AdamType):
    """Group Adam (GA Algorithm 2) with ``Q_1 = sqrt(V_1) + eps`` (``q1="consistent"``).

    ``mhat_t = beta1 mhat_{t-1} + (1 - beta1) g_t``, ``m_t = mhat_t/(1 - beta1^t)``,
    ``vhat_t = beta2 vhat_{t-1} + (1 - beta2) g_t^2``, ``V_t = vhat_t/(1 - beta2^t)``,
    ``D_t = (sqrt(V_t) + eps)/lr`` (line 13). With every lambda 0 it is
    ``torch.optim.Adam(lr, betas, eps)`` for any ``x_1`` and ``eps``;
    ``q1="printed"`` (line 8 as printed, ``Q_1 = sqrt(V_1)``) is not (module docstring).

    Parameters: ``lr`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``eps`` (1e-8,
    > 0: ``D_t`` must be positive on coordinates whose gradients were all 0),
    ``lam1``, ``lam21``, ``lam2``, ``n``/``groups``/``weights`` or ``regularizer``,
    ``form``, ``q1``.
    """

    name = "group_adam"
    variant = ADAM
    source = "GA Alg. 2 (Q_1 = sqrt(V_1) + eps), Thm 1 (corrected) for form='exact'"
    parent = "torch.optim.Adam(lr, betas, eps)"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}

    @classmethod
    def examples(cls, rng):
        return cls._adam_examples(rng)


@register
class GroupAMSGrad(_AdamType):
    """Group AMSGrad: Group Adam with ``D_t = (sqrt(vmax_t / (1 - beta2^t)) + eps)/lr``,
    ``vmax_t = max(vmax_{t-1}, vhat_t)`` — torch's AMSGrad (max of the raw EMA,
    bias-corrected afterwards), so that with every lambda 0 it is
    ``torch.optim.Adam(lr, betas, eps, amsgrad=True)``.

    Readings not implemented (docs/errata/group_lasso.md, A-entries): GA
    Table 1 prints ``V_t = max(V_{t-1}, beta2 V_{t-1} + (1 - beta2) g_t^2)`` (the
    max fed back into the EMA); tfplus takes the max of the bias-corrected
    ``vhat / (1 - beta2^t)``. Note ``vmax_t / (1 - beta2^t)`` can decrease
    (the bias correction grows), so ``Q_t`` can be negative here as in Adam.
    """

    name = "group_amsgrad"
    variant = AMSGRAD
    source = "GA Alg. 1, Table 1 (AMSGRAD row; torch's max)"
    parent = "torch.optim.Adam(lr, betas, eps, amsgrad=True)"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}
    fields = ("z", "sigma", "m", "v", "vmax")

    @classmethod
    def examples(cls, rng):
        return cls._adam_examples(rng)


@register
class GroupAdaHessian(_AdamType):
    """Group AdaHessian: Group Adam with ``vhat`` fed by the squared curvature
    diagonal ``D_t^2`` instead of ``g_t^2`` (GA Table 1, ADAHESSIAN row; Yao et
    al. 2020 with Hessian power 1 and no spatial averaging).

    The curvature of step ``t`` (the Hessian diagonal at ``x_t``) comes from, in
    this order:

    1. ``step(state, grad, curvature=diag)`` (also ``subproblem``/``step_python``);
    2. the ``hessian_diag`` callable given to the constructor, called as
       ``hessian_diag(x_t)`` (an exact diagonal where one is available, or a
       Hutchinson estimate, :func:`hutchinson_diagonal`: unbiased, exact for a
       diagonal Hessian).

    Otherwise the step raises ``ValueError``. ``hessian_diag`` is called at
    every ``subproblem``/``step`` call: pass a stochastic (Hutchinson) estimate
    as ``curvature=`` so that both see the same one. The curvature is validated with the
    gradient (non-finite: the ``nan_policy``) before any write and kept in the
    state row ``curv`` (the kernel reads it there).

    Defaults (AdaHessian's): ``lr = 0.15``, ``beta1 = 0.9``, ``beta2 = 0.999``,
    ``eps = 1e-4``.
    """

    name = "group_adahessian"
    variant = ADAHESSIAN
    source = "GA Alg. 1, Table 1 (ADAHESSIAN row)"
    parent = "AdaHessian (Yao et al. 2020; Hessian power 1, no spatial averaging)"
    defaults = {"lr": 0.15, "beta1": 0.9, "beta2": 0.999, "eps": 1e-4, "lam1": 0.0, "lam21": 0.0, "lam2": 0.0}
    fields = ("z", "sigma", "m", "v", "curv")

    def __init__(self, regularizer=None, nan_policy="raise", n=None, groups=None, weights="sqrt",
                 form="practical", q1="consistent", hessian_diag=None, **hyper):
        if hessian_diag is not None and not callable(hessian_diag):
            raise TypeError(f"hessian_diag must be callable (x -> Hessian diagonal), got {hessian_diag!r}")
        self.hessian_diag = hessian_diag
        super().__init__(regularizer=regularizer, nan_policy=nan_policy, n=n, groups=groups, weights=weights,
                         form=form, q1=q1, **hyper)

    def _resolve_curvature(self, state, curvature):
        if curvature is None:
            if self.hessian_diag is None:
                raise ValueError("group_adahessian needs the Hessian diagonal at x_t: pass "
                                 "step(state, grad, curvature=...) or construct with hessian_diag=callable")
            curvature = self.hessian_diag(state["x"].copy())
        c = np.asarray(curvature)
        if c.shape != state["x"].shape:
            raise ValueError(f"curvature must have the shape of x {state['x'].shape}, got {c.shape}")
        if c.dtype.kind not in "biuf":
            raise TypeError(f"curvature must be real, got dtype {c.dtype}")
        return np.ascontiguousarray(c, dtype=np.float64)

    def _stage_curvature(self, state, curvature, write):
        c = self._resolve_curvature(state, curvature)
        if not np.isfinite(c).all():
            if self.nan_policy == "skip" and write:
                self.skipped += 1
                return False
            i = int(np.flatnonzero(~np.isfinite(c))[0])
            raise ValueError(f"curvature contains a non-finite value at index {i} ({c[i]!r}) at step "
                             f"t = {state.t + 1}; the state was not changed")
        self._staged = c
        if write:
            state["curv"][:] = c
        return True

    def _second_input(self, state, grad):
        # the curvature as the kernel sees it (rounded to the state dtype)
        return self._staged.astype(state["x"].dtype).astype(np.float64)

    @classmethod
    def examples(cls, rng):
        return cls._adam_examples(rng, hessian_diag=quartic_hessian_diag)
