"""LF10 (a vertical stand, second order M q'' + D q' + K q = B u) reduced with its structure kept.

Second-order balanced truncation (Reis & Stykel 2008) returns M_r, D_r, K_r, B_r, C_r -- a
mechanical model again -- where first-order BT returns an unstructured (A_r, B_r, C_r). The five
variants and first-order BT are compared by their H-infinity errors at the same number of states.
Needs the MORwiki LF10 file (shared data folder).
"""
from __future__ import annotations

from physfact.control import balanced_truncation, models, second_order_balanced_truncation


def main(small: bool = False, plot: str | None = None) -> dict:
    sos = models.load("lf10")
    r = 3 if small else 4
    norm = float(sos.hinf_norm())
    out = {"nq": sos.nq, "r": r, "hinf_norm": norm, "variants": {}}
    print(f"LF10: n_q = {sos.nq} positions (first-order n = {sos.n}), ||G||_Hinf = {norm:.4g}")
    for variant in ("p", "v", "pv", "vp", "fv"):
        res = second_order_balanced_truncation(sos, rank=r, variant=variant)
        err = float((sos - res.rom).hinf_norm())
        out["variants"][variant] = {"error": err, "stable": res.rom.is_stable()}
        print(f"  SOBT-{variant:<2}: r = {r} positions (2r = {2 * r} states), relative error {err / norm:.3e}, "
              f"stable {res.rom.is_stable()}")
    bt = balanced_truncation(sos, rank=2 * r)
    out["first_order_error"] = float((sos - bt.rom).hinf_norm())
    print(f"  first-order BT with {2 * r} states: relative error {out['first_order_error'] / norm:.3e} "
          f"(bound {bt.error_bound / norm:.3e}; LF10's cond(E) ~ 3e10 limits the HSVs below ~1e-11 "
          "relative), no mechanical structure")
    if plot:
        from physfact.plotting import pyplot, save_figure

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        names = [f"SOBT-{v}" for v in out["variants"]] + ["first-order BT"]
        errors = [v["error"] / norm for v in out["variants"].values()] + [out["first_order_error"] / norm]
        ax.bar(names, errors, color=["C0"] * len(out["variants"]) + ["C3"])
        ax.set_yscale("log")
        ax.set_xlabel(f"reduction method ({2 * r} states each)")
        ax.set_ylabel(r"relative error $\|G - G_r\|_\infty / \|G\|_\infty$")
        ax.set_title(f"LF10 (n_q = {sos.nq}): structured vs first-order reduction")
        fig.tight_layout()
        save_figure(fig, plot)
    return out


if __name__ == "__main__":
    main()
