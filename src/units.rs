//! Physical constants in LAMMPS "metal" units (eV, Å, ps, K, amu).

/// Boltzmann constant in eV/K (CODATA 2018).
pub const KB: f64 = 8.617333262e-5;

/// Atomic masses (amu) of the elements pelx users meet most, for writing LAMMPS data files.
/// Values as in the LAMMPS potential files and IUPAC tables.
pub fn atomic_mass(element: &str) -> Option<f64> {
    Some(match element {
        "H" => 1.008,
        "Al" => 26.982,
        "Si" => 28.085,
        "P" => 30.974,
        "Ti" => 47.867,
        "Fe" => 55.845,
        "Co" => 58.933,
        "Ni" => 58.693,
        "Cu" => 63.546,
        "Zn" => 65.38,
        "Zr" => 91.224,
        "Nb" => 92.906,
        "Pd" => 106.42,
        "Ag" => 107.868,
        "Ta" => 180.948,
        "W" => 183.84,
        "Pt" => 195.084,
        "Au" => 196.967,
        "Ar" => 39.948,
        _ => return None,
    })
}
