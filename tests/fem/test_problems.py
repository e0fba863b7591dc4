"""Problems: scikit-fem assembly against the assembly-free Kronecker terms, loads, physics."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from physfact.errors import InputError, UnknownNameError
from physfact.fem import cantilever, poisson_cube, poisson_square, poisson_strip, prismatic_beam


def kron_assembled(prob):
    K = sum(sp.kron(A, B) for A, B in prob.kron_terms)
    P = sp.csr_matrix((np.ones(prob.n), (np.arange(prob.n), prob.kron_index)), shape=(prob.n, prob.n))
    return (P @ K @ P.T).tocsr()


def rel(A, B):
    return sp.linalg.norm(A - B) / sp.linalg.norm(B)


@pytest.mark.parametrize("material", ["constant", "graded", "layered"])
def test_cantilever_kronecker_terms_equal_skfem(material):
    p = cantilever(length=20.0, height=1.0, ny=4, material=material)
    assert p.separable
    assert len(p.kron_terms) == 4
    assert rel(kron_assembled(p), p.K) < 1e-12


def test_modulus_and_poisson_ratio_scale_consistently():
    p = cantilever(length=6.0, ny=3, E=210.0, nu=0.25, material="graded")
    assert rel(kron_assembled(p), p.K) < 1e-12
    q = cantilever(length=6.0, ny=3, E=1.0, nu=0.25, material="graded")
    assert rel(p.K, 210.0 * q.K) < 1e-13


def test_separable_callable_is_detected_and_exact():
    p = cantilever(length=6.0, ny=3, material=lambda x, y: (1 + x) * np.exp(y))
    assert p.separable and len(p.kron_terms) == 4
    assert rel(kron_assembled(p), p.K) < 1e-12


def test_smooth_material_is_not_separable():
    p = cantilever(length=6.0, ny=3, material="smooth")
    assert not p.separable and p.kron_terms is None
    assert p.params["material_residual"] > 1e-4
    with pytest.raises(InputError, match="separable"):
        cantilever(length=6.0, ny=3, material="smooth", assemble=False)


@pytest.mark.parametrize("make,terms", [
    (lambda: poisson_strip(length=8.0, ny=4), 2),
    (lambda: poisson_square(6, material="graded"), 2),
    (lambda: poisson_cube(4), 2),
    (lambda: prismatic_beam(length=3.0, ny=2), 4),
    (lambda: prismatic_beam(length=3.0, ny=2, nz=3, material="graded"), 4),
])
def test_other_problems_kronecker_exact(make, terms):
    p = make()
    assert len(p.kron_terms) == terms
    assert rel(kron_assembled(p), p.K) < 1e-12
    assert p.n == p.n_stations * p.n_section
    # K symmetric positive definite after condensation
    assert rel(p.K.T, p.K) < 1e-14
    lu = splu(p.K.tocsc())
    assert np.all(np.abs(lu.U.diagonal()) > 0)


def test_dof_counts_and_orders():
    p = cantilever(length=4.0, height=1.0, ny=2)
    assert p.params["nx"] == 8
    assert p.n == 2 * 8 * 3              # clamped station x = 0 removed
    assert p.n_stations == 8 and p.n_section == 6
    # station i sits at x = (i + 1) h; section = 2 * node + component
    assert np.allclose(p.coords[:, 0], (p.station + 1) * 0.5)
    assert np.allclose(p.coords[:, 1], (p.section // 2) * 0.5)
    assert np.array_equal(np.sort(p.kron_index), np.arange(p.n))
    b = np.arange(p.n, dtype=float)
    assert np.array_equal(p.from_kron(p.to_kron(b)), b)


def test_traction_load_matches_skfem_facet_assembly():
    import skfem
    from skfem.helpers import dot

    p = cantilever(length=5.0, height=2.0, ny=3, load=3.0)
    basis = skfem.FacetBasis(p.mesh, skfem.ElementVector(skfem.ElementQuad1()),
                             facets=p.mesh.facets_satisfying(lambda x: np.isclose(x[0], 5.0)))

    @skfem.LinearForm
    def traction(v, w):
        return dot(np.array([0.0, -3.0 / 2.0])[:, None, None] * np.ones_like(w.x), v)

    f_full = skfem.asm(traction, basis)
    assert np.allclose(p.f, f_full[p.free_dofs], rtol=1e-13, atol=1e-14)
    assert np.isclose(p.f.sum(), -3.0)


def test_mass_matrix_matches_skfem():
    import skfem

    p = cantilever(length=3.0, height=1.0, ny=2)
    basis = skfem.Basis(p.mesh, skfem.ElementVector(skfem.ElementQuad1()), intorder=4)

    @skfem.BilinearForm
    def mass(u, v, w):
        return u[0] * v[0] + u[1] * v[1]

    M = skfem.asm(mass, basis).tocsr()[p.free_dofs][:, p.free_dofs]
    assert rel(p.M, M) < 1e-13


def test_poisson_load_sums_to_area_and_solution_max():
    p = poisson_square(16)
    u = splu(p.K.tocsc()).solve(p.f)
    # -lap u = 1 on the unit square: max u = 0.0736713532... (series solution)
    assert abs(u.max() - 0.07367135) < 1e-3


@pytest.mark.parametrize("ny,tolerance", [(8, 0.012), (16, 0.004)])
def test_cantilever_tip_deflection_matches_timoshenko(ny, tolerance):
    p = cantilever(length=20.0, height=1.0, ny=ny, E=1.0, nu=0.3, load=1.0)
    u = splu(p.K.tocsc()).solve(p.f)
    tip = np.isclose(p.coords[:, 0], 20.0) & (p.section % 2 == 1)
    deflection = -u[tip].mean()
    G, I, A = 1.0 / (2 * 1.3), 1.0 / 12.0, 1.0
    timoshenko = 20.0**3 / (3 * I) + 20.0 / (5.0 / 6.0 * G * A)
    assert abs(deflection / timoshenko - 1) < tolerance


def test_p1_element_has_no_one_dimensional_terms():
    p = cantilever(length=4.0, ny=2, element="P1")
    assert p.kron_terms is None and p.K is not None and p.element == "P1"


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(material="marble"), UnknownNameError, "known"),
    (dict(nu=0.5), InputError, "Poisson ratio"),
    (dict(E=-1.0), InputError, "E must"),
    (dict(ny=0), InputError, "ny"),
    (dict(element="Q2"), InputError, "element"),
    (dict(material=lambda x, y: -np.ones_like(x)), InputError, "positive"),
    (dict(material=lambda x, y: np.full_like(x, np.nan)), InputError, "positive"),
    (dict(length=float("nan")), InputError, "length"),
])
def test_bad_problem_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cantilever(**{"length": 4.0, "ny": 2, **kwargs})


def test_p1_mass_matrix_is_scikit_fem_s():
    import skfem

    p = poisson_strip(length=3.0, ny=3, element="P1")
    basis = skfem.Basis(p.mesh, skfem.ElementTriP1())

    @skfem.BilinearForm
    def mass(u, v, w):
        return u * v

    M = skfem.asm(mass, basis).tocsr()[p.free_dofs][:, p.free_dofs]
    assert p.mass_terms is None and rel(p.M, M) < 1e-13
