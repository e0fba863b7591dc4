"""``physfact sweep --plot``: the swept scalar results against the first grid key.

One panel per result column the task names for plotting (e.g. L, lambda and Toffolis for ``df``);
one line per combination of the other grid keys (in the legend). Failed points are gaps. Columns
spanning more than two decades of positive values get a log axis.
"""
from __future__ import annotations

import math

from physfact.plotting import pyplot, save_figure
from physfact.sweep.store import load_table


def _columns(table) -> dict:
    if hasattr(table, "columns") and hasattr(table, "to_dict"):  # a pandas DataFrame
        return {c: [None if _isnan(v) else v for v in table[c].tolist()] for c in table.columns}
    return table


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _number(v):
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def plot_sweep(sweep, table_path, path, columns=None):
    """Draw ``columns`` (default: the task's ``plot`` columns) of a store's table against the first
    grid key; save to ``path`` (format from the suffix)."""
    data = _columns(load_table(table_path))
    task = sweep.task
    keys = list(sweep.grid)
    xkey, others = keys[0], keys[1:]
    wanted = [c for c in (columns or task.plot or task.columns)
              if c in data and any(_number(v) is not None for v in data[c])]
    xs = data.get(xkey, [])
    numeric_x = all(_number(v) is not None for v in xs)
    categories = list(dict.fromkeys(xs))
    plt = pyplot()
    n = max(len(wanted), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.8), squeeze=False)
    series = {}
    for i in range(len(xs)):
        series.setdefault(tuple(data[k][i] for k in others), []).append(i)
    for ax, col in zip(axes[0], wanted):
        values = []
        for label, rows in series.items():
            pts = [(float(xs[i]) if numeric_x else categories.index(xs[i]), _number(data[col][i])) for i in rows]
            pts = sorted((x, y) for x, y in pts if y is not None)
            if not pts:
                continue
            values += [y for _, y in pts]
            name = ", ".join(f"{k}={v}" for k, v in zip(others, label)) or task.name
            ax.plot([x for x, _ in pts], [y for _, y in pts], "o-", ms=4, label=name)
        if values and min(values) > 0 and max(values) > 100 * min(values):
            ax.set_yscale("log")
        if not numeric_x:
            ax.set_xticks(range(len(categories)))
            ax.set_xticklabels([str(c) for c in categories], rotation=30, ha="right")
        ax.set_xlabel(task.labels.get(xkey, xkey))
        ax.set_ylabel(task.labels.get(col, col))
        ax.set_title(col)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    if not wanted:
        axes[0][0].text(0.5, 0.5, "no finished point has a numeric result", ha="center", va="center")
        axes[0][0].set_axis_off()
    fixed = ", ".join(f"{k}={v}" for k, v in sweep.fixed.items() if not isinstance(v, (list, dict)))
    fig.suptitle(f"sweep {task.name} over {xkey}" + (f" ({fixed})" if fixed and len(fixed) < 90 else ""))
    fig.tight_layout()
    return save_figure(fig, path)
