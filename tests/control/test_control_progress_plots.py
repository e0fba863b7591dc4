"""Progress bars of balanced truncation (library and ``physfact bt`` on a terminal / piped / quiet),
the adaptive Bode frequency grid, and the HSV / Bode figures (issue #11, sections 2 and 4)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.progress_bar import Recorder
from tests.terminal import run_with_terminal_stderr

from physfact.control import LTISystem, balanced_truncation, models
from physfact.control.frequency_grid import adaptive_frequency_grid

ROOT = Path(__file__).resolve().parents[2]


def oscillator(zeta, w0):
    """x'' + 2 zeta w0 x' + w0^2 x = u, y = x: peak |G| = 1 / (2 zeta sqrt(1 - zeta^2) w0^2)."""
    A = np.array([[0.0, 1.0], [-w0**2, -2 * zeta * w0]])
    return LTISystem(A, np.array([[0.0], [1.0]]), np.array([[1.0, 0.0]]))


@pytest.mark.parametrize("zeta,w0", [(1e-3, 3.7), (1e-3, 250.0), (1e-5, 0.9)])
def test_adaptive_grid_resolves_a_lightly_damped_peak(zeta, w0):
    sys_ = oscillator(zeta, w0)
    true_peak = 1 / (2 * zeta * np.sqrt(1 - zeta**2) * w0**2)  # analytic
    start = np.logspace(-2, 4, 150)  # knows nothing of the pole
    assert sys_.bode(start).max() < 0.5 * true_peak  # the plain grid misses the resonance
    w, vals = adaptive_frequency_grid(lambda x: sys_.bode(x)[:, None], start)
    assert abs(vals.max() / true_peak - 1) < 0.01
    assert vals.max() <= true_peak * (1 + 1e-9)
    assert w.size < 1000  # refined near the peak, not swept densely
    assert np.all(np.diff(w) > 0)
    np.testing.assert_allclose(vals[:, 0], sys_.bode(w), rtol=1e-12)  # values belong to their points


def test_adaptive_grid_resolves_every_resonance_of_msd():
    """msd:20 (lightly damped chain): each resonance's sampled peak against a dense sweep over the
    pole's half-power band."""
    sys_ = models.load("msd:20")
    fo = sys_.to_first_order() if hasattr(sys_, "to_first_order") else sys_
    lam = fo.poles()
    lam = lam[lam.imag > 0]
    zeta = np.abs(lam.real) / np.abs(lam)
    assert zeta.min() < 0.05  # lightly damped: the test has teeth
    w, vals = adaptive_frequency_grid(lambda x: fo.bode(x)[:, None], np.logspace(-3, 2, 120))
    fine = np.concatenate([np.linspace(abs(l.imag) * (1 - 4 * z), abs(l.imag) * (1 + 4 * z), 4001)
                           for l, z in zip(lam, zeta)])
    g_fine = fo.bode(fine)
    assert abs(vals.max() / g_fine.max() - 1) < 0.01
    for l, z in zip(lam[np.argsort(zeta)][:3], np.sort(zeta)[:3]):  # the three sharpest peaks, one by one
        lo, hi = abs(l.imag) * (1 - 4 * z), abs(l.imag) * (1 + 4 * z)
        inside = (fine >= lo) & (fine <= hi)
        sampled = vals[(w >= lo) & (w <= hi), 0]
        if g_fine[inside].max() > 2 * fo.bode([lo, hi]).max():  # a visible peak of its own
            assert sampled.size and sampled.max() >= 0.99 * g_fine[inside].max()


def test_balanced_truncation_progress_phases_and_same_result():
    heat = models.load("heat1d:60")
    rec = Recorder()
    ref = balanced_truncation(heat, rank=6, solver="hammarling")
    res = balanced_truncation(heat, rank=6, solver="hammarling", progress=rec)
    np.testing.assert_array_equal(res.hsv, ref.hsv)
    descs = [b.desc for b in rec.bars]
    assert "Gramian 1/2 (Hammarling)" in descs and "Gramian 2/2 (Hammarling)" in descs
    for b in rec.bars:
        assert b.closed
        if b.desc.startswith("Gramian"):
            assert b.total == heat.n and 0 < b.n <= heat.n
    for separate, names in ((True, ["Gramian 1/2 (LR-ADI)", "Gramian 2/2 (LR-ADI)"]),
                            (False, ["Gramians 1+2/2 (LR-ADI, shared LUs)"])):
        rec = Recorder()
        ref = balanced_truncation(heat, rank=6, solver="adi", separate=separate)
        res = balanced_truncation(heat, rank=6, solver="adi", separate=separate, progress=rec)
        np.testing.assert_array_equal(res.hsv, ref.hsv)
        assert [b.desc for b in rec.bars] == names
        assert all(b.closed and b.n >= 1 and "residual" in b.postfix[-1] for b in rec.bars)
        assert sum(b.n for b in rec.bars) == sum(res.info["iterations"])


def test_hinf_sampling_progress_counts_frequencies():
    sys_ = oscillator(0.05, 2.0)
    grid = np.logspace(-1, 1, 120)
    rec = Recorder()
    est = sys_.hinf_norm(method="sampling", omega=grid, progress=rec)
    assert float(est) == pytest.approx(float(sys_.hinf_norm(method="sampling", omega=grid)), rel=1e-14)
    (bar,) = rec.bars
    assert bar.desc == "error estimate" and bar.unit == "frequencies" and bar.closed
    assert grid.size < bar.n <= bar.total  # the grid plus the refinement's evaluations




BT_ARGS = ["bt", "heat2d:30", "--tol", "1e-6", "--bode", "b.png"]


def test_bt_progress_on_a_terminal_only(tmp_path):
    rc, out, err = run_with_terminal_stderr(BT_ARGS, cwd=tmp_path)
    assert rc == 0, err
    assert "Bode plot: b.png" in out
    assert "Gramian" in err and "frequencies" in err  # the bars' phases on the terminal
    assert "Bode plot" in err
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    piped = subprocess.run([sys.executable, "-m", "physfact.cli", *BT_ARGS], cwd=tmp_path, capture_output=True,
                           text=True, env=env)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "Gramian" not in piped.stderr and "it/s" not in piped.stderr
    assert all(line.startswith(("model ", "estimating ", "warning: ")) for line in piped.stderr.splitlines())
    quiet = subprocess.run([sys.executable, "-m", "physfact.cli", "--quiet", *BT_ARGS], cwd=tmp_path,
                           capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and quiet.stderr == ""
    timing = "balanced truncation"  # the one stdout line with a run time in it
    assert ([ln for ln in quiet.stdout.splitlines() if not ln.startswith(timing)]
            == [ln for ln in piped.stdout.splitlines() if not ln.startswith(timing)])


def test_hsv_plot_shows_the_resolvable_part(tmp_path):
    pytest.importorskip("matplotlib")
    from physfact import plotting

    hsv = np.concatenate([np.logspace(0, -12, 25), np.full(900, 1e-16)])
    captured = {}
    orig = plotting.save_figure

    def keep(fig, path, dpi=120):
        captured["fig"] = fig
        captured["problems"] = plotting.figure_problems(fig)
        return orig(fig, path, dpi)

    plotting.save_figure = keep
    try:
        plotting.plot_hankel_singular_values(hsv, tmp_path / "h.png", order=8, floor=1e-13, title="HSV")
    finally:
        plotting.save_figure = orig
    assert captured["problems"] == []
    ax = captured["fig"].axes[0]
    assert ax.get_xlabel() == "k" and ax.get_ylabel() == r"$\sigma_k$"
    pts = ax.lines[0].get_xdata()
    assert len(pts) == 25 + 5  # the 25 above the floor and five below
    floor_line = [ln for ln in ax.lines if np.allclose(ln.get_ydata(), 1e-13)]
    order_line = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), 8.5)]
    assert floor_line and order_line
    assert len(ax.get_legend().get_texts()) == 3


def _chain(nq, sparse=True):
    """A damped mass-spring chain M q'' + D q' + K q = B u (M = I), force on the first mass, last position out."""
    import scipy.sparse as sp

    from physfact.control import SecondOrderSystem

    K = sp.diags([-np.ones(nq - 1), 2 * np.ones(nq), -np.ones(nq - 1)], [-1, 0, 1], format="csr")
    M, D = sp.eye(nq, format="csr"), 0.05 * K + 0.01 * sp.eye(nq)
    if not sparse:
        K, M, D = K.toarray(), M.toarray(), D.toarray()
    return SecondOrderSystem(M, D, K, np.eye(nq)[:, :1], np.eye(nq)[-1:])


def _dae(n=30):
    """Index-1 DAE: n differential states plus one algebraic constraint (E singular)."""
    rng = np.random.default_rng(3)
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = -np.diag(np.linspace(1, 10, n)) + 0.1 * rng.standard_normal((n, n)) / np.sqrt(n)
    A[:n, n], A[n, :n], A[n, n] = 0.1, 0.1, -1.0
    E = np.diag(np.r_[np.ones(n), 0.0])
    return LTISystem(A, np.ones(n + 1), np.r_[np.ones(n), 1.0], None, E)


def test_frequency_limited_progress_phases_and_same_result():
    msd = models.msd(20)
    for solver, names in (("hammarling", ["band operator S (matrix logarithms)", "Gramian 1/2 (Bartels-Stewart)",
                                          "Gramian 2/2 (Bartels-Stewart)", "band error"]),
                          ("adi", ["Gramians 1+2/2 (LR-ADI, shared LUs)", "band operator 1/2 (Galerkin projection)",
                                   "band operator 2/2 (Galerkin projection)", "band error"])):
        rec = Recorder()
        ref = balanced_truncation(msd, rank=6, frequency_band=(0.5, 1.0), solver=solver)
        res = balanced_truncation(msd, rank=6, frequency_band=(0.5, 1.0), solver=solver, progress=rec)
        np.testing.assert_array_equal(res.hsv, ref.hsv)
        assert res.info["band_error"] == ref.info["band_error"]
        assert [b.desc for b in rec.bars] == names, solver
        assert all(b.closed and b.n == b.total for b in rec.bars if b.total is not None)
        (band,) = [b for b in rec.bars if b.desc == "band error"]
        assert band.unit == "frequencies" and band.total > 100  # the sampled in-band grid


def test_dae_progress_phases_and_same_result():
    dae = _dae()
    assert dae.is_dae
    rec = Recorder()
    ref = balanced_truncation(dae, rank=4)
    res = balanced_truncation(dae, rank=4, progress=rec)
    np.testing.assert_array_equal(res.hsv, ref.hsv)
    descs = [b.desc for b in rec.bars]
    assert descs[0] == "QZ split (finite/infinite eigenvalues)"
    assert any(d.startswith("Gramian 1/2") for d in descs) and any(d.startswith("Gramian 2/2") for d in descs)
    assert all(b.closed for b in rec.bars)


def test_second_order_progress_phases_and_same_result():
    from physfact.control import second_order_balanced_truncation

    for sparse, solver, names in ((False, "hammarling", ["QZ form of the first-order pencil",
                                                         "Gramian 1/2 (Hammarling, QZ)", "Gramian 2/2 (Hammarling, QZ)"]),
                                  (True, "adi", ["Gramians 1+2/2 (LR-ADI, shared LUs)"])):
        sos = _chain(30, sparse)
        rec = Recorder()
        ref = second_order_balanced_truncation(sos, rank=3, solver=solver)
        res = second_order_balanced_truncation(sos, rank=3, solver=solver, progress=rec)
        np.testing.assert_array_equal(res.hsv, ref.hsv)
        assert [b.desc for b in rec.bars] == names
        for b in rec.bars:
            assert b.closed
            if b.desc.startswith("Gramian "):
                assert b.total == sos.n and 0 < b.n <= sos.n  # columns of the first-order factor
            if "LR-ADI" in b.desc:
                assert b.n >= 1 and "residual" in b.postfix[-1]


def test_band_dae_and_second_order_progress_on_a_terminal_only(tmp_path):
    """The phases of the frequency-limited, DAE and second-order routes show on a terminal, never when piped."""
    _dae().save(tmp_path / "dae.npz")
    _chain(60).save(tmp_path / "chain.npz")
    runs = {("bt", "msd:40", "--order", "6", "--band", "0.5", "1.0", "--error-samples", "0"):
            ("band operator S (matrix logarithms)", "Gramian 1/2 (Bartels-Stewart)", "band error"),
            ("bt", "dae.npz", "--order", "4", "--error-samples", "0"): ("QZ split", "Gramian 1/2"),
            ("bt", "chain.npz", "--order", "4", "--error-samples", "0"):
            ("QZ form of the first-order pencil", "Gramian 2/2 (Hammarling, QZ)"),
            ("bt", "chain.npz", "--order", "4", "--solver", "adi", "--error-samples", "0"): ("LR-ADI",)}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for k, (args, phases) in enumerate(runs.items()):
        rc, out, err = run_with_terminal_stderr(args, cwd=tmp_path)
        assert rc == 0, err
        assert all(p in err for p in phases), (args, err[-400:])
        if k % 3:  # piped: the same phases stay off stderr (checked on the band and the LR-ADI runs)
            continue
        piped = subprocess.run([sys.executable, "-m", "physfact.cli", *args], cwd=tmp_path, capture_output=True,
                               text=True, env=env)
        assert piped.returncode == 0 and piped.stdout.startswith("model: "), piped.stderr
        assert "\r" not in piped.stderr and not any(p in piped.stderr for p in phases), args
