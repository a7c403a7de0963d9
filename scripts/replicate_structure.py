#!/usr/bin/env python3
"""Writes an NX x NY x NZ periodic replica of a structure as extended XYZ (%.17g floats).

Environment: plain Python 3 with numpy (ASE only for unusual element names); the LAMMPS
environment made by `scripts/lammps-venv.sh` has both.

Usage:
  python scripts/replicate_structure.py configs/Cu56Zr44_2000.extxyz 2 2 2 \
      -o configs/Cu56Zr44_16000_replica.extxyz
Image (i, j, k) holds the input atoms shifted by i a + j b + k c, images in the order k fastest,
then j, then i; the cell is (NX a, NY b, NZ c).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lammps_io as lio  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("structure")
    ap.add_argument("n", type=int, nargs=3, metavar="N")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--species", help="comma-separated species of types 1, 2, ... (data files)")
    a = ap.parse_args(argv)
    s = lio.read_structure(a.structure, a.species.split(",") if a.species else None)
    r = lio.replicate(s, *a.n)
    nx, ny, nz = a.n
    lio.write_extxyz(a.output, r, f"{nx}x{ny}x{nz} replica of {os.path.basename(a.structure)}")
    print(f"{a.output}: {r.natoms} atoms")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
