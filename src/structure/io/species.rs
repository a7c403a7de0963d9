//! Element names for LAMMPS atom types, and species tables whose order a user may fix.

use crate::units::atomic_mass;

/// Element symbols tried when a LAMMPS type has to be recognised from its mass alone;
/// only those with a mass in [`crate::units::atomic_mass`] can match.
const ELEMENTS: [&str; 118] = [
    "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca",
    "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",
    "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce",
    "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir",
    "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
    "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc",
    "Lv", "Ts", "Og",
];

/// Largest difference (amu) between a LAMMPS mass and a tabulated atomic mass for the type to
/// be recognised as that element (covers masses written as 63.55 or 91.2).
pub(crate) const MASS_MATCH_TOLERANCE: f64 = 0.5;

/// The element whose tabulated mass is nearest to `mass`, if within [`MASS_MATCH_TOLERANCE`].
pub(crate) fn element_from_mass(mass: f64) -> Option<&'static str> {
    ELEMENTS
        .iter()
        .filter_map(|&e| atomic_mass(e).map(|m| (e, (m - mass).abs())))
        .filter(|&(_, d)| d <= MASS_MATCH_TOLERANCE)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| e)
}

/// Species of the LAMMPS atom types 1..=n: the distinct names in order of first use, and the
/// species index of each type (two types may share an element).
#[derive(Debug, Clone)]
pub(crate) struct TypeNames {
    species: Vec<String>,
    index: Vec<usize>,
}

impl TypeNames {
    /// `names[t - 1]` is the element of type `t`.
    pub(crate) fn new<S: AsRef<str>>(names: &[S]) -> Self {
        let mut species: Vec<String> = Vec::new();
        let mut index = Vec::with_capacity(names.len());
        for n in names {
            let n = n.as_ref();
            let i = match species.iter().position(|s| s == n) {
                Some(i) => i,
                None => {
                    species.push(n.to_string());
                    species.len() - 1
                }
            };
            index.push(i);
        }
        TypeNames { species, index }
    }

    /// Number of types mapped.
    pub(crate) fn ntypes(&self) -> usize {
        self.index.len()
    }

    /// Species index of the 1-based type `t`, if mapped.
    #[inline]
    pub(crate) fn species_of(&self, t: usize) -> Option<usize> {
        t.checked_sub(1).and_then(|k| self.index.get(k).copied())
    }

    /// Distinct species names.
    pub(crate) fn species(&self) -> &[String] {
        &self.species
    }
}

/// Species names met while reading per-atom element names: in order of first appearance, or
/// in the order of a user list that must then hold every name met.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpeciesTable {
    names: Vec<String>,
    fixed: bool,
}

impl SpeciesTable {
    pub(crate) fn new(user: Option<&[String]>) -> Self {
        match user {
            Some(list) => SpeciesTable {
                names: TypeNames::new(list).species,
                fixed: true,
            },
            None => SpeciesTable::default(),
        }
    }

    /// The index of `name`, adding it if the order is not fixed.
    #[inline]
    pub(crate) fn index(&mut self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.names.iter().position(|s| s == name) {
            return Ok(i);
        }
        if self.fixed {
            return Err(format!(
                "species '{name}' is not in the species list ({})",
                self.names.join(", ")
            ));
        }
        self.names.push(name.to_string());
        Ok(self.names.len() - 1)
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masses_are_recognised() {
        assert_eq!(element_from_mass(63.546), Some("Cu"));
        assert_eq!(element_from_mass(91.22), Some("Zr"));
        assert_eq!(element_from_mass(58.9), Some("Co")); // nearer Co (58.933) than Ni (58.693)
        assert_eq!(element_from_mass(12.0), None);
    }

    #[test]
    fn type_names_share_species() {
        let t = TypeNames::new(&["Cu", "Zr", "Cu"]);
        assert_eq!(t.species(), ["Cu", "Zr"]);
        assert_eq!(
            (t.species_of(1), t.species_of(2), t.species_of(3)),
            (Some(0), Some(1), Some(0))
        );
        assert_eq!((t.species_of(0), t.species_of(4)), (None, None));
    }

    #[test]
    fn fixed_species_table_rejects_unknown_names() {
        let mut t = SpeciesTable::new(Some(&["Zr".to_string(), "Cu".to_string()]));
        assert_eq!(t.index("Cu"), Ok(1));
        assert_eq!(
            t.index("Al").unwrap_err(),
            "species 'Al' is not in the species list (Zr, Cu)"
        );
        let mut open = SpeciesTable::new(None);
        assert_eq!(
            (open.index("Zr"), open.index("Cu"), open.index("Zr")),
            (Ok(0), Ok(1), Ok(0))
        );
    }
}
