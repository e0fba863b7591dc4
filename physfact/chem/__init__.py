"""Quantum-chemistry Hamiltonians and their double factorization (placeholder from chem-cost; chem owns this file)."""
