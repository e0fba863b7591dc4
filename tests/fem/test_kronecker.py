"""KroneckerOperator: assembly-free vs black-box (Van Loan--Pitsianis), products, errors."""

import numpy as np
import pytest
import scipy.sparse as sp

from physfact.errors import InputError
from physfact.fem import KroneckerOperator, KroneckerRankWarning, cantilever, poisson_strip, prismatic_beam, tensor_order
from physfact.lowrank import Truncation


@pytest.fixture(scope="module")
def beam():
    return cantilever(length=20.0, height=1.0, ny=4)


def test_constant_cantilever_is_exactly_four_terms(beam):
    op = KroneckerOperator.from_problem(beam)
    assert op.rank == 4 and op.method == "1-D assembly"
    assert op.relative_error(beam.K) < 1e-12
    # the error on the compact rearrangement agrees with the plain sparse difference
    assert sp.linalg.norm(op.to_sparse() - beam.K) / sp.linalg.norm(beam.K) < 1e-12


def test_black_box_rearrangement_finds_the_same_rank(beam):
    op = KroneckerOperator.from_matrix(beam.K, beam, rule=Truncation(rtol=1e-10))
    assert op.rank == 4
    s = op.singular_values
    assert s[3] / s[0] > 1e-3 and s[4] / s[0] < 1e-13   # a clean gap after 4
    assert op.relative_error(beam.K) < 1e-12
    # same via DOF coordinates only (order detected from the mesh)
    op2 = KroneckerOperator.from_matrix(beam.K, coords=beam.coords, n_components=2)
    assert op2.rank == 4 and op2.relative_error(beam.K) < 1e-12


def test_black_box_on_shuffled_node_order(beam):
    # renumber the nodes at random (components of a node stay together, as in any FE code)
    nodes = np.random.default_rng(1).permutation(beam.n // 2)
    perm = (2 * nodes[:, None] + np.arange(2)[None, :]).ravel()
    K = beam.K[perm][:, perm]
    op = KroneckerOperator.from_matrix(K, coords=beam.coords[perm], n_components=2)
    assert op.rank == 4 and op.index is not None
    x = np.random.default_rng(2).standard_normal(beam.n)
    assert np.linalg.norm(op @ x - K @ x) < 1e-12 * np.linalg.norm(K @ x)
    assert op.relative_error(K) < 1e-12


def test_hex_beam_rank_and_permutation():
    p = prismatic_beam(length=3.0, ny=2)
    assert p.kron_index is not None
    op = KroneckerOperator.from_problem(p)
    bb = KroneckerOperator.from_matrix(p.K, p)
    assert op.rank == bb.rank == 4
    x = np.random.default_rng(0).standard_normal((p.n, 3))
    assert np.linalg.norm(op @ x - p.K @ x) < 1e-13 * np.linalg.norm(p.K @ x)
    assert np.linalg.norm(bb @ x - p.K @ x) < 1e-12 * np.linalg.norm(p.K @ x)


def test_matvec_vectors_and_blocks(beam):
    op = KroneckerOperator.from_problem(beam)
    X = np.random.default_rng(3).standard_normal((beam.n, 5))
    Y = op @ X
    assert Y.shape == (beam.n, 5)
    assert np.allclose(Y, beam.K @ X, rtol=0, atol=1e-12 * np.abs(beam.K @ X).max())
    assert np.allclose(op @ X[:, 0], Y[:, 0])
    assert np.allclose(op.as_linear_operator() @ X[:, 1], Y[:, 1])


def test_truncated_fit_error_equals_discarded_singular_values():
    p = cantilever(length=8.0, ny=4, material="smooth")
    for rtol in (1e-2, 1e-4, 1e-7):
        op = KroneckerOperator.from_matrix(p.K, p, rule=Truncation(rtol=rtol))
        err = op.relative_error(p.K)
        dense = np.linalg.norm((op.to_sparse() - p.K).toarray()) / np.linalg.norm(p.K.toarray())
        assert abs(err - dense) < 1e-10
        assert err <= rtol * (1 + 1e-8)
        assert abs(err - op.discarded / sp.linalg.norm(p.K)) < 1e-10
    # a tighter tolerance needs more terms
    assert KroneckerOperator.from_matrix(p.K, p, rule=1e-8).rank > KroneckerOperator.from_matrix(p.K, p, rule=1e-2).rank


def test_storage_and_compression_ratio():
    p = cantilever(length=20.0, ny=16)
    op = KroneckerOperator.from_problem(p)
    csr = p.K.data.nbytes + p.K.indices.nbytes + p.K.indptr.nbytes
    assert op.csr_nbytes_estimate == csr
    assert op.compression_ratio == pytest.approx(csr / op.nbytes)
    assert op.compression_ratio > 20
    # without an assembled K, the CSR size is estimated from the factor patterns (scikit-fem's CSR
    # also stores entries that cancel to rounding level, ~1e-17)
    q = cantilever(length=20.0, ny=16, assemble=False)
    op2 = KroneckerOperator.from_problem(q)
    Kz = p.K.copy()
    Kz.data[np.abs(Kz.data) < 1e-12 * np.abs(Kz.data).max()] = 0.0
    Kz.eliminate_zeros()
    # the estimate (union patterns) bounds the true non-zeros from above, scikit-fem's storage from below
    assert Kz.data.nbytes + Kz.indices.nbytes + Kz.indptr.nbytes <= op2.csr_nbytes_estimate <= csr


def test_recompress_merges_kronecker_sums():
    p = poisson_strip(length=6.0, ny=4)
    K = KroneckerOperator.from_problem(p)
    M = KroneckerOperator.from_problem(p, which="M")
    H = M + 0.3 * K
    assert H.rank == 3
    Hc = H.recompress()
    assert Hc.rank == 2
    x = np.random.default_rng(0).standard_normal(p.n)
    ref = (p.M + 0.3 * p.K) @ x
    assert np.linalg.norm(Hc @ x - ref) < 1e-13 * np.linalg.norm(ref)
    assert abs(Hc.frobenius_norm() - sp.linalg.norm(p.M + 0.3 * p.K)) < 1e-12 * sp.linalg.norm(p.K)


def test_rank_that_does_not_pay_warns():
    field = np.random.default_rng(0).uniform(0.1, 10.0, size=(16, 4, 4))

    def random_material(x, y, z):   # random in every element: no Kronecker structure left
        return field[np.clip((x * 4).astype(int), 0, 15), np.clip((y * 4).astype(int), 0, 3),
                     np.clip((z * 4).astype(int), 0, 3)]

    p = prismatic_beam(length=4.0, ny=4, material=random_material)
    with pytest.warns(KroneckerRankWarning, match="does not pay"):
        op = KroneckerOperator.from_matrix(p.K, p, rule=Truncation(rtol=1e-10))
    assert not op.pays and op.rank > 20
    # the fit is still exact to the requested tolerance
    assert op.relative_error(p.K) <= 1e-10


def test_non_tensor_mesh_is_rejected():
    import skfem

    m = skfem.MeshTri.init_tensor(np.linspace(0, 4, 9), np.linspace(0, 1, 3)).refined(1)
    m = m.refined(np.array([0, 1, 2]))  # local refinement: stations with different sections
    basis = skfem.Basis(m, skfem.ElementTriP1())
    from skfem.models.poisson import laplace

    K = skfem.asm(laplace, basis)
    with pytest.raises(InputError, match="not a tensor-product"):
        KroneckerOperator.from_matrix(K, coords=m.p.T)
    with pytest.raises(InputError, match="not a tensor-product"):
        tensor_order(m.p.T)


def test_bad_input(beam):
    K = beam.K
    with pytest.raises(InputError, match="rows"):
        KroneckerOperator.from_matrix(K[:-2, :-2], beam)
    with pytest.raises(InputError, match="square"):
        KroneckerOperator.from_matrix(K[:, :-2], beam)
    Kn = K.copy()
    Kn.data[5] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        KroneckerOperator.from_matrix(Kn, beam)
    with pytest.raises(InputError, match="coords"):
        KroneckerOperator.from_matrix(K)
    op = KroneckerOperator.from_problem(beam)
    with pytest.raises(InputError, match="shape mismatch"):
        op @ np.ones(beam.n + 1)
    with pytest.raises(InputError, match="term 1"):
        KroneckerOperator([(np.eye(2), np.eye(3)), (np.eye(3), np.eye(3))])
    with pytest.raises(InputError, match="rule kept no term"):
        KroneckerOperator.from_matrix(K, beam, rule=Truncation(rank=0))
