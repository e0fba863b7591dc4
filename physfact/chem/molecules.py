"""The molecule library shipped in ``data/molecules`` (xyz files) and the hydrogen-chain generator."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physfact.errors import DataFileError, InputError, UnknownNameError
from physfact.validation import check_int, check_positive

_CHAIN = re.compile(r"^h-?chain-?(\d+)$|^h(\d+)-?chain$", re.IGNORECASE)


def molecules_dir() -> Path:
    """``<repo>/data/molecules`` (the xyz library)."""
    return Path(__file__).resolve().parent.parent.parent / "data" / "molecules"


def known_molecules() -> list[str]:
    """Names of the shipped molecules (file stems of data/molecules/*.xyz)."""
    d = molecules_dir()
    return sorted(p.stem for p in d.glob("*.xyz")) if d.is_dir() else []


def read_xyz(path) -> tuple[str, str]:
    """Read an xyz file (count line, comment line, ``El x y z`` in Angstrom); return (atom string, comment)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        n = int(lines[0].split()[0])
        atoms = []
        for line in lines[2 : 2 + n]:
            el, x, y, z = line.split()[:4]
            atoms.append(f"{el} {float(x):.10f} {float(y):.10f} {float(z):.10f}")
    except (IndexError, ValueError) as exc:
        raise DataFileError(f"{path}: not an xyz file (count line, comment line, then 'El x y z' lines): {exc}") from None
    if len(atoms) != n:
        raise DataFileError(f"{path}: count line says {n} atoms but {len(atoms)} are listed")
    return "; ".join(atoms), lines[1].strip() if len(lines) > 1 else ""


def h_chain(n: int, spacing: float = 1.0) -> str:
    """Atom string of a linear chain of ``n`` hydrogen atoms ``spacing`` Angstrom apart (along z)."""
    n = check_int(n, "n", minimum=1, allow_none=False)
    spacing = check_positive(spacing, "spacing", allow_none=False)
    return "; ".join(f"H 0 0 {i * spacing:.10f}" for i in range(n))


def looks_like_atom_string(text: str) -> bool:
    """True for PySCF atom specs like ``"H 0 0 0; H 0 0 0.74"`` (an element followed by 3 numbers)."""
    first = re.split(r"[;\n]", text.strip())[0].split()
    if len(first) != 4:
        return False
    try:
        [float(v) for v in first[1:]]
    except ValueError:
        return False
    return bool(re.fullmatch(r"[A-Za-z]{1,2}\d*", first[0]))


def resolve_geometry(molecule: str) -> tuple[str, str]:
    """Turn a library name, an ``hchain<n>`` name, an xyz path or an atom string into (atom string, label)."""
    if not isinstance(molecule, str) or not molecule.strip():
        raise InputError(f"molecule must be a name, an .xyz path or a PySCF atom string, got {molecule!r}")
    text = molecule.strip()
    m = _CHAIN.match(text)
    if m:
        return h_chain(int(m.group(1) or m.group(2))), f"H{int(m.group(1) or m.group(2))} chain (1.0 A)"
    if looks_like_atom_string(text):
        return text, "atoms"
    if text.lower().endswith(".xyz"):
        return read_xyz(text)[0], Path(text).stem
    known = known_molecules()
    lookup = {k.lower(): k for k in known}
    if text.lower() in lookup:
        name = lookup[text.lower()]
        return read_xyz(molecules_dir() / f"{name}.xyz")[0], name
    raise UnknownNameError(f"unknown molecule {molecule!r}; known: {', '.join(known)}, "
                           "'hchain<n>' (n H atoms 1 A apart), an .xyz file, or an atom string like 'H 0 0 0; H 0 0 0.74'")


def geometry_array(atom_string: str) -> tuple[list[str], np.ndarray]:
    """Elements and (n, 3) coordinates in Angstrom of an atom string."""
    els, xyz = [], []
    for part in re.split(r"[;\n]", atom_string):
        if part.strip():
            el, *c = part.split()
            els.append(el)
            xyz.append([float(v) for v in c[:3]])
    return els, np.array(xyz)
