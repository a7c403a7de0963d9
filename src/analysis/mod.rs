//! Barrier statistics from event catalogs: the forward/reverse asymmetry tables, the
//! Fan-Iwashita-Egami spectrum fits, and the figures.
//!
//! | module | what lives there |
//! |---|---|
//! | [`catalogs`] | several catalogs read as one data set ([`catalogs::CatalogSet`]), with the checks that make combining them meaningful |
//! | [`asym`] | per max-displacement filter: histograms of E_fw, E_rev, E_fw - E_rev and their joint histogram, summary statistics, fits ([`asym::analyse`], `asym.json`) |
//! | [`spectrum`] | FIE eq. (3) ([`spectrum::FieSpectrum`]: density, cdf, exact sampler) and eq. (5) ([`spectrum::ExpSpectrum`]) |
//! | [`fit`] | maximum-likelihood fits with Hessian and bootstrap uncertainties and a KS test |
//! | [`stats`] | aligned histograms, summary statistics |
//! | [`special`] | erfc, erfcx, the Kolmogorov distribution |
//! | [`plot`] | SVG figures (barrier distributions, fitted M1/M2 decomposition, joint heat map) |
//!
//! Energies in eV, displacements in Å.

pub mod asym;
pub mod catalogs;
pub mod fit;
pub mod plot;
pub mod special;
pub mod spectrum;
pub mod stats;
