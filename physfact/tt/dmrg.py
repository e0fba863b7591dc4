"""Two-site DMRG: the ground state of an MPO as an MPS.

White, PRL 69 (1992) 2863; in the MPS language of Schollwoeck, Ann. Phys. 326 (2011) 96, Sec. 6.3.
The state is kept in mixed canonical form with the centre on two neighbouring sites i, i+1; with
left/right environments L_i (sites < i) and R_{i+1} (sites > i+1) the energy restricted to the two
sites is the effective Hamiltonian

    (H_eff theta)[a, s, t, b] = sum L[a, w, a'] W_i[w, s, s', v] W_{i+1}[v, t, t', u] R[b, u, b'] theta[a', s', t', b'],

applied without forming it: three tensor contractions costing 2 chi^3 d^2 a + chi^2 d^4 a^2 (chi the MPS
bond, a the MPO bond, d the local dimension). Its lowest eigenvector (Lanczos with full
reorthogonalisation, warm-started from the current two-site tensor, stopped on the residual) is
split at its bond by the reduced density matrix's eigenvectors (White's original prescription; the
singular vectors of the two-site tensor) truncated with the shared
:class:`~physfact.lowrank.Truncation` rule -- at most the scheduled bond dimension, and a discarded
weight sum_{i>r} s_i^2 / sum s_i^2 <= ``cutoff`` -- and the centre moves on, updating one
environment. A sweep is left-to-right then right-to-left.

Convergence: after a half-sweep whose energy changed (from the previous half-sweep's) by
<= max(tol, w/10) |E| (w the largest discarded weight: a bond-limited state's energy is not defined
more finely than its truncation) and whose w changed by <= max(10 tol, 10 %) of itself, with the
bond-dimension schedule exhausted, the noise off and the local solves at their final accuracy.

``noise`` (against getting stuck in a symmetry sector or a too-small basis) perturbs the two-site
tensor before the split in the first sweeps, the centre then being the projection of the
unperturbed tensor on the new basis (a simple form of White's density-matrix perturbation,
PRB 72 (2005) 180403).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from physfact.errors import ConvergenceError, InputError
from physfact.lowrank import Truncation, choose_rank
from physfact.tt.mpo import MPO, check_mpo_memory, transfer_left, transfer_right
from physfact.tt.mps import MPS, random_mps_cores
from physfact.validation import check_int, check_positive

#: default cap on the bond dimension when ``max_bond`` is not given
DEFAULT_MAX_BOND = 128
#: number of sweeps the noise stays on (amplitude divided by 10 each sweep)
NOISE_SWEEPS = 3


@dataclass(frozen=True, repr=False)
class DMRGResult:
    """Result of :func:`dmrg`.

    Attributes
    ----------
    energy : float
        <psi|H|psi> of the returned (normalized) MPS, evaluated exactly after the last sweep.
    mps : MPS
        The ground state, normalized, in mixed canonical form with the centre on site 0 or L-1: of
        the states ending the last two half-sweeps, the one of lower energy.
    energies : ndarray, shape (half_sweeps,)
        Lowest local eigenvalue at the end of each half-sweep (left-to-right, right-to-left, ...);
        the last bond of a half-sweep is split without loss, so each is the energy of an actual MPS.
    discarded : ndarray, shape (half_sweeps,)
        Largest discarded weight sum_{i>r} s_i^2 / sum s_i^2 over the bonds after each half-sweep.
    bond_dimensions : ndarray, shape (half_sweeps,)
        Largest bond dimension after each half-sweep.
    discarded_per_bond : ndarray, shape (L-1,)
        Discarded weight at each bond at its last update.
    variance : float
        <H^2> - <H>^2 of the returned state (NaN when not computed; see ``variance`` in :func:`dmrg`).
    matvecs : int
        Applications of effective Hamiltonians in all.
    seconds : float
        Wall time.
    """

    energy: float
    mps: MPS
    energies: np.ndarray
    discarded: np.ndarray
    bond_dimensions: np.ndarray
    discarded_per_bond: np.ndarray
    variance: float
    matvecs: int
    seconds: float

    @property
    def half_sweeps(self) -> int:
        return int(self.energies.size)

    @property
    def sweeps(self) -> float:
        """Sweeps done (one sweep = left-to-right + right-to-left); x.5 when it stopped half-way."""
        return self.energies.size / 2

    def __repr__(self):
        return (f"DMRGResult(energy={self.energy:.12g}, sweeps={self.sweeps:g}, "
                f"max bond {int(self.bond_dimensions[-1])}, "
                f"max discarded {self.discarded[-1]:.1e}, variance={self.variance:.1e})")


def dmrg(mpo: MPO, max_bond=None, tol: float = 1e-10, sweeps=None, init=None, seed=0, cutoff: float = 1e-14,
         schedule=None, noise: float = 0.0, variance=None, callback=None, progress=None) -> DMRGResult:
    """Ground state of a Hermitian MPO by two-site DMRG (see the module docstring).

    Parameters
    ----------
    mpo : MPO
        The Hamiltonian; refused unless ||H - H^dagger||_F <= 1e-6 ||H||_F (:meth:`MPO.hermiticity_error`).
    max_bond : int, optional
        Largest MPS bond dimension (default 128).
    tol : float
        Relative energy convergence: stop after a half-sweep with |E_n - E_{n-1}| <= tol |E_n| (or w/10 |E_n|
        for a largest discarded weight w above 10 tol).
    sweeps : int, optional
        Most sweeps (each left-to-right then right-to-left); default 30. Not converged by then:
        ConvergenceError.
    init : MPS, optional
        Starting state (its bonds are kept unless truncated); default a random MPS from ``seed``.
    seed : int or numpy.random.Generator
        Random start and noise; a fixed seed gives the same result on the same machine.
    cutoff : float
        Largest discarded weight per bond (relative, of the squared Schmidt values), default 1e-14.
    schedule : sequence of int, optional
        Bond-dimension caps per sweep (the last one repeated), each <= ``max_bond``; convergence is
        checked only once the schedule is exhausted. Default: doubling from 16 up to ``max_bond``
        (16, 32, 64 for 64), which saves most of the first sweeps' cost; ``max_bond`` throughout
        for a given ``init``.
    noise : float
        Relative noise amplitude added to the two-site tensor before the split in the first
        :data:`NOISE_SWEEPS` sweeps (decreasing tenfold per sweep); 0 (default) for none.
    variance : bool, optional
        Compute <H^2> - <H>^2 of the result (cost ~ a^2 chi^3 d L); default when max_bond <= 256.
    callback : callable, optional
        Called after every half-sweep with a dict (sweep (0.5, 1, 1.5, ...), direction, energy,
        discarded, max_bond, matvecs, seconds).
    progress : callable, optional
        A progress factory (:mod:`physfact.progress`): a bar of half-sweeps showing the energy, the
        largest bond dimension and discarded weight.

    Returns
    -------
    DMRGResult

    Raises
    ------
    ConvergenceError
        When ``sweeps`` sweeps do not meet the criterion (energies per half-sweep in ``history``).
    """
    if progress is not None:  # the same computation, its half-sweeps reported on a bar
        bar = progress(None, total=None, desc="DMRG half-sweeps", unit="half-sweep")

        def report(info):
            bar.update(1)
            bar.set_postfix_str(f"E={info['energy']:.10f} bond={info['max_bond']} disc={info['discarded']:.1e}")
            if callback is not None:
                callback(info)

        try:
            return dmrg(mpo, max_bond, tol, sweeps, init, seed, cutoff, schedule, noise, variance, callback=report)
        finally:
            bar.close()
    if not isinstance(mpo, MPO):
        raise InputError(f"dmrg needs an MPO (e.g. chain.to_mpo()), got {type(mpo).__name__}")
    L = mpo.n_sites
    if L < 2:
        raise InputError("two-site DMRG needs at least 2 sites")
    herm = mpo.hermiticity_error()
    if herm > 1e-6:  # a ground state of a non-Hermitian operator would be silently meaningless
        raise InputError(f"DMRG needs a Hermitian MPO, but ||H - H^dagger|| / ||H|| = {herm:.1e}; "
                         "add the Hermitian conjugate of every non-Hermitian term")
    max_bond = check_int(DEFAULT_MAX_BOND if max_bond is None else max_bond, "max_bond", minimum=1)
    tol = check_positive(tol, "tol")
    cutoff = check_positive(cutoff, "cutoff", allow_zero=True)
    if cutoff >= 1:
        raise InputError(f"cutoff is a discarded weight in [0, 1), got {cutoff}")
    n_sweeps = check_int(30 if sweeps is None else sweeps, "sweeps", minimum=1)
    noise = check_positive(noise, "noise", allow_zero=True)
    if schedule is None:
        caps = _default_schedule(max_bond) if init is None else [max_bond]
    else:
        caps = [check_int(c, "schedule entry", minimum=1) for c in schedule]
    if not caps or max(caps) > max_bond:
        raise InputError(f"schedule must be a non-empty list of bond dimensions <= max_bond = {max_bond}")
    check_mpo_memory(mpo, max_bond, f"DMRG with max_bond = {max_bond}")
    rng = np.random.default_rng(seed)
    W = [np.asarray(w) for w in mpo.cores]
    dtype = np.result_type(mpo.dtype, np.float64 if init is None else init.cores[0].dtype)
    t_start = time.perf_counter()

    # ---- start: right-canonical MPS, centre on site 0
    if init is None:
        if len(set(mpo.dims)) > 1:
            raise InputError("the random start needs equal local dimensions; pass init=")
        cores = [c.astype(dtype) for c in random_mps_cores(L, min(caps[0], 16), d=mpo.dims[0], seed=rng)]
    else:
        if not isinstance(init, MPS) or tuple(init.dims) != mpo.dims:
            raise InputError(f"init must be an MPS with local dimensions {mpo.dims}")
        cores = [np.array(c, dtype=dtype) for c in init.cores]
    for k in range(L - 1, 0, -1):
        cores[k - 1], cores[k] = _move_center_left(cores[k - 1], cores[k])
    nrm = np.linalg.norm(cores[0])
    if nrm == 0 or not np.isfinite(nrm):
        raise InputError("the starting state is zero or not finite")
    cores[0] = cores[0] / nrm

    one = np.ones((1, 1, 1), dtype=dtype)
    Lenv = [one] + [None] * L
    Renv = [None] * L + [one]
    for k in range(L - 1, 0, -1):
        Renv[k] = transfer_right(Renv[k + 1], cores[k], W[k])
    l_id = [_identity_channel(one)] + [None] * L
    r_id = [None if R is None else _identity_channel(R) for R in Renv]
    Rubb = [None if R is None else R.transpose(1, 2, 0).copy() for R in Renv]  # (u, b', b) for the matvec
    W12 = [_pair(W[i], W[i + 1]) for i in range(L - 1)]

    energies, max_disc, max_bonds = [], [], []
    disc_bond = np.zeros(L - 1)
    matvecs = 0
    res_tol = 1e-3
    at_floor = converged = False
    final_cap_from = 2 * (len(caps) - 1)  # first half-sweep at the last scheduled cap
    for half in range(2 * n_sweeps):
        sweep, direction = divmod(half, 2)
        direction = "right" if direction == 0 else "left"
        cap = caps[min(sweep, len(caps) - 1)]
        amp = noise * 10.0 ** (-sweep) if sweep < NOISE_SWEEPS else 0.0
        rule = Truncation(rank=cap, rtol=np.sqrt(cutoff) if cutoff > 0 else None)
        for i in (range(L - 1) if direction == "right" else range(L - 2, -1, -1)):
            theta = np.tensordot(cores[i], cores[i + 1], axes=([2], [0]))  # (a, s, t, b)
            op = _TwoSite(Lenv[i], l_id[i], W12[i], Rubb[i + 2], r_id[i + 2])
            e_local, theta, n = lanczos_ground(op.matvec, theta.ravel(), res_tol)
            matvecs += n
            A, C, disc = _split(theta.reshape(op.shape), rule, direction, amp, rng)
            disc_bond[i] = disc
            if direction == "right":
                cores[i], cores[i + 1] = A, C
                Lenv[i + 1] = transfer_left(Lenv[i], A, W[i])
                l_id[i + 1] = _identity_channel(Lenv[i + 1])
            else:
                cores[i], cores[i + 1] = C, A
                Renv[i + 1] = transfer_right(Renv[i + 2], A, W[i + 1])
                Rubb[i + 1] = Renv[i + 1].transpose(1, 2, 0).copy()
                r_id[i + 1] = _identity_channel(Renv[i + 1])
        # the end bonds (0 or L-2) are split without loss for d^2-dimensional sides, so each half-sweep
        # ends with the Ritz value of an actual MPS: comparable from one half-sweep to the next
        energies.append(float(e_local))
        # a shallow copy suffices: the steps replace cores, they never modify one in place
        states = [states[-1], (list(cores), direction)] if half else [(list(cores), direction)]
        max_disc.append(float(disc_bond.max()))
        max_bonds.append(max(c.shape[2] for c in cores[:-1]))
        if callback is not None:
            callback({"sweep": (half + 1) / 2, "direction": direction, "energy": energies[-1],
                      "discarded": max_disc[-1], "max_bond": max_bonds[-1], "matvecs": matvecs,
                      "seconds": time.perf_counter() - t_start})
        scale = max(abs(energies[-1]), np.finfo(float).tiny)
        # local residual worth reaching: Ritz energy errors ~ residual^2 well below tol, but no finer than
        # the truncation's own perturbation sqrt(discarded weight) of the state
        floor = max(1e-2 * np.sqrt(tol), 0.3 * np.sqrt(max_disc[-1])) * scale / L
        if half >= 1:
            dE = abs(energies[-1] - energies[-2])
            d_disc = abs(max_disc[-1] - max_disc[-2])
            if (dE <= max(tol, 0.1 * max_disc[-1]) * scale and d_disc <= max(10 * tol, 0.1 * max_disc[-1])
                    and amp == 0 and half - 1 >= final_cap_from and at_floor):
                converged = True
                break
            # the local solves need be no more accurate than the energy change warrants: 30x per sweep
            res_tol = min(res_tol / 5.5, 0.1 * np.sqrt(dE / scale) * scale / L)
        else:
            res_tol = 1e-4 * scale / L
        at_floor = res_tol <= floor  # the next half-sweep's local solves are as accurate as they need be
        res_tol = max(res_tol, floor)
    if not converged:
        raise ConvergenceError(f"DMRG did not converge in {n_sweeps} sweeps (energy change "
                               f"{abs(energies[-1] - energies[-2]):.1e} in the last half-sweep); "
                               "raise sweeps, loosen tol, or add noise", history=energies)
    # the last two half-sweeps each end with an MPS whose energy is that Ritz value: return the lower
    cores, direction = states[int(np.argmin(energies[-2:]))]
    mps = MPS(cores, center=0 if direction == "left" else L - 1)
    energy = mpo.expectation(mps)
    if variance is None:
        variance = max_bond <= 256
    var = mpo.variance(mps) if variance else float("nan")
    return DMRGResult(float(np.real(energy)), mps, np.array(energies), np.array(max_disc), np.array(max_bonds),
                      disc_bond.copy(), var, matvecs, time.perf_counter() - t_start)


def _default_schedule(max_bond):
    """Caps doubling from 16 to ``max_bond``: early sweeps, far from converged, stay cheap."""
    caps = [max_bond]
    while caps[0] > 16:
        caps.insert(0, max(16, caps[0] // 2))
    return caps


class _TwoSite:
    """The effective two-site Hamiltonian as a matvec: BLAS calls on contiguous reshapes, no transposes.

    L (a w, a') @ theta, then the MPO pair as a batched (s t u, w s' t') product, then @ R (u b', b).
    An environment channel that is the identity (the "nothing applied yet" channel of a left
    environment over left-orthonormal sites, the "finished" channel of a right one) skips its GEMM:
    theta goes straight to the MPO product, and the MPO product's channel straight to the output.
    """

    __slots__ = ("shape", "L", "W", "W_id", "R", "r_keep", "r_id")

    def __init__(self, Lenv, l_id, W12, Renv_ubb, r_id):
        a, w, _ = Lenv.shape
        _, s, t, _, _, u = W12.shape
        b = Renv_ubb.shape[2]
        self.shape = (a, s, t, b)
        Wm = W12.transpose(1, 2, 5, 0, 3, 4)  # (s, t, u, w, s', t')
        if l_id is None:
            self.L, self.W_id = Lenv.reshape(a * w, a), None
            self.W = Wm.reshape(s * t * u, w * s * t)
        else:
            keep = [c for c in range(w) if c != l_id]
            self.L = Lenv[:, keep, :].reshape(a * (w - 1), a) if keep else None
            self.W = Wm[:, :, :, keep].reshape(s * t * u, (w - 1) * s * t)
            self.W_id = np.ascontiguousarray(Wm[:, :, :, l_id].reshape(s * t * u, s * t))
        self.r_id = r_id
        if r_id is None:
            self.R, self.r_keep = Renv_ubb.reshape(u * b, b), None
        else:
            keep = [c for c in range(u) if c != r_id]
            self.r_keep = slice(0, u - 1) if r_id == u - 1 else (slice(1, u) if r_id == 0 else keep)
            self.R = Renv_ubb[keep].reshape((u - 1) * b, b) if keep else None

    def matvec(self, x):
        a, s, t, b = self.shape
        st = s * t
        X = x.reshape(a, st * b)
        if self.W_id is None:
            T = np.matmul(self.W, (self.L @ X).reshape(a, -1, b))  # (a, s t u, b')
        else:
            T = np.matmul(self.W_id, x.reshape(a, st, b))
            if self.L is not None:
                T += np.matmul(self.W, (self.L @ X).reshape(a, -1, b))
        if self.r_id is None:
            return (T.reshape(a * st, -1) @ self.R).ravel()
        T = T.reshape(a * st, -1, b)
        out = T[:, self.r_id, :].copy()
        if self.R is not None:
            out += T[:, self.r_keep, :].reshape(a * st, -1) @ self.R
        return out.ravel()


def _identity_channel(env, tol=1e-12):
    """Index c with env[:, c, :] = identity (to ``tol``), or None. env has shape (a, w, a')."""
    a, w, a2 = env.shape
    if a != a2:
        return None
    eye = np.eye(a)
    for c in range(w):
        blk = env[:, c, :]
        if abs(blk[0, 0] - 1) <= tol and np.max(np.abs(blk - eye)) <= tol:
            return c
    return None


def _pair(W1, W2):
    """W1 W2 on two sites as one tensor (w, s, t, s', t', u): bra indices s, t, ket s', t'."""
    return np.tensordot(W1, W2, axes=([3], [0])).transpose(0, 1, 3, 2, 4, 5).copy()


def _split(theta, rule, direction, noise, rng):
    """Split the two-site tensor at its bond, truncated by ``rule``; returns (orthonormal core, centre
    core, discarded weight).

    The kept basis is the dominant eigenvectors of the reduced density matrix of the side the centre
    leaves (White 1992): rho = M M^H (direction "right") or M^H M ("left"), whose eigenvalues are the
    squared singular values of M (half the cost of an SVD: a GEMM and a symmetric eigensolver). The
    new centre is the exact projection of theta on that basis, so only the kept weight's smallest
    values (near eps ||theta||^2) carry the Gram matrix's roundoff. direction "right": theta = A C with
    A (a, s, r) left-orthonormal; "left": theta = C B with B (r, t, b) right-orthonormal (returned first).
    """
    a, s, t, b = theta.shape
    M = theta.reshape(a * s, t * b)
    Mn = M
    if noise > 0:
        Mn = M + noise * np.linalg.norm(M) / np.sqrt(M.size) * rng.standard_normal(M.shape)
    H = Mn.conj().T if np.iscomplexobj(Mn) else Mn.T
    rho = Mn @ H if direction == "right" else H @ Mn
    lam, vec = sla.eigh(rho, check_finite=False, driver="evd")
    lam, vec = np.maximum(lam[::-1], 0.0), vec[:, ::-1]
    sv = np.sqrt(lam)
    r = max(choose_rank(sv, rule), 1)
    tot = float(lam.sum())
    disc = float(lam[r:].sum()) / tot if tot > 0 else 0.0
    vec = vec[:, :r]
    if direction == "right":
        C = (vec.conj().T if np.iscomplexobj(vec) else vec.T) @ M
        C /= np.linalg.norm(C)
        return vec.reshape(a, s, r), C.reshape(r, t, b), disc
    C = M @ vec
    C /= np.linalg.norm(C)
    Bt = vec.conj().T if np.iscomplexobj(vec) else vec.T
    return np.ascontiguousarray(Bt).reshape(r, t, b), C.reshape(a, s, r), disc


def _move_center_left(left, right):
    """QR of the right core's transpose: right becomes right-orthonormal, its factor moves into left."""
    r, n, b = right.shape
    Q, R = sla.qr(right.reshape(r, n * b).T, mode="economic", check_finite=False)
    k = Q.shape[1]
    return np.tensordot(left, R.T, axes=([2], [0])), Q.T.reshape(k, n, b)


def lanczos_ground(matvec, v0, tol, maxiter=40, restarts=20):
    """Lowest eigenpair of a Hermitian operator by Lanczos with full reorthogonalisation.

    Stops when the Ritz residual ||H x - theta x|| = beta_k |y_k| <= tol (``tol`` absolute, in the
    operator's units) or the Krylov space is invariant, restarting from the Ritz vector after
    ``maxiter`` steps, at most ``restarts`` times (then the last Ritz pair is returned: DMRG keeps
    sweeping and judges convergence itself).

    Returns
    -------
    (theta, x, matvecs) with ||x|| = 1.
    """
    n = v0.size
    m = min(maxiter, n)
    cplx = np.iscomplexobj(v0)
    V = np.empty((m, n), dtype=v0.dtype)
    x = v0 / np.linalg.norm(v0)
    count = 0
    for _ in range(restarts):
        alpha, beta = np.zeros(m), np.zeros(m)
        V[0] = x
        k = 0
        while True:
            w = matvec(V[k])
            count += 1
            Vk = V[: k + 1]
            nw = np.linalg.norm(w)
            h = (Vk.conj() if cplx else Vk) @ w  # full reorthogonalisation (Gram-Schmidt, DGKS repeat)
            w -= h @ Vk
            alpha[k] = h[k].real
            b = np.linalg.norm(w)
            if b < 0.7 * nw:
                h = (Vk.conj() if cplx else Vk) @ w
                w -= h @ Vk
                alpha[k] += h[k].real
                b = np.linalg.norm(w)
            theta, y = _lowest_tridiagonal(alpha[: k + 1], beta[:k])
            done = b * abs(y[-1]) <= tol or b <= 1e-13 * max(abs(theta), 1e-300)
            if done or k + 1 >= m:
                break
            beta[k] = b
            k += 1
            V[k] = w / b
        x = y @ V[: k + 1]
        x /= np.linalg.norm(x)
        if done or m == n:
            break
    return float(theta), x, count


_stev = sla.get_lapack_funcs("stev", dtype=np.float64)


def _lowest_tridiagonal(alpha, beta):
    """Lowest eigenpair of the real symmetric tridiagonal matrix (diagonal alpha, off-diagonal beta)."""
    if alpha.size == 1:
        return alpha[0], np.ones(1)
    w, v, info = _stev(alpha, beta, compute_v=1)
    if info != 0:
        raise ConvergenceError(f"the tridiagonal eigensolver (LAPACK stev) failed with info = {info}")
    return w[0], v[:, 0]
