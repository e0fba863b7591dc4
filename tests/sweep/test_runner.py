"""Sweeps on a real LocalCluster (2 worker processes): results equal the direct calls point by point,
resume, isolation of failing points, a worker killed mid-task, one BLAS thread per point."""
import numpy as np
import pytest

from physfact.sweep import Sweep, load_table, run_sweep
from physfact.sweep.store import point_file, read_record


# C2v water: no degenerate orbitals, so the Hamiltonian a worker builds is the one built here (with
# degenerate orbitals, e.g. LiH's pi pair, PySCF may return any rotation of them, and the leaf count
# chosen by the max-residual-diagonal rule can differ by one between processes)
WATER = "O 0 0 0.1173; H 0 0.7572 -0.4692; H 0 -0.7572 -0.4692"


def _rows(table):
    cols = {c: list(table[c]) for c in table}
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def test_tt_chain_equals_direct_calls_and_free_fermions(client, tmp_path):
    from physfact.tt import MPS
    from physfact.tt.models import ground_state, tfim, tfim_energy_exact, tfim_entropies_exact

    fields = [0.5, 1.0, 1.5]
    rows = _rows(Sweep("tt-chain", fixed={"L": 8}, grid={"g": fields}).run(tmp_path / "s", client=client))
    assert [r["g"] for r in rows] == fields
    for r in rows:
        gs = ground_state(tfim(8, g=r["g"]))
        S = MPS.from_statevector(gs.psi, dims=2).entanglement_entropy()
        assert r["energy"] == pytest.approx(gs.energy, abs=1e-10)
        assert r["half_chain_entropy"] == pytest.approx(S[3], abs=1e-9)
        # independent reference: the free-fermion solution
        assert r["energy"] == pytest.approx(tfim_energy_exact(8, g=r["g"]), abs=1e-9)
        assert r["half_chain_entropy"] == pytest.approx(tfim_entropies_exact(8, g=r["g"])[3], abs=1e-8)
        assert np.isnan(r["error"]) if isinstance(r["error"], float) else r["error"] is None


def test_df_equals_direct_calls_with_shared_hamiltonian(client, tmp_path):
    from physfact.chem import double_factorize, load_double_factorization, molecular_hamiltonian

    spec = Sweep("df", fixed={"molecule": WATER, "energies": "fci"}, grid={"tol": [1e-2, 1e-5]})
    summary = run_sweep(spec, tmp_path / "s", client=client)
    assert (summary.points, summary.computed, summary.failed) == (2, 2, 0)
    rows = _rows(load_table(summary.table))
    H = molecular_hamiltonian(WATER)
    for r, p in zip(rows, spec.points()):
        df = double_factorize(H, tol=r["tol"])
        cost = df.qubitization_cost()
        energies = df.energies(method="fci")
        assert (r["n_leaves"], r["n_eigenvectors"], r["toffolis"], r["logical_qubits"]) == (
            df.n_leaves, df.n_eigenvectors, cost.toffolis, cost.logical_qubits)
        assert r["one_norm"] == pytest.approx(df.one_norm(), rel=1e-10)
        assert r["error_B_mha"] == pytest.approx(energies["error_B_mha"], abs=1e-6)
        assert r["two_body_error_max_abs"] == pytest.approx(df.two_body_error["max_abs"], rel=1e-8, abs=1e-14)
        # the point file is the factorization in its own format
        back = load_double_factorization(point_file(summary.store, p.key))
        np.testing.assert_allclose(np.abs(back.eigenvalues), np.abs(df.eigenvalues), atol=1e-10)
    assert rows[0]["n_leaves"] < rows[1]["n_leaves"]


def test_bt_and_fem_beam_equal_direct_calls(client, tmp_path):
    from physfact.control import balanced_truncation, models
    from physfact.fem import KroneckerOperator, cantilever, pcg_solve

    rows = _rows(Sweep("bt", fixed={"model": "heat1d:60"}, grid={"rank": [2, 4]}).run(tmp_path / "bt", client=client))
    sys = models.load("heat1d:60")
    for r in rows:
        res = balanced_truncation(sys, rank=r["rank"])
        assert r["order"] == r["rank"] and r["error_bound"] == pytest.approx(res.error_bound, rel=1e-10)
        assert r["hinf_error"] == pytest.approx(float((sys - res.rom).hinf_norm()), rel=1e-6)
        assert res.hsv[r["rank"]] <= r["hinf_error"] <= r["error_bound"] * (1 + 1e-9)   # BT theory
    rows = _rows(Sweep("fem-beam", fixed={"length": 8.0}, grid={"ny": [2, 4]}).run(tmp_path / "fem", client=client))
    for r in rows:
        prob = cantilever(length=8.0, ny=r["ny"])
        u = pcg_solve(prob).x
        tip = np.isclose(prob.coords[:, 0], 8.0) & (prob.section % 2 == 1)
        assert r["n"] == prob.n and r["rank"] == KroneckerOperator.from_problem(prob).rank
        assert r["tip_deflection"] == pytest.approx(-u[tip].mean(), rel=1e-8)
        # Timoshenko beam theory (E = 1, nu = 0.3, P = 1, L/H = 8): within the discretization error
        G = 1 / 2.6
        assert r["tip_deflection"] == pytest.approx(8.0**3 / (3 / 12) + 8.0 / (5 / 6 * G), rel=0.25)


def test_resume_recomputes_nothing_and_changed_spec_needs_force(client, tmp_path):
    from physfact.errors import InputError

    store = tmp_path / "s"
    first = run_sweep(Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0]}), store, client=client)
    stamps = {p.name: p.stat().st_mtime_ns for p in (store / "points").iterdir()}
    again = run_sweep(Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0]}), store, client=client)
    assert (first.computed, again.computed, again.skipped) == (2, 0, 2)
    assert {p.name: p.stat().st_mtime_ns for p in (store / "points").iterdir()} == stamps
    bigger = Sweep("tt-chain", fixed={"L": 6}, grid={"g": [0.5, 1.0, 1.5]})
    with pytest.raises(InputError, match="different spec.*grid.g.*--force"):
        run_sweep(bigger, store, client=client)
    forced = run_sweep(bigger, store, client=client, force=True)
    assert (forced.computed, forced.skipped, forced.points) == (1, 2, 3)
    assert list(load_table(store)["g"]) == [0.5, 1.0, 1.5]


def test_failing_point_is_recorded_and_isolated(client, tmp_path):
    from sweep_tasks import DOUBLE

    summary = run_sweep(Sweep(DOUBLE, grid={"x": [1, -1, 3]}), tmp_path / "s", client=client)
    assert (summary.computed, summary.failed) == (3, 1)
    assert summary.errors == {1: "ValueError: x = -1 is negative"}
    rows = _rows(load_table(summary.table))
    assert [r["y"] for r in rows if r["x"] != -1] == [2, 6]
    # a re-run retries only the failed point
    again = run_sweep(Sweep(DOUBLE, grid={"x": [1, -1, 3]}), tmp_path / "s", client=client)
    assert (again.computed, again.skipped, again.failed) == (1, 2, 1)


def test_worker_killed_mid_task_is_retried(client, tmp_path):
    from sweep_tasks import DOUBLE

    marker = tmp_path / "killed"
    summary = run_sweep(Sweep(DOUBLE, fixed={"marker": str(marker)}, grid={"x": [1, 2, 3, 4]}), tmp_path / "s",
                        client=client)
    assert marker.read_text() == "killed once"          # a worker process really died mid-task
    assert (summary.computed, summary.failed) == (4, 0)
    assert list(load_table(summary.table)["y"]) == [2, 4, 6, 8]
    client.wait_for_workers(2, timeout=60)               # the nanny restarted it (for the next tests)


def test_one_blas_thread_per_point(client, tmp_path):
    from sweep_tasks import BLAS

    summary = run_sweep(Sweep(BLAS, grid={"x": [0, 1, 2, 3]}), tmp_path / "s", client=client)
    assert set(load_table(summary.table)["y"]) == {1}


def test_point_file_records_the_point(client, tmp_path):
    spec = Sweep("tt-chain", fixed={"L": 6, "J": 1.0}, grid={"g": [0.7]})
    summary = run_sweep(spec, tmp_path / "s", client=client)
    rec = read_record(point_file(summary.store, spec.points()[0].key))
    assert rec["params"] == {"L": 6, "J": 1.0, "g": 0.7} and rec["error"] is None
    assert rec["results"]["max_bond_dimension"] == 8


@pytest.mark.slow  # its own one-worker cluster, restarted after the kill (~10 s)
def test_task_that_keeps_killing_its_worker_is_recorded_as_failed(tmp_path):
    import logging

    import dask
    from distributed import Client, LocalCluster
    from sweep_tasks import DOUBLE

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster, Client(cluster) as c:
            summary = run_sweep(Sweep(DOUBLE, fixed={"kill_always": True}, grid={"x": [5]}), tmp_path / "s", client=c)
    assert summary.failed == 1 and "KilledWorker" in summary.errors[0]


def test_progress_shows_done_failed_and_eta_on_a_terminal(client, tmp_path):
    import io

    from physfact.console import Console
    from sweep_tasks import DOUBLE

    class Tty(io.StringIO):
        def isatty(self):
            return True

    err = Tty()
    run_sweep(Sweep(DOUBLE, grid={"x": [1, -2, 3]}), tmp_path / "s", client=client, console=Console(stderr=err))
    text = err.getvalue()
    assert "3/3" in text and "failed=1" in text and "<" in text      # tqdm: done/total, failed, elapsed<ETA
