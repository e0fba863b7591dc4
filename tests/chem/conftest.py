"""Shared molecules for the chem tests (built once per session; PySCF RHF in sto-3g)."""
import pytest


@pytest.fixture(scope="session")
def mol():
    from physfact.chem import molecular_hamiltonian

    cache = {}

    def get(name, basis="sto-3g"):
        if (name, basis) not in cache:
            cache[name, basis] = molecular_hamiltonian(name, basis=basis)
        return cache[name, basis]

    return get
