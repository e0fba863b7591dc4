"""A parameter study: a task, its fixed keyword arguments and a grid of swept values.

A spec names a task (:mod:`physfact.sweep.tasks`), the keyword arguments every point shares
(``fixed``) and the swept ones (``grid``: name -> non-empty list). The points are the Cartesian
product of the grid lists, in row-major order of the grid keys as written (the last key varies
fastest). A string in ``fixed`` may contain ``{name}`` (or ``{name:format}``, Python format spec)
to be filled from the grid, so a grid key need not be a keyword itself::

    task = "df"
    [fixed]
    molecule = "N 0 0 0; N 0 0 {r}"
    basis = "cc-pvdz"
    tol = 1e-4
    [grid]
    r = [0.9, 1.0, 1.1, 1.2]

Everything is checked when the spec is built -- unknown tasks or keywords, values of the wrong
type or range, empty grids, placeholders that name no grid key, duplicate points -- so a bad spec
is refused (:class:`~physfact.errors.InputError`) before any worker starts.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from physfact.errors import DataFileError, InputError

_PLACEHOLDER = re.compile(r"\{(\w+)(:[^{}]*)?\}")
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class Point:
    """One point of a sweep.

    Attributes
    ----------
    index : int
        Position in the Cartesian product (row-major over the grid keys).
    values : dict
        The grid values of this point (grid key -> value).
    params : dict
        The task's keyword arguments at this point (fixed with placeholders filled, plus the grid
        values that are keywords).
    key : str
        Hash of (task, params): the point's identity in a store, independent of its index.
    """

    index: int
    values: dict
    params: dict
    key: str


@dataclass(frozen=True)
class Sweep:
    """A parameter study over one task (see the module docstring).

    Parameters
    ----------
    task : str or Task
        ``"df"``, ``"bt"``, ``"tt-chain"``, ``"fem-beam"`` (:data:`physfact.sweep.tasks.TASKS`), or
        a :class:`~physfact.sweep.tasks.Task` of your own.
    fixed : dict
        Keyword arguments shared by every point (the Python API's names).
    grid : dict
        Swept keyword arguments (or placeholder names): name -> non-empty list of values.

    Raises
    ------
    InputError
        Unknown task or keyword, bad value, empty grid list, placeholder naming no grid key,
        duplicate points.

    Examples
    --------
    >>> s = Sweep("tt-chain", fixed={"L": 8}, grid={"g": [0.5, 1.0, 1.5]})   # doctest: +SKIP
    >>> table = s.run("tfim-store", workers=2)                                  # doctest: +SKIP
    """

    task: object
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)

    def __post_init__(self):
        from physfact.sweep.tasks import get_task

        object.__setattr__(self, "task", get_task(self.task))
        if not isinstance(self.fixed, dict) or not isinstance(self.grid, dict):
            raise InputError("fixed and grid must be tables (dicts) of keyword -> value")
        object.__setattr__(self, "fixed", dict(self.fixed))
        object.__setattr__(self, "grid", {k: list(v) if isinstance(v, (list, tuple)) else v
                                          for k, v in self.grid.items()})
        self._check()

    # ---------------------------------------------------------------------------- construction
    @classmethod
    def from_toml(cls, path) -> "Sweep":
        """Read a spec file (module docstring): ``task``, ``[fixed]``, ``[grid]``."""
        path = Path(path)
        if not path.is_file():
            raise DataFileError(f"{path}: no such spec file")
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a valid TOML spec ({exc})") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, source: str = "spec") -> "Sweep":
        """A spec from its table form ``{"task": ..., "fixed": {...}, "grid": {...}}``."""
        unknown = sorted(set(data) - {"task", "fixed", "grid"})
        if unknown:
            raise InputError(f"{source}: unknown top-level keys {unknown}; a spec has task = \"...\", "
                             "[fixed] and [grid] (keyword arguments go inside [fixed] or [grid])")
        if "task" not in data:
            raise InputError(f"{source}: no task; add task = \"df\" (or bt, tt-chain, fem-beam)")
        return cls(data["task"], data.get("fixed", {}), data.get("grid", {}))

    def to_dict(self) -> dict:
        return {"task": self.task.name, "fixed": dict(self.fixed), "grid": {k: list(v) for k, v in self.grid.items()}}

    @property
    def spec_hash(self) -> str:
        """Hash of the spec's canonical JSON: a store refuses a different spec unless forced."""
        return _hash(self.to_dict())

    # ---------------------------------------------------------------------------- points
    @property
    def n_points(self) -> int:
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n

    def points(self) -> list[Point]:
        """Every point, in row-major order of the grid keys."""
        keys = list(self.grid)
        out = []
        for index, combo in enumerate(itertools.product(*(self.grid[k] for k in keys))):
            values = dict(zip(keys, combo))
            params = {name: _fill(value, values, name) for name, value in self.fixed.items()}
            params.update({k: v for k, v in values.items() if k in self.task.parameters})
            out.append(Point(index, values, params, _hash({"task": self.task.name, "params": params})[:20]))
        return out

    def run(self, store, client=None, workers: int | None = None, scheduler: str | None = None,
            force: bool = False, console=None):
        """Compute the missing points into ``store``; return the table (:func:`load_table`).

        Parameters
        ----------
        store : str or Path
            Result directory (created if absent): one file per point + ``results.csv``.
        client : distributed.Client, optional
            An existing Dask client (any cluster). Default: a LocalCluster of ``workers`` processes.
        workers : int, optional
            Worker processes of the LocalCluster (default: the CPUs available).
        scheduler : str, optional
            Address of a running Dask scheduler (``tcp://host:8786``) instead of a LocalCluster.
        force : bool
            Accept a store that holds a different spec (points of the old spec with the same
            parameters are kept; the table lists the new spec's points).

        Returns
        -------
        pandas.DataFrame or dict of columns
            A DataFrame when pandas is installed, else {column: list}.
        """
        from physfact.sweep.runner import run_sweep
        from physfact.sweep.store import load_table

        summary = run_sweep(self, store, client=client, workers=workers, scheduler=scheduler, force=force,
                            console=console)
        return load_table(summary.table)

    # ---------------------------------------------------------------------------- checks
    def _check(self):
        task = self.task
        params = task.parameters
        for name in self.fixed:
            if name in self.grid:
                raise InputError(f"{name!r} is both in [fixed] and in [grid]; keep one")
        for name, value in self.fixed.items():
            if name not in params:
                raise InputError(f"unknown keyword {name!r} for task {task.name!r}; known: {', '.join(params)}")
            _check_toml_value(value, f"fixed.{name}")
        used = set()
        for name, value in self.fixed.items():
            used |= _placeholders(value)
        missing = sorted(used - set(self.grid))
        if missing:
            raise InputError(f"{{{missing[0]}}} in [fixed] names no grid key; add {missing[0]} = [...] to [grid]")
        if not self.grid:
            raise InputError("the grid is empty; add at least one swept key, e.g. [grid] r = [1.0, 1.1]")
        for name, values in self.grid.items():
            if not isinstance(values, list):
                raise InputError(f"grid.{name} must be a list of values, got {values!r}")
            if not values:
                raise InputError(f"grid.{name} is an empty list; give at least one value")
            if name not in params and name not in used:
                raise InputError(f"grid key {name!r} is neither a keyword of task {task.name!r} nor used as "
                                 f"{{{name}}} in [fixed]; known keywords: {', '.join(params)}")
            if name in task.columns or name in ("point", "error", "seconds", "file"):
                raise InputError(f"grid key {name!r} is also a result column of task {task.name!r}; rename it")
            for v in values:
                _check_toml_value(v, f"grid.{name}")
        points = self.points()
        seen = {}
        for p in points:
            if p.key in seen:
                raise InputError(f"points {seen[p.key]} and {p.index} have the same parameters "
                                 f"({p.values}); remove the duplicate grid values")
            seen[p.key] = p.index
            task.check(p.params, where=f"point {p.index} ({_describe(p.values)})")


def _describe(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_toml_value(value, where):
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_toml_value(v, where)
        return
    raise InputError(f"{where}: unsupported value {value!r} ({type(value).__name__}); use numbers, strings, "
                     "booleans or lists of them")


def _placeholders(value) -> set:
    if isinstance(value, str):
        return {m.group(1) for m in _PLACEHOLDER.finditer(value)}
    if isinstance(value, (list, tuple)):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    return set()


def _fill(value, values: dict, name: str):
    """``value`` with every ``{key}`` / ``{key:fmt}`` replaced by the grid value of ``key``."""
    if isinstance(value, (list, tuple)):
        return [_fill(v, values, name) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m):
        fmt = (m.group(2) or ":")[1:]
        try:
            return format(values[m.group(1)], fmt)
        except (ValueError, TypeError) as exc:
            raise InputError(f"fixed.{name}: cannot format {m.group(1)}={values[m.group(1)]!r} "
                             f"with {{{m.group(1)}:{fmt}}} ({exc})") from None

    return _PLACEHOLDER.sub(sub, value)
