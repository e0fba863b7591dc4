"""Tasks a sweep runs at each point: thin adapters over the subpackages' public functions.

A task's keywords are the keyword names of the Python functions it calls, read from their
signatures (so a keyword another version adds is accepted without a change here); a name two
functions share goes to the first that claims it. Each task returns a few scalars (the table's
columns, named after the result's own fields) and writes the full result to the point's file in
the result's own format (a ``df`` point file is a DoubleFactorization ``.npz`` that
:func:`~physfact.chem.load_double_factorization` reads).

``df``
    keywords of ``double_factorize``, ``molecular_hamiltonian``, ``df_cost``, plus ``energies`` =
    auto | fci | ccsd(t) | none; columns n_orbitals, n_leaves, n_eigenvectors, two-body errors,
    one_norm (lambda), toffolis, logical_qubits, energy errors (mHa).
``bt``
    ``model`` (a :func:`physfact.control.models.load` name or file), keywords of
    ``balanced_truncation``, ``hinf`` = auto | hamiltonian | sampling | none; columns order,
    error_bound, hinf_error, ...
``tt-chain``
    ``model`` = tfim | heisenberg, keywords of ``tfim`` / ``heisenberg``, ``MPS.from_statevector``
    (``tol``, ``max_bond``) and ``ground_state``; columns energy, half_chain_entropy (S(L/2)),
    max_bond_dimension, central_charge, ...
``fem-beam``
    keywords of ``cantilever`` and ``pcg_solve`` (its ``tol`` is also the Kronecker fit's rtol),
    ``solve`` = true | false; columns rank, compression_ratio, relative_error, tip_deflection, ...

The heavy input of a task (the Hamiltonian, the loaded model, the assembled beam) depends only on
the keywords of its ``prepare`` step; points that share them share one prepared input (built once
on a worker, see :mod:`physfact.sweep.runner`).
"""
from __future__ import annotations

import functools
import importlib
import inspect
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from physfact.errors import InputError, UnknownNameError
from physfact.validation import check_int, check_memory, check_positive

REQUIRED = inspect.Parameter.empty
_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "None": ()}


@dataclass(frozen=True)
class Param:
    """A task keyword: its default (``REQUIRED`` if none), accepted types (None: unchecked) and the
    step that receives it."""

    default: object
    types: tuple | None
    step: str


@dataclass(frozen=True)
class Task:
    """A unit of work of a sweep.

    Parameters
    ----------
    name : str
    summary : str
    steps : tuple of (step, "module:function", excluded keywords)
        The functions whose keyword names the task takes, in claiming order.
    compute : callable
        ``compute(kwargs_by_step, prepared) -> (scalars: dict, save: callable(path) or None)``.
    columns : tuple of str
        The scalar results, in table order.
    extra : dict
        Task-level keywords: name -> (default, types).
    prepare : callable, optional
        ``prepare(**kwargs_of_shared_step)`` -> the heavy input shared by points with equal kwargs.
    shared : str or tuple of str, optional
        The step whose keywords ``prepare`` takes, or the keyword names themselves.
    validate : callable, optional
        ``validate(params)``: cheap checks of values (raise InputError) run on every point before
        any worker starts.
    labels : dict
        Axis labels (with units) of keywords and columns, for plots.
    plot : tuple of str
        Columns drawn by ``physfact sweep --plot``.
    """

    name: str
    summary: str
    steps: tuple
    compute: Callable
    columns: tuple
    extra: dict = field(default_factory=dict)
    prepare: Callable | None = None
    shared: str | tuple | None = None
    validate: Callable | None = None
    labels: dict = field(default_factory=dict)
    plot: tuple = ()

    @functools.cached_property
    def parameters(self) -> dict:
        """name -> :class:`Param`, from the steps' signatures plus ``extra``."""
        out = {name: Param(default, types, "task") for name, (default, types) in self.extra.items()}
        for step, target, excluded in self.steps:
            for p in _signature(target).parameters.values():
                if p.name in out or p.name in excluded or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                out[p.name] = Param(p.default, _accepted_types(p), step)
        return out

    def split(self, params: dict) -> dict:
        """params -> {step: {keyword: value}}; task-level keywords with their defaults under "task"."""
        out = {step: {} for step, _, _ in self.steps}
        out["task"] = {name: default for name, (default, _) in self.extra.items()}
        for name, value in params.items():
            out[self.parameters[name].step][name] = value
        return out

    def check(self, params: dict, where: str = "") -> None:
        """Required keywords present, types right, then the task's own value checks."""
        try:
            for name, p in self.parameters.items():
                if p.default is REQUIRED and name not in params:
                    raise InputError(f"task {self.name!r} needs {name!r}; add it to [fixed] or [grid]")
            for name, value in params.items():
                types = self.parameters[name].types
                if types and not _is_instance(value, types):
                    raise InputError(f"{name} = {value!r} must be {' or '.join(t.__name__ for t in types)}")
            if self.validate is not None:
                self.validate(params)
        except InputError as exc:
            raise type(exc)(f"{where}: {exc}" if where else str(exc)) from None

    def prepare_kwargs(self, params: dict) -> dict | None:
        """Keywords of the shared input of this point (None when the task prepares nothing)."""
        if self.prepare is None:
            return None
        if isinstance(self.shared, str):
            return self.split(params)[self.shared]
        return {name: params[name] for name in self.shared if name in params}


def _signature(target: str) -> inspect.Signature:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return inspect.signature(obj)


def _accepted_types(p: inspect.Parameter):
    """Types from a simple annotation ("float | None", "int", ...) or from the default's type."""
    ann = p.annotation
    if isinstance(ann, str) and ann:
        types = ()
        for token in (t.strip() for t in ann.split("|")):
            if token not in _TYPES:
                return None
            types += _TYPES[token]
        return types or None
    if p.default is not REQUIRED and p.default is not None and type(p.default) in (int, float, str, bool):
        return _TYPES[type(p.default).__name__]
    return None


def _is_instance(value, types) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _choice(params, name, choices, default=None):
    value = params.get(name, default)
    if value not in choices:
        raise InputError(f"{name} = {value!r}; choose one of {', '.join(map(str, choices))}")


def _nan_if_none(x):
    return float("nan") if x is None else x


# ------------------------------------------------------------------------------------------- df
def _df_validate(params):
    from physfact.chem.molecules import resolve_geometry

    atoms, _ = resolve_geometry(params["molecule"])
    _choice(params, "energies", ("auto", "fci", "ccsd(t)", "none"), "auto")
    for name in ("tol", "target_error", "leaf_tol", "dE"):
        check_positive(params.get(name), name, allow_zero=name in ("tol", "leaf_tol"))
    check_int(params.get("rank"), "rank", minimum=1)
    _check_basis(params.get("basis", "sto-3g"), tuple(sorted({a.split()[0] for a in re.split(r"[;\n]", atoms) if a.strip()})))


@functools.lru_cache(maxsize=64)
def _check_basis(basis, elements):
    import warnings

    from pyscf import gto

    for el in elements:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gto.basis.load(basis, el)
        except Exception:
            raise InputError(f"PySCF knows no basis {basis!r} for {el}") from None


def _df_prepare(**kwargs):
    from physfact.chem import molecular_hamiltonian

    return molecular_hamiltonian(**kwargs)


def _df_compute(kw, hamiltonian):
    from physfact.chem import double_factorize, energy_errors

    df = double_factorize(hamiltonian, **kw["factorization"])
    err = df.two_body_error
    cost = df.qubitization_cost(**kw["cost"])
    out = {"n_orbitals": df.n_orbitals, "n_electrons": hamiltonian.n_electrons, "n_leaves": df.n_leaves,
           "n_eigenvectors": df.n_eigenvectors, "n_groups": df.n_groups,
           "two_body_error_max_abs": err["max_abs"], "two_body_error_frobenius": err["frobenius"],
           "one_norm": df.one_norm(), "toffolis": cost.toffolis, "toffolis_per_step": cost.toffolis_per_step,
           "logical_qubits": cost.logical_qubits}
    energies = kw["task"]["energies"]
    if energies != "none":
        rep = df.energy_report or energy_errors(df, method=energies)
        out.update(energy_method=rep["method"], exact_energy=rep["exact"], error_A_mha=rep["error_A_mha"],
                   error_B_mha=rep["error_B_mha"])
    return out, df.save


DF = Task(
    name="df",
    summary="double factorization of a molecule: leaves, ERI errors, lambda, Toffolis, qubits, energy errors",
    steps=(("factorization", "physfact.chem.double_factorization:double_factorize",
            {"hamiltonian_or_two_body", "progress", "check"}),
           ("hamiltonian", "physfact.chem.hamiltonian:molecular_hamiltonian", set()),
           ("cost", "physfact.chem.resource_estimates:df_cost", {"df", "lambda_"})),
    extra={"energies": ("auto", (str,))},
    compute=_df_compute, prepare=_df_prepare, shared="hamiltonian", validate=_df_validate,
    columns=("n_orbitals", "n_electrons", "n_leaves", "n_eigenvectors", "n_groups", "two_body_error_max_abs",
             "two_body_error_frobenius", "one_norm", "toffolis", "toffolis_per_step", "logical_qubits",
             "energy_method", "exact_energy", "error_A_mha", "error_B_mha"),
    labels={"n_leaves": "leaves L", "n_eigenvectors": "eigenvectors Xi", "one_norm": r"$\lambda_{DF}$ (Ha)",
            "toffolis": "Toffoli gates", "logical_qubits": "logical qubits",
            "two_body_error_max_abs": "max |(pq|rs) error| (Ha)", "error_B_mha": "energy error B (mHa)",
            "tol": "first-level tolerance (Ha)", "r": "bond length r (Angstrom)",
            "exact_energy": "reference energy (Ha; FCI or CCSD(T), see energy_method)",
            "error_A_mha": "energy error A (mHa)"},
    plot=("n_leaves", "one_norm", "toffolis"),
)


# ------------------------------------------------------------------------------------------- bt
def _bt_validate(params):
    from pathlib import Path

    from physfact.control import models

    model = params["model"]
    if not isinstance(model, str):
        raise InputError(f"model = {model!r} must be a name or a path")
    if model.lower().partition(":")[0] not in models.known_names() and not (
            Path(model).exists() or Path(model + ".A.mtx").is_file() or Path(model + "_A.mtx").is_file()):
        raise UnknownNameError(f"unknown model {model!r}; known: {', '.join(models.known_names())}, "
                               "or a path to a .mat / .mtx file")
    if params.get("rank") is None and params.get("tol") is None:
        raise InputError("give the reduced order rank or an H-infinity error target tol")
    check_int(params.get("rank"), "rank", minimum=1)
    check_positive(params.get("tol"), "tol")
    _choice(params, "hinf", ("auto", "hamiltonian", "sampling", "none"), "auto")


def _bt_prepare(model):
    from physfact.control import models

    return models.load(model)


def _bt_compute(kw, sys):
    from physfact.control import balanced_truncation

    res = balanced_truncation(sys, **kw["reduction"])
    hinf = kw["task"]["hinf"]
    err = None if hinf == "none" else (sys - res.rom).hinf_norm(method=hinf)
    out = {"n": sys.n, "order": res.order, "n_unstable": res.n_unstable, "error_bound": res.error_bound,
           "hinf_error": _nan_if_none(err and float(err)),
           "hinf_error_is_estimate": None if err is None else bool(err.estimate), "solver": res.solver}

    def save(path):
        from physfact.io import save_npz

        rom = res.rom
        save_npz(path, "bt_rom", A=rom.A, B=rom.B, C=rom.C, D=rom.D, hsv=res.hsv, error_bound=res.error_bound,
                 hinf_error=out["hinf_error"], dt=rom.dt if rom.dt is not None else 0.0)

    return out, save


BT = Task(
    name="bt",
    summary="balanced truncation of a model: order, error bound, H-infinity error",
    steps=(("reduction", "physfact.control.balanced_truncation:balanced_truncation", {"sys"}),),
    extra={"model": (REQUIRED, (str,)), "hinf": ("auto", (str,))},
    compute=_bt_compute, prepare=_bt_prepare, shared=("model",), validate=_bt_validate,
    columns=("n", "order", "n_unstable", "error_bound", "hinf_error", "hinf_error_is_estimate", "solver"),
    labels={"order": "reduced order r", "error_bound": r"bound $2\sum_{k>r}\sigma_k$",
            "hinf_error": r"$\|G - G_r\|_{H_\infty}$", "rank": "requested order", "tol": "error target"},
    plot=("order", "error_bound", "hinf_error"),
)


# ------------------------------------------------------------------------------------- tt-chain
def _tt_validate(params):
    model = params.get("model", "tfim")
    _choice(params, "model", ("tfim", "heisenberg"), "tfim")
    if model == "tfim" and "delta" in params:
        raise InputError("delta is a heisenberg keyword; the tfim takes g")
    if model == "heisenberg" and "g" in params:
        raise InputError("g is a tfim keyword; the heisenberg chain takes delta")
    L = check_int(params["L"], "L", minimum=2, allow_none=False)
    check_memory(24.0 * 8 * 2.0 ** min(L, 60), f"exact diagonalization of an L = {L} chain (Lanczos vectors)",
                 "use L <= 24")
    _choice(params, "boundary", ("open", "periodic"), "open")
    check_positive(params.get("tol"), "tol", allow_zero=True)
    check_int(params.get("max_bond"), "max_bond", minimum=1)


def _tt_compute(kw, _prepared=None):
    from physfact.tt import MPS
    from physfact.tt.models import (calabrese_cardy_fit, ground_state, heisenberg, tfim, tfim_energy_exact,
                                    tfim_entropies_exact)

    model = kw["task"]["model"]
    chain_kw = {**kw["chain"], **kw["heisenberg"]}
    chain = tfim(**chain_kw) if model == "tfim" else heisenberg(**chain_kw)
    L, J, boundary = chain_kw["L"], chain_kw.get("J", 1.0), chain_kw.get("boundary", "open")
    gs = ground_state(chain, **kw["ground_state"])
    mps = MPS.from_statevector(gs.psi, dims=2, **kw["mps"])
    S = np.asarray(mps.entanglement_entropy())
    out = {"energy": gs.energy, "residual": gs.residual, "half_chain_entropy": float(S[L // 2 - 1]),
           "max_bond_dimension": int(max(mps.bond_dimensions)), "mps_error": float(mps.error_bound),
           "energy_exact": float("nan"), "entropy_max_error": float("nan"), "central_charge": float("nan")}
    if model == "tfim":
        g = chain_kw.get("g", 1.0)
        out["energy_exact"] = tfim_energy_exact(L, g=g, J=J, boundary=boundary)
        if boundary == "open":
            out["entropy_max_error"] = float(np.max(np.abs(S - tfim_entropies_exact(L, g=g, J=J))))
    if boundary == "open" and L >= 8:
        try:
            out["central_charge"] = calabrese_cardy_fit(S, L=L, boundary="open", even_only=(model == "heisenberg")).c
        except InputError:
            pass

    def save(path):
        from physfact.io import save_npz

        cores = {f"core_{k:04d}": c for k, c in enumerate(mps.cores)}
        save_npz(path, "tt_chain", entropy=S, bond_dimensions=np.asarray(mps.bond_dimensions), energy=gs.energy,
                 **cores)

    return out, save


TT_CHAIN = Task(
    name="tt-chain",
    summary="ground state of a spin chain as an MPS: energy, S(L/2), bond dimension, central charge",
    steps=(("chain", "physfact.tt.spin_chains:tfim", set()),
           ("heisenberg", "physfact.tt.spin_chains:heisenberg", set()),
           ("mps", "physfact.tt.mps:MPS.from_statevector", {"psi", "dims", "order"}),
           ("ground_state", "physfact.tt.spin_chains:ground_state", {"chain"})),
    extra={"model": ("tfim", (str,))},
    compute=_tt_compute, validate=_tt_validate,
    columns=("energy", "energy_exact", "residual", "half_chain_entropy", "entropy_max_error", "max_bond_dimension",
             "mps_error", "central_charge"),
    labels={"g": "transverse field g (units of J)", "L": "sites L", "delta": "anisotropy delta",
            "half_chain_entropy": "S(L/2) (nats)", "max_bond_dimension": "largest bond dimension",
            "central_charge": "c (Calabrese-Cardy fit)", "energy": "E0 (units of J)"},
    plot=("half_chain_entropy", "max_bond_dimension", "energy"),
)


# ------------------------------------------------------------------------------------- fem-beam
def _fem_validate(params):
    from physfact.fem.materials import MATERIALS
    from physfact.fem.problems import ELEMENTS_2D

    for name in ("length", "height", "E", "load"):
        check_positive(params.get(name), name)
    check_int(params.get("ny"), "ny", minimum=1)
    check_int(params.get("nx"), "nx", minimum=1)
    _choice(params, "element", ELEMENTS_2D, "Q1")
    _choice(params, "material", MATERIALS, "constant")
    tol = params.get("tol", 1e-8)
    if not 0 < tol < 1:
        raise InputError(f"tol = {tol!r} must lie in (0, 1)")


def _fem_prepare(**kwargs):
    from physfact.fem import cantilever

    return cantilever(**kwargs)


def _fem_compute(kw, problem):
    from physfact.fem import KroneckerOperator, pcg_solve
    from physfact.lowrank import Truncation

    tol = kw["solve"].get("tol", FEM_BEAM.parameters["tol"].default)
    op = KroneckerOperator.from_problem(problem, rule=Truncation(rtol=tol))
    out = {"n": problem.n, "rank": op.rank, "compression_ratio": op.compression_ratio,
           "relative_error": op.relative_error(problem.K) if problem.K is not None else float("nan"),
           "iterations": None, "residual": float("nan"), "tip_deflection": float("nan")}
    u = None
    if kw["task"]["solve"]:
        res = pcg_solve(problem, **kw["solve"])
        u = res.x
        # mean vertical displacement of the loaded end (u_y is the odd section component), downward positive
        tip = np.isclose(problem.coords[:, 0], problem.params["length"]) & (problem.section % 2 == 1)
        out.update(iterations=res.iterations, residual=float(res.residual), tip_deflection=float(-u[tip].mean()))

    def save(path):
        from physfact.io import save_npz

        arrays = {"u": u} if u is not None else {}
        sv = getattr(op, "singular_values", None)
        if sv is not None:
            arrays["singular_values"] = np.asarray(sv)
        save_npz(path, "fem_beam", rank=op.rank, **arrays)

    return out, save


FEM_BEAM = Task(
    name="fem-beam",
    summary="plane-stress cantilever: Kronecker rank, storage ratio, PCG solve, tip deflection",
    steps=(("problem", "physfact.fem.problems:cantilever", set()),
           ("solve", "physfact.fem.pcg:pcg_solve", {"problem", "b", "operator", "preconditioner"})),
    extra={"solve": (True, (bool,))},
    compute=_fem_compute, prepare=_fem_prepare, shared="problem", validate=_fem_validate,
    columns=("n", "rank", "compression_ratio", "relative_error", "iterations", "residual", "tip_deflection"),
    labels={"length": "beam length (units of the height)", "height": "beam height", "ny": "elements across ny",
            "rank": "Kronecker rank", "compression_ratio": "storage ratio CSR / Kronecker",
            "tip_deflection": "tip deflection (length units)", "iterations": "PCG iterations"},
    plot=("rank", "compression_ratio", "tip_deflection"),
)

#: The built-in tasks by name.
TASKS = {t.name: t for t in (DF, BT, TT_CHAIN, FEM_BEAM)}


def get_task(task) -> Task:
    """A :class:`Task` from its name (or the task itself)."""
    if isinstance(task, Task):
        return task
    if isinstance(task, str) and task in TASKS:
        return TASKS[task]
    raise UnknownNameError(f"unknown task {task!r}; known: {', '.join(TASKS)}")

