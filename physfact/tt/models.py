"""Models whose states the tt package turns into MPS: spin chains with exact references, molecules.

* :func:`tfim`, :func:`heisenberg` -> :class:`SpinChain` (matrix-free; any L, ``to_mpo()``),
  :func:`ground_state` (Lanczos up to L = 18, DMRG above, :mod:`physfact.tt.dmrg`), see
  :mod:`physfact.tt.spin_chains`; symmetry sectors (TFIM parity, XXZ S^z) and the
  :class:`DegenerateGroundStateWarning` of a (near-)degenerate ground space, :mod:`physfact.tt.symmetry`;
* :func:`tfim_energy_exact`, :func:`tfim_entropies_exact`: the free-fermion solution of the
  transverse-field Ising chain (:mod:`physfact.tt.free_fermions`);
* :func:`calabrese_cardy_fit`: central charge from S(l) (:mod:`physfact.tt.calabrese_cardy`);
* :func:`molecule_mps`: a PySCF FCI vector as an MPS over spatial orbitals
  (:mod:`physfact.tt.molecule`; PySCF is imported only when called).
"""
from physfact.tt.calabrese_cardy import CalabreseCardyFit, calabrese_cardy_fit, chord_variable
from physfact.tt.free_fermions import (
    tfim_correlation_matrix,
    tfim_energy_exact,
    tfim_entropies_exact,
    tfim_majorana_matrix,
)
from physfact.tt.molecule import (
    MOLECULES,
    FCIState,
    MoleculeEntanglement,
    OrbitalEntanglement,
    fci_state,
    fci_to_mps,
    fiedler_order,
    molecule_mps,
    orbital_entanglement,
    orbital_entanglement_from_ci,
)
from physfact.tt.spin_chains import GroundState, SpinChain, ground_state, heisenberg, project_parity, tfim
from physfact.tt.symmetry import DegenerateGroundStateWarning, Sector, default_sector

__all__ = [
    "SpinChain", "GroundState", "tfim", "heisenberg", "ground_state", "project_parity",
    "Sector", "DegenerateGroundStateWarning", "default_sector",
    "tfim_majorana_matrix", "tfim_energy_exact", "tfim_correlation_matrix", "tfim_entropies_exact",
    "CalabreseCardyFit", "calabrese_cardy_fit", "chord_variable",
    "MOLECULES", "FCIState", "MoleculeEntanglement", "OrbitalEntanglement", "fci_state", "fci_to_mps",
    "fiedler_order", "molecule_mps", "orbital_entanglement", "orbital_entanglement_from_ci",
]
