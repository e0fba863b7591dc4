"""Spin-1/2 chains (transverse-field Ising, Heisenberg XXZ) and their exact-diagonalization ground states.

Hamiltonians (Pauli matrices X, Y, Z; sites 0 .. L-1; open chains sum i = 0 .. L-2, periodic
chains add the bond (L-1, 0)):

    TFIM:        H = -J sum_i Z_i Z_{i+1} - g sum_i X_i             (critical at g = J)
    Heisenberg:  H =  J sum_i (S^x_i S^x_{i+1} + S^y_i S^y_{i+1} + Delta S^z_i S^z_{i+1}),  S = sigma/2

Basis: |i_0 i_1 ... i_{L-1}> with i = 0 for Z = +1 (spin up) and index sum_k i_k 2^{L-1-k}
(C order: site 0 is the most significant bit), the convention of :class:`physfact.tt.MPS`.

The operator is matrix-free (each term is a reshape/view of the state vector), so ground states
by ``scipy.sparse.linalg.eigsh`` reach L ~ 22-24 (2^22 amplitudes = 32 MB per vector); that limit
applies to exact diagonalization only. Any L has an MPO (:meth:`SpinChain.to_mpo`) and a DMRG
ground state (``ground_state(chain, method="dmrg")``, :mod:`physfact.tt.dmrg`).
:meth:`SpinChain.to_sparse` builds the same operator independently from Kronecker products of
Pauli matrices (for tests and small L).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from physfact.errors import ConvergenceError, InputError, ResourceError
from physfact.validation import as_generator, check_finite, check_int, check_positive

_BOUNDARIES = ("open", "periodic")
#: beyond this 2^L amplitudes (8 TiB per vector at 40) fit no machine and overflow int64 indices soon after
MAX_SITES = 40


@dataclass(frozen=True)
class SpinChain:
    """A spin-1/2 chain Hamiltonian.

    Attributes
    ----------
    model : {"tfim", "heisenberg"}
    L : int
        Number of sites.
    params : dict
        ``{"J", "g"}`` for the TFIM, ``{"J", "delta"}`` for Heisenberg XXZ.
    boundary : {"open", "periodic"}
    """

    model: str
    L: int
    params: dict = field(default_factory=dict)
    boundary: str = "open"

    def __post_init__(self):
        if self.model not in ("tfim", "heisenberg"):
            raise InputError(f"model must be 'tfim' or 'heisenberg', got {self.model!r}")
        check_int(self.L, "L", minimum=2)
        if self.boundary not in _BOUNDARIES:
            raise InputError(f"boundary must be 'open' or 'periodic', got {self.boundary!r}")
        need = ("J", "g") if self.model == "tfim" else ("J", "delta")
        if not isinstance(self.params, dict) or set(self.params) != set(need):
            raise InputError(f"{self.model} parameters must be a dict with keys {need}, got {self.params!r}; "
                             f"use {self.model}(L, ...) to build the chain")
        for name, value in self.params.items():
            check_finite(value, f"{self.model} parameter {name}")

    @property
    def dim(self) -> int:
        return 2**self.L

    def check_ed_size(self, vectors: int = 1, what: str = "exact diagonalization") -> None:
        """Refuse a dense-vector computation on this chain (``vectors`` vectors of 2^L amplitudes)
        that cannot fit in memory, or whose 2^L index overflows, before anything is allocated."""
        from physfact.validation import check_memory

        hint = "use fewer sites (or a DMRG ground state, which holds only the MPS)"
        if self.L > MAX_SITES:
            raise ResourceError(f"{what} needs 2^L amplitudes per vector; L = {self.L} > {MAX_SITES} is beyond any "
                             f"machine (2^{self.L} x 8 bytes); {hint}")
        check_memory(8.0 * vectors * self.dim, f"{what} of L = {self.L} sites ({vectors} vectors of 2^{self.L})", hint)

    def terms(self) -> list:
        """The Hamiltonian as (coefficient, [(site, 2x2 matrix), ...]) terms with real matrices
        (XX + YY = 2 (S+S- + S-S+) with S+- = (X +- iY)/2), the input of :meth:`MPO.from_terms`."""
        X = np.array([[0.0, 1.0], [1.0, 0.0]])
        Z = np.diag([1.0, -1.0])
        Sp = np.array([[0.0, 1.0], [0.0, 0.0]])  # |0><1| raises S^z (i = 0 is spin up)
        Sm = Sp.T
        out = []
        if self.model == "tfim":
            J, g = self.params["J"], self.params["g"]
            out += [(-J, [(i, Z), (j, Z)]) for i, j in self.bonds()]
            out += [(-g, [(k, X)]) for k in range(self.L)]
        else:
            J, delta = self.params["J"], self.params["delta"]
            for i, j in self.bonds():
                out += [(J / 2.0, [(i, Sp), (j, Sm)]), (J / 2.0, [(i, Sm), (j, Sp)]),
                        (J * delta / 4.0, [(i, Z), (j, Z)])]
        return out

    def to_mpo(self):
        """The Hamiltonian as an :class:`~physfact.tt.mpo.MPO` (any L; bond dimension 3 for the TFIM,
        5 for XXZ with open boundaries; a periodic chain adds the long bond's states)."""
        from physfact.tt.mpo import MPO

        return MPO.from_terms(self.L, 2, self.terms())

    def bonds(self):
        b = [(i, i + 1) for i in range(self.L - 1)]
        if self.boundary == "periodic" and self.L > 2:
            b.append((0, self.L - 1))
        return b

    def _zz_diagonal(self) -> np.ndarray:
        idx = np.arange(self.dim, dtype=np.int64)
        z = [1.0 - 2.0 * ((idx >> (self.L - 1 - k)) & 1) for k in range(self.L)]
        diag = np.zeros(self.dim)
        for i, j in self.bonds():
            diag += z[i] * z[j]
        return diag

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """H v without forming H."""
        if self.L > MAX_SITES:
            self.check_ed_size()
        v = np.asarray(v)
        L, N = self.L, self.dim
        if v.shape != (N,):
            raise InputError(f"a state of this chain has {N} amplitudes, got shape {v.shape}")
        diag = self._diag_cache()
        out = diag * v
        if self.model == "tfim":
            g = self.params["g"]
            for k in range(L):
                v3 = v.reshape(2**k, 2, 2 ** (L - k - 1))
                out.reshape(2**k, 2, 2 ** (L - k - 1))[...] -= g * v3[:, ::-1, :]
        else:
            hop = self.params["J"] / 2.0  # (XX + YY)/4 = (S+S- + S-S+)/2
            for i, j in self.bonds():
                shape = (2**i, 2, 2 ** (j - i - 1), 2, 2 ** (L - j - 1))
                v5 = v.reshape(shape)
                o5 = out.reshape(shape)
                o5[:, 0, :, 1, :] += hop * v5[:, 1, :, 0, :]
                o5[:, 1, :, 0, :] += hop * v5[:, 0, :, 1, :]
        return out

    def parity_matvec(self, u: np.ndarray, parity: float) -> np.ndarray:
        """TFIM: H restricted to the parity sector P = prod_i X_i = ``parity``, in the basis
        f_b = (|b> + parity |2^L-1-b>) / sqrt(2), b < 2^{L-1} (site 0 up), without forming the full state:
        the ZZ diagonal is flip-invariant, X_k (k >= 1) maps f_b to f_{b with bit k flipped}, and
        X_0 maps f_b to parity * f_{2^{L-1}-1-b}, so each term is a view of ``u`` (half the cost of H v)."""
        if self.model != "tfim":
            raise InputError("parity_matvec is the TFIM's; use Sector.embed/restrict around matvec")
        L, M = self.L, self.dim // 2
        if u.shape != (M,):
            raise InputError(f"a parity-sector state of this chain has {M} amplitudes, got shape {u.shape}")
        g = self.params["g"]
        out = self._diag_cache()[:M] * u
        out -= (g * parity) * u[::-1]
        for k in range(1, L):
            u3 = u.reshape(2 ** (k - 1), 2, 2 ** (L - k - 1))
            out.reshape(2 ** (k - 1), 2, 2 ** (L - k - 1))[...] -= g * u3[:, ::-1, :]
        return out

    def _diag_cache(self):
        # frozen dataclass: memoize in __dict__ directly
        d = self.__dict__.get("_diag")
        if d is None:
            zz = self._zz_diagonal()
            if self.model == "tfim":
                d = -self.params["J"] * zz
            else:
                d = self.params["J"] * self.params["delta"] / 4.0 * zz
            object.__setattr__(self, "_diag", d)
        return d

    def linear_operator(self):
        """A real symmetric ``scipy.sparse.linalg.LinearOperator`` for ``eigsh``."""
        from scipy.sparse.linalg import LinearOperator

        self.check_ed_size()
        return LinearOperator((self.dim, self.dim), matvec=self.matvec, dtype=float)

    def to_sparse(self) -> sp.csr_matrix:
        """The Hamiltonian as a sparse matrix, built from Kronecker products of Pauli matrices
        (independent of :meth:`matvec`; meant for L <= 16)."""
        if self.L > 20:
            raise InputError(f"to_sparse is meant for small chains (L <= 20), got L = {self.L}; "
                             "use linear_operator() or to_mpo()")
        X = sp.csr_matrix([[0.0, 1.0], [1.0, 0.0]])
        Y = sp.csr_matrix(np.array([[0.0, -1j], [1j, 0.0]]))
        Z = sp.csr_matrix([[1.0, 0.0], [0.0, -1.0]])

        def op(mats):  # mats: {site: 2x2}
            out = sp.identity(1, format="csr")
            for k in range(self.L):
                out = sp.kron(out, mats.get(k, sp.identity(2, format="csr")), format="csr")
            return out

        H = sp.csr_matrix((self.dim, self.dim), dtype=complex)
        if self.model == "tfim":
            J, g = self.params["J"], self.params["g"]
            for i, j in self.bonds():
                H = H - J * op({i: Z, j: Z})
            for k in range(self.L):
                H = H - g * op({k: X})
        else:
            J, delta = self.params["J"], self.params["delta"]
            for i, j in self.bonds():
                H = H + J / 4.0 * (op({i: X, j: X}) + op({i: Y, j: Y}) + delta * op({i: Z, j: Z}))
        if abs(H.imag).max() > 1e-14:
            raise RuntimeError("a real spin-chain Hamiltonian came out complex")
        return H.real.tocsr()


def tfim(L: int, g: float = 1.0, J: float = 1.0, boundary: str = "open") -> SpinChain:
    """Transverse-field Ising chain H = -J sum Z_i Z_{i+1} - g sum X_i (critical at g = J).

    Any L >= 2 (only exact diagonalization is size-limited); g and J finite (units of energy)."""
    return SpinChain("tfim", L, {"J": check_finite(J, "J"), "g": check_finite(g, "g")}, boundary)


def heisenberg(L: int, J: float = 1.0, delta: float = 1.0, boundary: str = "open") -> SpinChain:
    """Heisenberg XXZ chain H = J sum (S^x S^x + S^y S^y + delta S^z S^z), S = sigma/2.

    Any L >= 2 (only exact diagonalization is size-limited); J and delta finite."""
    return SpinChain("heisenberg", L, {"J": check_finite(J, "J"), "delta": check_finite(delta, "delta")}, boundary)


#: ``ground_state(method="auto")`` uses exact diagonalization (Lanczos on 2^L amplitudes) up to this L
ED_AUTO_MAX_SITES = 18


#: the returned state counts as undetermined (a degenerate ground space) when the Davis-Kahan bound
#: on its angle to the true ground state, residual / (E_1 - E_0), exceeds this: entanglement and
#: correlations, Lipschitz in the state, are then reliable to no better than ~1e-6
STATE_ANGLE_TOL = 1e-6
#: sectors up to this dimension are diagonalized densely (ARPACK needs dim > k + 1)
DENSE_MAX_DIM = 16


@dataclass(frozen=True, repr=False)
class GroundState:
    """Lowest eigenpair of a chain, in a symmetry sector or the full space.

    Attributes
    ----------
    energy : float
        E_0 (units of J).
    psi : ndarray, shape (2^L,), or None
        Normalized ground state, C order (site 0 most significant bit), sign fixed so the
        largest-magnitude amplitude is positive; None for DMRG (the vector is never formed).
    chain : SpinChain
    residual : float
        ||H psi - E_0 psi|| (for DMRG sqrt(<H^2> - <H>^2), the same quantity for a normalized MPS;
        NaN when the variance was not computed).
    gap : float
        E_1 - E_0 within the space solved in (the sector, or the full space); NaN for DMRG and for a
        one-dimensional sector.
    method : {"lanczos", "dmrg"}
    dmrg : DMRGResult or None
        Sweep history for DMRG (of the state before its projection onto ``sector``).
    sector : Sector or None
        The symmetry sector solved in (:mod:`physfact.tt.symmetry`), None for the full space.
    state_error : float
        Lanczos: Davis-Kahan bound min(1, residual / gap) on sin of the angle between ``psi`` and the
        exact ground state of the space solved in. DMRG without a sector: sin of the angle between the
        MPS and the nearer parity sector, sqrt((1 - |<P>|) / 2) (H commutes with P = prod_i X_i, so
        a state mixing the sectors is a member of a degenerate pair); NaN for DMRG in a sector.
    degenerate : bool
        ``state_error`` > :data:`STATE_ANGLE_TOL` (DMRG: also above what its truncation alone can
        cause, sqrt(10 sum of discarded weights)): the ground space is (near-)degenerate at the
        solver's resolution and the state is an arbitrary member of it (a
        :class:`~physfact.tt.symmetry.DegenerateGroundStateWarning` was issued).
    energies : tuple of float
        The lowest eigenvalues found (ascending; at least two where the space allows).
    mps : MPS
        The state as an MPS: the DMRG state, or (ED) the TT-SVD of ``psi`` formed on first use.
    """

    energy: float
    psi: np.ndarray | None
    chain: SpinChain
    residual: float
    gap: float = float("nan")
    method: str = "lanczos"
    dmrg: object = None
    sector: object = None
    state_error: float = float("nan")
    degenerate: bool = False
    energies: tuple = ()
    _mps: object = field(default=None, compare=False)

    @property
    def mps(self):
        if self._mps is None:
            from physfact.tt.mps import MPS

            object.__setattr__(self, "_mps", MPS.from_statevector(self.psi, dims=2))
        return self._mps

    def __repr__(self):
        where = self.sector.label() if self.sector is not None else "full space"
        return (f"GroundState({self.chain.model}, L={self.chain.L}, {self.chain.boundary}, {self.method}, {where}, "
                f"energy={self.energy:.12g}, gap={self.gap:.2e}, residual={self.residual:.2e}"
                f"{', DEGENERATE' if self.degenerate else ''})")


def check_lanczos_size(chain: SpinChain, k: int = 1) -> None:
    """Refuse a Lanczos ground state that cannot fit in memory, before allocating: ARPACK keeps
    ncv = max(2k + 1, 20) basis vectors of 2^L amplitudes plus a few work vectors."""
    chain.check_ed_size(vectors=max(2 * k + 1, 20) + 6, what="Lanczos (exact diagonalization)")


def ground_state(chain: SpinChain, tol: float = None, seed: int = 0, k: int = 1, method: str = "auto",
                 max_bond: int = None, callback=None, sector="auto", **dmrg_options) -> GroundState:
    """Ground state by exact diagonalization (Lanczos) or DMRG, in a symmetry sector.

    The lowest two eigenpairs are always computed, so the result carries the gap and flags a
    (near-)degenerate ground space (``degenerate``, ``state_error``), warning with
    :class:`~physfact.tt.symmetry.DegenerateGroundStateWarning`: there the returned vector is an
    arbitrary member of the ground space and its entanglement is arbitrary. A symmetry sector
    makes it unique: by default the sector that holds the finite-size ground state
    (:func:`~physfact.tt.symmetry.default_sector`), e.g. the even parity of the open TFIM, whose
    ordered phase then gives the symmetric cat state (S(L/2) = ln 2 + O(g^2)) deterministically.

    Parameters
    ----------
    chain : SpinChain
    tol : float, optional
        Lanczos: ARPACK's relative eigenvalue tolerance (default 1e-12). DMRG: the relative energy
        change per sweep at convergence (default 1e-10).
    seed : int
        Start vector (Lanczos) or random start MPS (DMRG).
    k : int
        Lanczos only: eigenpairs computed (at least 2; ``energies`` holds them).
    method : {"auto", "lanczos", "dmrg"}
        "auto": Lanczos for L <= :data:`ED_AUTO_MAX_SITES`, DMRG above.
    max_bond : int, optional
        DMRG bond-dimension cap (see :func:`physfact.tt.dmrg.dmrg`; default 128).
    callback : callable, optional
        DMRG: called after each sweep (see :func:`physfact.tt.dmrg.dmrg`).
    sector : "auto", None or dict
        ``{"parity": +1 or -1}`` (P = prod_i X_i; TFIM and XXZ) or ``{"sz": S^z}`` (XXZ); "auto"
        (default): the ground state's sector where known, else the full space; None: the full space.
        Lanczos solves in the sector's basis (dimension 2^{L-1} for parity, binom(L, L/2 - S^z) for
        S^z). DMRG supports parity only: the converged MPS is projected, (1 + s P) |psi> / norm
        (exact; P is a product operator), and its energy and variance are re-evaluated; an S^z
        sector is not imposed on DMRG ("auto" then means none).
    **dmrg_options
        Further keywords for :func:`physfact.tt.dmrg.dmrg` (cutoff, sweeps, schedule, noise, ...).

    Raises :class:`ConvergenceError` if ARPACK or DMRG does not converge (or the DMRG state has
    almost no weight in the parity sector asked for); :class:`InputError` for a sector the chain
    does not have.
    """
    from physfact.tt.symmetry import make_sector

    if not isinstance(chain, SpinChain):
        raise InputError(f"expected a SpinChain (tfim(...) or heisenberg(...)), got {type(chain).__name__}")
    if method not in ("auto", "lanczos", "dmrg"):
        raise InputError(f"method must be 'auto', 'lanczos' or 'dmrg', got {method!r}")
    sec = make_sector(chain, sector)
    if method == "dmrg" or (method == "auto" and chain.L > ED_AUTO_MAX_SITES):
        if k != 1:
            raise InputError("the gap (k = 2) is available from exact diagonalization only (method='lanczos')")
        if sec is not None and sec.name == "sz":
            if sector != "auto":
                raise InputError("DMRG does not impose an S^z sector; use method='lanczos' or sector={'parity': ...}")
            sec = None
        return _dmrg_ground_state(chain, sec, tol, seed, max_bond, callback, dmrg_options)
    if dmrg_options or max_bond is not None:
        raise InputError(f"options {sorted(dmrg_options) + (['max_bond'] if max_bond is not None else [])} "
                         "apply to DMRG only; pass method='dmrg'")
    return _lanczos_ground_state(chain, sec, tol, seed, k)


def _lanczos_ground_state(chain, sec, tol, seed, k) -> GroundState:
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    tol = 1e-12 if tol is None else tol
    k = check_int(k, "k", minimum=1)
    if k > min(chain.dim - 1, 20):
        raise InputError(f"k = {k} eigenpairs: Lanczos gives 1 .. {min(chain.dim - 1, 20)} for this chain")
    tol = check_positive(tol, "tol", allow_none=False)
    n = chain.dim if sec is None else sec.dim
    k_eff = min(max(k, 2), n)
    check_lanczos_size(chain, k_eff)
    rng = as_generator(seed)
    if chain.L <= 12:
        H = chain.to_sparse()
        if sec is not None:
            E = sec.isometry()
            H = (E.T @ H @ E).tocsr()
    elif sec is None:
        H = chain.linear_operator()
    elif sec.name == "parity" and chain.model == "tfim":
        H = LinearOperator((n, n), matvec=lambda u: chain.parity_matvec(np.ravel(u), sec.value), dtype=float)
    else:
        H = LinearOperator((n, n), matvec=lambda u: sec.restrict(chain.matvec(sec.embed(np.ravel(u)))), dtype=float)
    if n <= max(DENSE_MAX_DIM, k_eff + 1):
        w, V = np.linalg.eigh(H.toarray())
        w, V = w[:k_eff], V[:, :k_eff]
    else:
        v0 = rng.standard_normal(n)
        try:
            w, V = eigsh(H, k=k_eff, which="SA", v0=v0, tol=tol, maxiter=max(2000, 20 * chain.L))
        except ArpackNoConvergence as exc:
            raise ConvergenceError(f"Lanczos did not converge for {chain}; loosen tol or check the model",
                                   history=list(exc.eigenvalues)) from None
    order = np.argsort(w)
    w, V = w[order], V[:, order]
    psi = V[:, 0] if sec is None else sec.embed(V[:, 0])
    psi = psi / np.linalg.norm(psi)
    if psi[np.argmax(np.abs(psi))] < 0:
        psi = -psi
    res = float(np.linalg.norm(chain.matvec(psi) - w[0] * psi))
    gap = float(w[1] - w[0]) if w.size > 1 else float("nan")
    state_error = float("nan") if w.size < 2 else (min(1.0, res / gap) if gap > 0 else 1.0)
    degenerate = bool(state_error > STATE_ANGLE_TOL)
    if degenerate:
        _warn_degenerate(chain, sec, f"E1 - E0 = {gap:.1e} is within the solver's resolution (residual {res:.1e} "
                         f"bounds the state's angle to the ground state only by sin <= {min(state_error, 1.0):.1e})")
    return GroundState(float(w[0]), psi, chain, res, gap, sector=sec, state_error=state_error,
                       degenerate=degenerate, energies=tuple(float(x) for x in w))


def _warn_degenerate(chain, sec, detail, dmrg=False):
    import warnings

    from physfact.tt.symmetry import SYMMETRIES, DegenerateGroundStateWarning

    where = f"in the {sec.label()} sector" if sec is not None else "without a symmetry sector"
    if sec is None:
        example = "{'parity': +1}" if chain.model == "tfim" or dmrg else f"{{'sz': {0 if chain.L % 2 == 0 else 0.5}}}"
        advice = f"solve in a symmetry sector, e.g. ground_state(chain, sector={example})"
    else:
        others = [s for s in SYMMETRIES[chain.model] if s != sec.name]
        advice = (f"the degeneracy is inside the sector; try the {others[0]} sector" if others else
                  "the degeneracy is inside the sector; use a quantity that does not depend on the choice")
    warnings.warn(f"{chain.model} L = {chain.L} {chain.params}: the ground space is (near-)degenerate {where}: "
                  f"{detail}, so the returned state's entanglement and correlations are not determined by H; "
                  f"{advice}", DegenerateGroundStateWarning, stacklevel=4)  # the caller of ground_state


#: a DMRG state whose weight in the requested parity sector is below this is refused (projecting it
#: would amplify its errors by 1 / weight)
MIN_SECTOR_WEIGHT = 1e-2


def _dmrg_ground_state(chain, sec, tol, seed, max_bond, callback, dmrg_options) -> GroundState:
    from physfact.tt.dmrg import dmrg

    mpo = chain.to_mpo()
    res = dmrg(mpo, max_bond=max_bond, tol=1e-10 if tol is None else tol, seed=seed, callback=callback,
               **dmrg_options)
    mps, energy, variance = res.mps, res.energy, res.variance
    if sec is not None:
        mps = project_parity(mps, sec.value, max_bond=max_bond)
        energy = float(mpo.expectation(mps))
        variance = mpo.variance(mps) if np.isfinite(res.variance) else float("nan")
    residual = float(np.sqrt(max(variance, 0.0))) if np.isfinite(variance) else float("nan")
    degenerate, state_error = False, float("nan")
    if sec is None:  # H commutes with P: an eigenstate mixing both parities means a degenerate pair
        p = parity_expectation(mps)
        state_error = float(np.sqrt(max(0.0, (1.0 - abs(p)) / 2.0)))  # sin of the angle to the nearer sector
        floor = float(np.sqrt(10.0 * np.sum(res.discarded_per_bond)))  # what truncation alone can break
        degenerate = state_error > max(STATE_ANGLE_TOL, floor)
        if degenerate:
            _warn_degenerate(chain, sec, f"the DMRG state mixes the two parity sectors (<prod X> = {p:.3g}; energy "
                             f"{energy:.12g}), i.e. it is a symmetry-broken member of a near-degenerate pair", dmrg=True)
    return GroundState(energy, None, chain, residual, method="dmrg", dmrg=res, sector=sec, energies=(energy,),
                       state_error=state_error, degenerate=degenerate, _mps=mps)


def _flip_all(mps):
    """P |psi> as an MPS, P = prod_i X_i (the physical index of every core reversed)."""
    from physfact.tt.mps import MPS

    return MPS([np.asarray(c)[:, ::-1, :] for c in mps.cores])


def parity_expectation(mps) -> float:
    """<psi| prod_i X_i |psi> / <psi|psi> of an MPS of spins 1/2 (O(L chi^3))."""
    return float(np.real(mps.dot(_flip_all(mps))) / mps.norm() ** 2)


def project_parity(mps, parity: float, max_bond: int = None):
    """(1 + parity P) |psi> / norm for P = prod_i X_i (spin flip on every site), an MPS of bond dimension
    at most 2 chi, recompressed (relative rounding tolerance 1e-13, at most ``max_bond``; the cat state of
    a symmetry-broken state of bond dimension chi needs up to 2 chi).

    Raises :class:`ConvergenceError` when less than :data:`MIN_SECTOR_WEIGHT` of the state lies in the
    sector (the state was found in the other sector)."""
    mps = mps.normalized()
    projected = mps + _flip_all(mps) * float(parity)
    weight = projected.norm() / 2.0  # = sqrt((1 + s <P>) / 2)
    if weight < MIN_SECTOR_WEIGHT:
        raise ConvergenceError(f"the DMRG state has weight {weight:.1e} in the parity {int(parity):+d} sector "
                               "(it converged in the other one); pass the other parity, another seed, or sector=None")
    return projected.round(tol=1e-13, max_rank=max_bond).normalized()
