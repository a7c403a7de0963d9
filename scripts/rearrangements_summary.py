#!/usr/bin/env python3
"""Summary of a `pelx rearrangements` study next to an ART catalog of the same glass.

Reads the rearrangement file (JSON lines, schema pelx.rearrangements/1) and the two
`pelx asym` outputs (MD rearrangements and ART catalog, same --min-disp filters) and writes
one small JSON: per displacement threshold, the counts (records, converged paths, paths split at
intermediate minima, failures), the medians and quartiles of the path's forward barrier
(highest saddle above the initial minimum; the numbers `pelx asym` reports), of the largest
elementary forward barrier along each path and of all elementary hops, and the ART forward-barrier statistics; plus the cost (force calls
per pair). Standard library only.

  python3 scripts/rearrangements_summary.py REARR.jsonl ASYM_MD.json ASYM_ART.json -o summary.json
"""

import argparse
import json
import statistics


def quantiles(xs):
    """n, median, q25, q75, fraction below 0.5 and 1 eV of a list of barriers (eV)."""
    if not xs:
        return {"n": 0}
    xs = sorted(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return {
        "n": len(xs),
        "median": statistics.median(xs),
        "q25": q[0],
        "q75": q[2],
        "fraction_below_0.5eV": sum(x < 0.5 for x in xs) / len(xs),
        "fraction_below_1eV": sum(x < 1.0 for x in xs) / len(xs),
    }


def path_barrier(r):
    """(E_fw, converged) of the path, as `Rearrangement::path_barrier`: the band's for a single
    hop; for a path split at intermediate minima, the highest elementary saddle above the
    initial minimum, converged when every segment's band converged or has no barrier."""
    hops = r.get("elementary") or []
    if not hops:
        return r["e_fw"], r["converged"]
    ok = all(h["converged"] or min(h["e_fw"], h["e_rev"]) <= 0.0 for h in hops)
    return max(h["e_saddle"] for h in hops) - r["e_initial"], ok


def path_barrier_loose(r, margin=0.05):
    """E_fw of a split path whose highest saddle lies on a converged segment, with every
    unconverged segment's band maximum at least `margin` eV below it (None otherwise): a looser
    acceptance than `path_barrier`, reported separately."""
    hops = r.get("elementary") or []
    if not hops:
        return r["e_fw"] if r["converged"] else None
    top = max(hops, key=lambda h: h["e_saddle"])
    if not top["converged"]:
        return None
    if any(not h["converged"] and h["e_saddle"] > top["e_saddle"] - margin for h in hops if h is not top):
        return None
    return top["e_saddle"] - r["e_initial"]


def asym_filter(doc, d):
    for f in doc["filters"]:
        if abs(f["min_displacement"] - d) < 1e-9:
            if not f.get("summary"):
                return {"n": f["n_events"]}
            s = f["summary"]["e_fw"]
            return {"n": f["n_events"], "median": s.get("median"), "q25": s.get("q25"), "q75": s.get("q75")}
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rearrangements")
    p.add_argument("asym_md")
    p.add_argument("asym_art")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()

    run, recs, fails = None, [], []
    with open(a.rearrangements) as f:
        for line in f:
            if not line.endswith("\n") or not line.strip():
                continue  # an unterminated last line of an interrupted run
            d = json.loads(line)
            if d["type"] == "run":
                run = d
            elif d["type"] == "rearrangement":
                recs.append(d)
            else:
                fails.append(d)
    md = json.load(open(a.asym_md))
    art = json.load(open(a.asym_art))
    thresholds = [f["min_displacement"] for f in md["filters"]]

    calls = [r["force_calls"] for r in recs] + [r["force_calls"] for r in fails]
    out = {
        "schema": "pelx.rearrangements-summary/1",
        "trajectory": run["trajectory"],
        "trajectory_sha256": run["trajectory_sha256"],
        "natoms": run["natoms"],
        "interval_ps": run["interval"],
        "frames_analysed": run["frames_analysed"],
        "pairs_total": run["pairs_total"],
        "candidates": run["candidates"],
        "tasks_planned": run["tasks"],
        "tasks_written": len(recs) + len(fails),
        "last_task_frame": max((r["frame"] for r in recs + fails), default=None),
        "split_enabled": run["options"]["split"]["enabled"],
        "curvature_checked": run["options"]["neb"]["check_curvature"],
        "force_calls_per_pair": {
            "mean": statistics.mean(calls) if calls else None,
            "median": statistics.median(calls) if calls else None,
            "max": max(calls, default=None),
            "total": sum(calls),
        },
        "art_catalog": art["inputs"] if "inputs" in art else None,
        "filters": [],
    }
    for d in thresholds:
        sel = [r for r in recs if r["max_displacement"] >= d]
        conv = [r for r in sel if path_barrier(r)[1]]
        split = [r for r in sel if r["intermediate_minima"] > 0]
        hops = [h["e_fw"] for r in conv for h in (r.get("elementary") or [])]
        # The largest elementary forward barrier along each converged path.
        hardest = [max(h["e_fw"] for h in r["elementary"]) if r.get("elementary") else r["e_fw"] for r in conv]
        out["filters"].append({
            "min_displacement": d,
            "records": len(sel),
            "path_converged": len(conv),
            "path_not_converged": len(sel) - len(conv),
            "whole_band_converged": sum(r["converged"] for r in sel),
            "failures": sum(f["max_displacement"] >= d for f in fails),
            "split": len(split),
            "fraction_split": len(split) / len(sel) if sel else None,
            "intermediate_minima_mean": statistics.mean(r["intermediate_minima"] for r in sel) if sel else None,
            "md_path_e_fw": quantiles([path_barrier(r)[0] for r in conv]),
            "md_path_e_fw_asym": asym_filter(md, d),
            "md_path_e_fw_loose": quantiles([x for x in map(path_barrier_loose, sel) if x is not None]),
            "md_largest_elementary_e_fw": quantiles(hardest),
            "md_elementary_hops_e_fw": quantiles(hops),
            "art_e_fw": asym_filter(art, d),
        })
    with open(a.output, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
