#!/usr/bin/env python3
"""Make your own figures from pelx output with matplotlib (and numpy).

Reads the files directly, so it is a starting point for custom plots:

  python examples/plot_catalog.py art.jsonl [shard2.jsonl ...] --min-disp 1.0 -o barriers.png
      E_fw and E_rev distributions of the events in event catalogs (JSON lines, one
      {"type": "event", ...} record per line), for events with max displacement >= --min-disp Å.

  python examples/plot_catalog.py asym.json -o asym.png
      The histograms stored by `pelx asym` (schemas/asym.schema.json), one row per
      max-displacement filter, with the fitted FIE spectra when `--fit fie` was used.

Energies in eV, displacements in Å.
"""
import argparse
import json
import math

import matplotlib.pyplot as plt
import numpy as np


def read_events(paths):
    """E_fw, E_rev and max displacement of every event in the catalogs."""
    rows = []
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("type") == "event":
                        rows.append((rec["e_fw"], rec["e_rev"], rec["max_displacement"]))
    return np.array(rows).reshape(-1, 3)


def fie_pdf(e, w, m, e_a, s):
    """FIE eq. (3): W exp(-E/e_A)/e_A + (1 - W) E exp(-(E - m)^2/(2 s^2))/J on E >= 0."""
    a = m / s
    j = s * s * (math.exp(-a * a / 2) + a * math.sqrt(math.pi / 2) * (1 + math.erf(a / math.sqrt(2))))
    m1 = w / e_a * np.exp(-e / e_a)
    m2 = (1 - w) * e * np.exp(-((e - m) ** 2) / (2 * s * s)) / j
    return m1, m2


def plot_catalogs(paths, min_disp, bin_width, out):
    ev = read_events(paths)
    ev = ev[ev[:, 2] >= min_disp]
    if len(ev) == 0:
        raise SystemExit(f"no event with max displacement >= {min_disp} Å")
    bins = np.arange(0.0, ev[:, :2].max() + bin_width, bin_width)
    fig, ax = plt.subplots(figsize=(6, 4))
    for col, name in [(0, "E_fw"), (1, "E_rev")]:
        ax.hist(ev[:, col], bins=bins, density=True, histtype="stepfilled", alpha=0.4,
                label=f"{name} (median {np.median(ev[:, col]):.3f} eV)")
    ax.set(xlabel="barrier (eV)", ylabel="probability density (1/eV)",
           title=f"max displacement ≥ {min_disp} Å: {len(ev)} events")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=200)


def plot_asym(path, out):
    doc = json.load(open(path))
    filters = [f for f in doc["filters"] if f["n_events"] > 0]
    fig, axes = plt.subplots(len(filters), 2, figsize=(10, 3.2 * len(filters)), squeeze=False)
    for row, f in zip(axes, filters):
        for ax, key, colour in [(row[0], "e_fw", "C0"), (row[1], "e_rev", "C3")]:
            h = f["histograms"][key]
            edges = h["lo"] + h["bin"] * np.arange(len(h["density"]) + 1)
            ax.stairs(h["density"], edges, fill=True, alpha=0.4, color=colour, label=f"{f['n_events']} events")
            ax.set(xlabel=f"{key} (eV)", ylabel="density (1/eV)",
                   title=f"max displacement ≥ {f['min_displacement']} Å")
        fits = f.get("fits") or {}
        e = np.linspace(0, edges[-1], 400)
        if fits.get("activation"):
            p = {k: fits["activation"][k]["value"] for k in ("w", "m", "e_a", "s")}
            m1, m2 = fie_pdf(e, **p)
            row[0].plot(e, m1 + m2, "k", label=f"fit: W = {p['w']:.3f}, m = {p['m']:.3f} eV")
            row[0].plot(e, m1, "g--", label="M1")
            row[0].plot(e, m2, "m--", label="M2")
        if fits.get("relaxation"):
            e_r = fits["relaxation"]["e_r"]["value"]
            row[1].plot(e, np.exp(-e / e_r) / e_r, "k", label=f"fit: e_R = {e_r:.3f} eV")
        row[0].legend()
        row[1].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=200)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="event catalogs (.jsonl) or one asym.json")
    ap.add_argument("--min-disp", type=float, default=1.0, help="max-displacement filter for catalogs, Å")
    ap.add_argument("--bin", type=float, default=0.05, help="bin width for catalogs, eV")
    ap.add_argument("-o", "--output", default="barriers.png", help="figure file (png, pdf, svg)")
    args = ap.parse_args()
    if len(args.inputs) == 1 and args.inputs[0].endswith(".json"):
        plot_asym(args.inputs[0], args.output)
    else:
        plot_catalogs(args.inputs, args.min_disp, args.bin, args.output)
