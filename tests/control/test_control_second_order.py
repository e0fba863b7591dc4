"""Second-order systems and SOBT: first-order form vs the second-order transfer function, the five
variants against pyMOR's SOBT reductors on LF10, structure and stability, low-rank vs dense."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from physfact.control import SecondOrderSystem, balanced_truncation, models, second_order_balanced_truncation
from physfact.errors import InputError

VARIANTS = ("p", "v", "pv", "vp", "fv")


@pytest.fixture(scope="module")
def lf10(control_data):
    raw = scipy.io.loadmat(control_data / "LF10.mat")
    return raw, SecondOrderSystem(raw["M"], raw["D"], raw["K"], raw["B"], raw["C"])


def _chain(nq, seed=0):
    """Mass-spring chain with Rayleigh damping D = 0.05 M + 0.05 K, force at the last mass,
    outputs: position of the first mass and velocity of the middle one."""
    rng = np.random.default_rng(seed)
    T = sp.diags([-np.ones(nq - 1), 2.0 * np.ones(nq), -np.ones(nq - 1)], [-1, 0, 1], format="csr")
    M = sp.diags(1.0 + rng.random(nq), format="csr")
    K = 4.0 * T
    B = np.zeros((nq, 1))
    B[-1] = 1.0
    Cp, Cv = np.zeros((1, nq)), np.zeros((1, nq))
    Cp[0, 0] = 1.0
    Cv[0, nq // 2] = 1.0
    return SecondOrderSystem(M, 0.05 * M + 0.05 * K, K, B, Cp, Cv)


def test_first_order_form_matches_second_order_response():
    sos = _chain(30)
    fo = sos.to_first_order()
    assert fo.n == sos.n == 60 and fo.E is not None
    w = np.logspace(-2, 1, 25)
    Gs = sos.freqresp(w)
    assert np.abs(fo.freqresp(w) - Gs).max() <= 1e-10 * np.abs(Gs).max()
    dense = SecondOrderSystem(sos.M.toarray(), sos.D.toarray(), sos.K.toarray(), sos.B, sos.Cp, sos.Cv)
    assert np.abs(dense.to_first_order().freqresp(w) - Gs).max() <= 1e-10 * np.abs(Gs).max()


def test_models_load_returns_second_order(control_data, lf10):
    raw, _ = lf10
    s = models.load(control_data / "LF10.mat")
    assert isinstance(s, SecondOrderSystem) and s.nq == 18
    w = [1.0, 50.0]
    M, D, K = (raw[k].toarray() for k in ("M", "D", "K"))
    ref = np.stack([raw["C"].toarray() @ np.linalg.solve(-x**2 * M + 1j * x * D + K, raw["B"].toarray()) for x in w])
    assert np.allclose(s.freqresp(w), ref, rtol=1e-10)


@pytest.mark.parametrize("variant", VARIANTS)
def test_sobt_variants_vs_pymor_on_lf10(lf10, variant):
    pytest.importorskip("pymor", reason="pyMOR comparison needs pymor (the 'test' extra)")
    from pymor.core.logger import set_log_levels
    from pymor.models.iosys import SecondOrderModel
    from pymor.reductors import sobt

    set_log_levels({"pymor": "ERROR"})
    raw, sos = lf10
    r = 3
    res = second_order_balanced_truncation(sos, rank=r, variant=variant)
    rom = res.rom
    assert isinstance(rom, SecondOrderSystem) and rom.nq == r and res.order == r
    assert rom.M.shape == rom.D.shape == rom.K.shape == (r, r) and rom.B.shape == (r, 1)
    assert rom.is_stable()
    cls = {"p": sobt.SOBTpReductor, "v": sobt.SOBTvReductor, "pv": sobt.SOBTpvReductor,
           "vp": sobt.SOBTvpReductor, "fv": sobt.SOBTfvReductor}[variant]
    prom = cls(SecondOrderModel.from_matrices(raw["M"], raw["D"], raw["K"], raw["B"], raw["C"])).reduce(r)

    def mat(op, shape):
        return op.matrix if hasattr(op, "matrix") else np.zeros(shape)  # pyMOR's ZeroOperator for Cv

    ref = SecondOrderSystem(mat(prom.M, (r, r)), mat(prom.E, (r, r)), mat(prom.K, (r, r)), mat(prom.B, (r, 1)),
                            mat(prom.Cp, (1, r)), mat(prom.Cv, (1, r)))
    err = (sos - rom).hinf_norm()
    if ref.is_stable():  # pyMOR's vp ROM of order 3 has an unstable pole (infinite error)
        assert err <= 1.5 * (sos - ref).hinf_norm()
    assert err <= 1e-5 * sos.hinf_norm()  # and it is a good model


def test_sobt_fv_is_a_congruence(lf10):
    _, sos = lf10
    res = second_order_balanced_truncation(sos, rank=4, variant="fv")
    assert np.array_equal(res.V, res.W)
    for X in (res.rom.M, res.rom.K):
        assert np.allclose(X, X.T, rtol=0, atol=1e-12 * np.abs(X).max())
        assert np.linalg.eigvalsh(0.5 * (X + X.T)).min() > 0


@pytest.mark.parametrize("variant", ["p", "v", "fv"])
def test_sobt_lowrank_matches_dense(variant):
    sos = _chain(60)
    dense = second_order_balanced_truncation(sos, rank=8, variant=variant, solver="hammarling")
    lowrank = second_order_balanced_truncation(sos, rank=8, variant=variant, solver="adi")
    assert lowrank.solver != "hammarling-qz" and lowrank.rom.is_stable()
    assert np.abs(lowrank.hsv[:9] - dense.hsv[:9]).max() <= 1e-7 * dense.hsv[0]
    w = np.logspace(-2, 1, 40)
    G = sos.freqresp(w)
    assert np.abs(lowrank.rom.freqresp(w) - dense.rom.freqresp(w)).max() <= 1e-6 * np.abs(G).max()


def test_first_order_bt_of_second_order_model(lf10):
    _, sos = lf10
    res = balanced_truncation(sos, rank=3)  # unstructured first-order ROM
    err = (sos - res.rom).hinf_norm()
    # LF10's error is within 1e-5 of the bound; cond(E) ~ 3e10 limits the HSVs to ~1e-8 sigma_1
    assert res.rom.n == 3 and res.hsv[3] <= err <= err.upper <= res.error_bound + 1e-8 * res.hsv[0]


def test_bad_input():
    sos = _chain(5)
    with pytest.raises(InputError, match="variant"):
        second_order_balanced_truncation(sos, rank=2, variant="x")
    with pytest.raises(InputError, match="rank=..."):
        second_order_balanced_truncation(sos)
    with pytest.raises(InputError, match="SecondOrderSystem"):
        second_order_balanced_truncation(sos.to_first_order(), rank=2)
    with pytest.raises(InputError, match="B must have shape"):
        SecondOrderSystem(np.eye(3), np.eye(3), np.eye(3), np.ones((4, 1)), np.ones((1, 3)))
    with pytest.raises(InputError, match="M must have shape"):
        SecondOrderSystem(np.eye(2), np.eye(3), np.eye(3), np.ones((3, 1)), np.ones((1, 3)))
