//! Structure file formats: extended XYZ, LAMMPS data, LAMMPS dump.
