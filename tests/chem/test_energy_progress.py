"""energy_errors reports its three ground-state solves to a progress hook (the CLI's tqdm)."""


def test_energy_errors_progress_wraps_the_three_solves_and_changes_nothing():
    from physfact.chem.double_factorization import double_factorize
    from physfact.chem.energies import energy_errors
    from physfact.chem.hamiltonian import molecular_hamiltonian

    df = double_factorize(molecular_hamiltonian("H2"), rank=1)
    seen = []

    def progress(steps, total, desc):
        seen.append((total, desc))
        for step in steps:
            seen.append(step)
            yield step

    with_bar = energy_errors(df, method="fci", progress=progress)
    plain = energy_errors(df, method="fci")
    assert seen == [(3, "FCI energies (reference, A, B)"), "reference", "A", "B"]
    for key in ("exact", "A", "B"):
        assert abs(with_bar[key] - plain[key]) < 1e-10
    # H2/sto-3g at the library geometry: FCI -1.1373 Ha (Szabo-Ostlund's -1.1373 at R = 1.4 bohr)
    assert abs(plain["exact"] + 1.1373) < 2e-3
