"""Sherman--Morrison--Woodbury updates against refactorisation."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from physfact.errors import InputError, SingularMatrixError
from physfact.fem import KroneckerOperator, cantilever, poisson_strip
from physfact.fem.fdm import FDMFactor
from physfact.fem.woodbury import woodbury_update


def relerr(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


@pytest.fixture(scope="module")
def beam():
    return cantilever(length=10.0, ny=4)


def tip_dofs(p, comp):
    return np.flatnonzero(np.isclose(p.coords[:, 0], p.params["length"]) & (p.section % 2 == comp))


def test_spring_at_tip_matches_refactorisation(beam):
    lu = splu(beam.K.tocsc())
    U = np.zeros((beam.n, 2))
    U[tip_dofs(beam, 1)[[0, -1]], [0, 1]] = 1.0
    C = np.diag([3.0, 0.5])
    x = woodbury_update(lu, U, C).solve(beam.f)
    ref = splu((beam.K + sp.csr_matrix(U @ C @ U.T)).tocsc()).solve(beam.f)
    assert relerr(x, ref) < 1e-8


def test_local_stiffness_change_of_an_element(beam):
    """Weaken one element: K' = K - 0.9 K_e, K_e = U_e C_e U_e^T from the element's DOFs."""
    import skfem
    from skfem.helpers import ddot, sym_grad, trace

    lam, mu = beam.params["lam"], beam.params["mu"]
    basis = skfem.Basis(beam.mesh, skfem.ElementVector(skfem.ElementQuad1()), intorder=4)

    @skfem.BilinearForm
    def elasticity(u, v, w):
        eu, ev = sym_grad(u), sym_grad(v)
        return lam * trace(eu) * trace(ev) + 2 * mu * ddot(eu, ev)

    element = 5
    Ke_full = skfem.asm(elasticity, basis.with_elements(np.array([element]))).tocsr()
    Ke = Ke_full[beam.free_dofs][:, beam.free_dofs]
    rows = np.unique(Ke.nonzero()[0])
    U = np.zeros((beam.n, rows.size))
    U[rows, np.arange(rows.size)] = 1.0
    C = -0.9 * Ke[rows][:, rows].toarray()      # singular (rigid modes): the formula never inverts C
    B = np.column_stack([beam.f, np.ones(beam.n)])
    x = woodbury_update(splu(beam.K.tocsc()), U, C).solve(B)
    ref = splu((beam.K - 0.9 * Ke).tocsc()).solve(B)
    assert relerr(x, ref) < 1e-8


def test_support_as_exact_constraint(beam):
    lu = splu(beam.K.tocsc())
    tip = tip_dofs(beam, 1)
    U = np.zeros((beam.n, 1))
    U[tip[0], 0] = 1.0
    x = woodbury_update(lu, U, constrain=True).solve(beam.f)
    free = np.setdiff1d(np.arange(beam.n), tip[:1])
    ref = np.zeros(beam.n)
    ref[free] = splu(beam.K[free][:, free].tocsc()).solve(beam.f[free])
    assert abs(x[tip[0]]) < 1e-9 * np.abs(x).max()
    assert relerr(x, ref) < 1e-8


def test_update_on_top_of_fdm_and_chained():
    p = poisson_strip(length=6.0, ny=6)
    fac = FDMFactor(KroneckerOperator.from_problem(p))
    rng = np.random.default_rng(0)
    U1 = rng.standard_normal((p.n, 2))
    U2 = rng.standard_normal((p.n, 1))
    W = woodbury_update(woodbury_update(fac, U1, 0.1), U2, np.array([[2.0]]))
    K2 = p.K + 0.1 * sp.csr_matrix(U1 @ U1.T) + 2.0 * sp.csr_matrix(U2 @ U2.T)
    assert relerr(W.solve(p.f), np.linalg.solve(K2.toarray(), p.f)) < 1e-10


def test_woodbury_errors(beam):
    lu = splu(beam.K.tocsc())
    e = np.zeros((beam.n, 1))
    e[0, 0] = 1.0
    with pytest.raises(InputError, match="C must be"):
        woodbury_update(lu, np.zeros((beam.n, 2)), np.eye(3))
    with pytest.raises(InputError, match="solve"):
        woodbury_update(object(), e)
    with pytest.raises(InputError, match="non-finite"):
        woodbury_update(lu, np.full((beam.n, 1), np.nan))
    # an update that removes all the stiffness (K + U C U^T = 0) is reported as singular
    with pytest.raises(SingularMatrixError):
        woodbury_update(lambda b: np.linalg.solve(np.diag([2.0, 3.0]), b), np.eye(2), -np.diag([2.0, 3.0]))
