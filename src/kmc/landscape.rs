//! Quenched what-if energy landscapes for the correlation-factor studies.
//!
//! ## The model
//! Basins sit on the sites of an infinite lattice (fcc by default, Z = 12 exits per basin); a
//! tracer atom hops with the system from basin to basin. Every basin i has an energy E_i, every
//! link between neighbouring basins a saddle of energy
//!
//! `E_s = (E_i + E_j) / 2 + B_ij`,   so   `E_fw = E_s - E_i = B_ij + (E_j - E_i)/2`,
//! `E_rev = E_s - E_j = B_ij - (E_j - E_i)/2`.
//!
//! B_ij is the link's bare barrier and `E_fw - E_rev = E_j - E_i` its asymmetry: barriers derive
//! from basin and saddle energies (a Bell-Evans-Polanyi relation of slope 1/2), so every loop of
//! the network is consistent and detailed balance holds with Boltzmann weights exp(-E_i/k_BT).
//! A saddle is never lower than `min_barrier` above either basin (it is raised when it would be;
//! the fraction raised is reported). The hop vector of a link is its lattice direction times the
//! link's hop length; crossing back is the exact reverse hop.
//!
//! The landscape is quenched and lazy: E_i is a hash of (seed, basin coordinates) and a link's
//! random numbers a hash of (seed, both basins in a fixed order), so a basin revisited has the
//! same exits and nothing is stored. The same seed gives the same standard-normal numbers at
//! every asymmetry level, so levels differ only by the dial (common random numbers).
//!
//! ## Barrier sources
//! * [`BarrierSource::Parametric`]: `E_i ~ N(0, σ_E^2)` and `B ~ N(μ, σ_B^2)`, with the
//!   asymmetry dial a in [0, 1] setting `σ_E^2 = 2 a σ^2`; the asymmetry `E_j - E_i` of a link is
//!   then N(0, 4 a σ^2). What the dial holds fixed is a choice ([`Dial`]):
//!   - [`Dial::FixedForward`] (default): `σ_B^2 = (1 - a) σ^2`, so over the links the forward
//!     barrier is N(μ, σ^2) at every a, and corr(E_fw, E_rev) = 1 - 2a. Asymmetry replaces
//!     saddle disorder: a = 0 is the random-barrier model (symmetric barriers, no basin-energy
//!     disorder), a = 1 has one bare barrier and fully anticorrelated pairs.
//!   - [`Dial::FixedSaddle`]: `σ_B = σ`, so the bare-barrier (saddle) disorder is fixed and
//!     asymmetry is added on top of it; the forward barrier is N(μ, (1 + a) σ^2) and
//!     corr(E_fw, E_rev) = (1 - a)/(1 + a).
//!
//!   With Boltzmann weights on basins the mean hop rate is exactly
//!   `Z ν exp(-μx + σ_B^2 x^2/2 - σ_E^2 x^2/4)`, x = 1/k_BT (tested): saddle disorder speeds
//!   hops up, basin disorder (trapping) slows them down.
//! * [`BarrierSource::Samples`]: harvested pairs (E_fw, E_rev, hop length). Basin energies are
//!   Gaussian with `σ_E^2 = <(E_fw - E_rev)^2> / 2`, so that links have the sample's mean-square
//!   asymmetry; each link takes the bare barrier `(E_fw + E_rev)/2` and hop length of the sample
//!   at the same quantile of |E_fw - E_rev| as the link's |E_j - E_i| has in the landscape
//!   (quantile coupling), which keeps the sample's dependence of barrier and hop length on
//!   asymmetry. Each link is thus a harvested event, oriented by the basin energies.
//!
//! ## Assumptions, stated
//! A harvested catalog describes exits from one (relaxed, deep) basin, mostly uphill; a
//! stationary landscape cannot have every basin like that, so the samples are used symmetrised
//! as above. The network is a regular lattice (fixed coordination, no dead ends), hop vectors
//! follow lattice directions (loops of different hop lengths need not close), and there is one
//! tracer per walker. Gaussian basin energies make the landscape non-Arrhenius and, once
//! σ_E / k_BT exceeds about 3, slow to equilibrate (the walker keeps finding deeper basins):
//! check the convergence record of each temperature. With saddle disorder alone (a = 0, σ > 0)
//! f is below 1 too: the random-barrier model has back-and-forth hops over its lowest links.

use super::lattice::{Geometry, Lattice};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A lattice site of the basin network, in the grid units of its [`Geometry`].
pub type Basin = [i32; 3];

/// A forward/reverse barrier pair with the tracer's hop length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BarrierPair {
    /// Forward barrier, eV.
    pub e_fw: f64,
    /// Reverse barrier, eV.
    pub e_rev: f64,
    /// Length of the tracer's hop, Å.
    pub hop_length: f64,
}

/// What the asymmetry dial of parametric barriers holds fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dial {
    /// The distribution of forward barriers over the links: asymmetry replaces saddle disorder.
    #[default]
    FixedForward,
    /// The distribution of bare (saddle) barriers: asymmetry is added to saddle disorder.
    FixedSaddle,
}

/// Where the barriers of a landscape come from.
#[derive(Debug, Clone, PartialEq)]
pub enum BarrierSource {
    /// Gaussian barriers of mean `fw_mean` (eV): forward barriers N(`fw_mean`, `fw_sd`^2) over
    /// the landscape's links at a = 0 (and at every a with [`Dial::FixedForward`]), the
    /// asymmetry dial `asymmetry` a in [0, 1], and one hop length (Å).
    Parametric {
        fw_mean: f64,
        fw_sd: f64,
        asymmetry: f64,
        dial: Dial,
        hop_length: f64,
    },
    /// Harvested pairs, for example from an ART catalog.
    Samples(Vec<BarrierPair>),
}

/// How the bare barrier and hop length of a link are drawn.
#[derive(Debug, Clone)]
enum LinkModel {
    Gaussian {
        mean: f64,
        sd: f64,
        hop_length: f64,
    },
    /// Bare barriers and hop lengths, sorted by increasing |E_fw - E_rev|.
    Samples {
        bare: Vec<f64>,
        hop_length: Vec<f64>,
    },
}

/// One exit of a basin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exit {
    /// The basin it leads to.
    pub to: Basin,
    /// Forward (from this basin) and reverse barriers, eV.
    pub e_fw: f64,
    pub e_rev: f64,
    /// The tracer's hop, Å.
    pub hop: [f64; 3],
    /// Whether the saddle was raised to respect `min_barrier`.
    pub raised: bool,
}

/// A quenched landscape of basins and saddles.
#[derive(Debug, Clone)]
pub struct Landscape {
    network: Lattice,
    geometry: Geometry,
    /// Unit vectors of the lattice directions.
    units: Vec<[f64; 3]>,
    seed: u64,
    min_barrier: f64,
    sigma_e: f64,
    links: LinkModel,
    mean_hop_length: f64,
}

const TAG_BASIN: u64 = 0xB0A5_1E00;
const TAG_LINK: u64 = 0x11E4_0000;

impl Landscape {
    /// A landscape on the `network` lattice (fcc, bcc or sc) with barriers from `source`.
    /// `min_barrier` (eV, >= 0) is the least height of a saddle above either of its basins.
    pub fn new(source: &BarrierSource, network: Lattice, min_barrier: f64, seed: u64) -> Result<Self> {
        let geometry = network.geometry();
        if !matches!(network, Lattice::Fcc | Lattice::Bcc | Lattice::Sc) {
            return Err(Error::invalid(format!(
                "basin network '{network}' must be fcc, bcc or sc"
            )));
        }
        if !(min_barrier >= 0.0 && min_barrier.is_finite()) {
            return Err(Error::invalid(format!(
                "min_barrier {min_barrier} eV must be a non-negative number"
            )));
        }
        let units = geometry.hops[0]
            .iter()
            .map(|h| {
                let n = (geometry.dot(*h, *h) as f64).sqrt();
                [0, 1, 2].map(|d| h[d] as f64 * (geometry.metric[d] as f64).sqrt() / n)
            })
            .collect();
        let (sigma_e, links, mean_hop_length) = match source {
            BarrierSource::Parametric {
                fw_mean,
                fw_sd,
                asymmetry,
                dial,
                hop_length,
            } => {
                let (mu, s, a, l) = (*fw_mean, *fw_sd, *asymmetry, *hop_length);
                if !(mu > 0.0 && mu.is_finite()) {
                    return Err(Error::invalid(format!("mean forward barrier {mu} eV must be positive")));
                }
                if !(s >= 0.0 && s.is_finite()) {
                    return Err(Error::invalid(format!(
                        "forward-barrier spread {s} eV must be non-negative"
                    )));
                }
                if !(0.0..=1.0).contains(&a) {
                    return Err(Error::invalid(format!("asymmetry {a} must lie in [0, 1]")));
                }
                if !(l > 0.0 && l.is_finite()) {
                    return Err(Error::invalid(format!("hop length {l} Å must be positive")));
                }
                let sigma_b = match dial {
                    Dial::FixedForward => s * (1.0 - a).sqrt(),
                    Dial::FixedSaddle => s,
                };
                let links = LinkModel::Gaussian {
                    mean: mu,
                    sd: sigma_b,
                    hop_length: l,
                };
                (s * (2.0 * a).sqrt(), links, l)
            }
            BarrierSource::Samples(pairs) => {
                if pairs.is_empty() {
                    return Err(Error::invalid("no barrier pairs to build a landscape from"));
                }
                for p in pairs {
                    let ok = |x: f64| x >= 0.0 && x.is_finite();
                    if !(ok(p.e_fw) && ok(p.e_rev) && p.hop_length > 0.0 && p.hop_length.is_finite()) {
                        return Err(Error::invalid(format!(
                            "barrier pair {p:?}: barriers must be non-negative and the hop length positive"
                        )));
                    }
                }
                let mut sorted = pairs.clone();
                sorted.sort_by(|a, b| (a.e_fw - a.e_rev).abs().total_cmp(&(b.e_fw - b.e_rev).abs()));
                let n = sorted.len() as f64;
                let ms_asym = sorted.iter().map(|p| (p.e_fw - p.e_rev).powi(2)).sum::<f64>() / n;
                let mean_len = sorted.iter().map(|p| p.hop_length).sum::<f64>() / n;
                let links = LinkModel::Samples {
                    bare: sorted.iter().map(|p| 0.5 * (p.e_fw + p.e_rev)).collect(),
                    hop_length: sorted.iter().map(|p| p.hop_length).collect(),
                };
                ((0.5 * ms_asym).sqrt(), links, mean_len)
            }
        };
        Ok(Landscape {
            network,
            geometry,
            units,
            seed,
            min_barrier,
            sigma_e,
            links,
            mean_hop_length,
        })
    }

    /// The lattice of basins.
    pub fn network(&self) -> Lattice {
        self.network
    }

    /// Number of exits of every basin.
    pub fn coordination(&self) -> usize {
        self.units.len()
    }

    /// Standard deviation of the basin energies, eV.
    pub fn sigma_basin(&self) -> f64 {
        self.sigma_e
    }

    /// Mean hop length of the links, Å.
    pub fn mean_hop_length(&self) -> f64 {
        self.mean_hop_length
    }

    /// Energy of a basin, eV.
    pub fn basin_energy(&self, b: Basin) -> f64 {
        if self.sigma_e == 0.0 {
            return 0.0;
        }
        self.sigma_e * normal(hash(&[self.seed, TAG_BASIN, pack_xy(b), b[2] as u32 as u64]))
    }

    /// A basin chosen by `u` (four uniform numbers in [0, 1): three for the cell, one for the
    /// basis site) within about a million lattice cells of the origin: where a walker starts.
    pub fn basin_at(&self, u: [f64; 4]) -> Basin {
        let g = &self.geometry;
        let span = 1i64 << 20;
        let c: [i32; 3] = [0, 1, 2].map(|d| ((u[d] * 2.0 * span as f64) as i64 - span) as i32 * g.cell[d]);
        let b = g.basis[((u[3] * g.basis.len() as f64) as usize).min(g.basis.len() - 1)];
        [c[0] + b[0], c[1] + b[1], c[2] + b[2]]
    }

    /// Cartesian position (Å) of a basin's lattice site, at the mean hop length per lattice
    /// spacing: a reference point for trajectories, not the tracer's path-dependent position.
    pub fn nominal_position(&self, b: Basin) -> [f64; 3] {
        let s = self.geometry.axis_scale();
        [0, 1, 2].map(|d| b[d] as f64 * s[d] * self.mean_hop_length)
    }

    /// Writes the exits of basin `b` into `out` (replacing its content).
    pub fn exits(&self, b: Basin, out: &mut Vec<Exit>) {
        out.clear();
        let ei = self.basin_energy(b);
        for (k, h) in self.geometry.hops[0].iter().enumerate() {
            let to = [b[0] + h[0], b[1] + h[1], b[2] + h[2]];
            let ej = self.basin_energy(to);
            let (lo, hi) = if b < to { (b, to) } else { (to, b) };
            let key = hash(&[
                self.seed,
                TAG_LINK,
                pack_xy(lo),
                lo[2] as u32 as u64,
                pack_xy(hi),
                hi[2] as u32 as u64,
            ]);
            let (bare, len) = self.link(key, ej - ei);
            let mut es = 0.5 * (ei + ej) + bare;
            let floor = ei.max(ej) + self.min_barrier;
            let raised = es < floor;
            if raised {
                es = floor;
            }
            let u = self.units[k];
            out.push(Exit {
                to,
                e_fw: es - ei,
                e_rev: es - ej,
                hop: [u[0] * len, u[1] * len, u[2] * len],
                raised,
            });
        }
    }

    /// Bare barrier and hop length of the link with hash `key` and asymmetry `de` = E_j - E_i.
    fn link(&self, key: u64, de: f64) -> (f64, f64) {
        match &self.links {
            LinkModel::Gaussian { mean, sd, hop_length } => (mean + sd * normal(key), *hop_length),
            LinkModel::Samples { bare, hop_length } => {
                // Quantile of |de| under its law |N(0, 2 σ_E^2)|, or a uniform draw when the
                // basins are all level.
                let q = if self.sigma_e > 0.0 {
                    erf(de.abs() / (2.0 * self.sigma_e))
                } else {
                    uniform(key)
                };
                let k = ((q * bare.len() as f64) as usize).min(bare.len() - 1);
                (bare[k], hop_length[k])
            }
        }
    }

    /// Statistics of `n` links drawn at random basins (deterministic in `seed`): what an
    /// unbiased harvest of this landscape would find.
    pub fn link_statistics(&self, n: usize, seed: u64) -> LinkStatistics {
        let mut fw = Vec::with_capacity(n);
        let mut rev = Vec::with_capacity(n);
        let mut raised = 0usize;
        let mut exits = Vec::new();
        for i in 0..n {
            let h = |t: u64| uniform(hash(&[seed, 0x57A7, i as u64, t]));
            let b = self.basin_at([h(0), h(1), h(2), h(3)]);
            self.exits(b, &mut exits);
            let e = exits[((h(4) * exits.len() as f64) as usize).min(exits.len() - 1)];
            fw.push(e.e_fw);
            rev.push(e.e_rev);
            raised += e.raised as usize;
        }
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        let (mf, mr) = (mean(&fw), mean(&rev));
        let cov = fw.iter().zip(&rev).map(|(a, b)| (a - mf) * (b - mr)).sum::<f64>() / n as f64;
        let vf = fw.iter().map(|a| (a - mf).powi(2)).sum::<f64>() / n as f64;
        let vr = rev.iter().map(|b| (b - mr).powi(2)).sum::<f64>() / n as f64;
        LinkStatistics {
            links: n,
            fw_mean: mf,
            fw_sd: vf.sqrt(),
            rev_mean: mr,
            mean_abs_asymmetry: fw.iter().zip(&rev).map(|(a, b)| (a - b).abs()).sum::<f64>() / n as f64,
            fw_rev_correlation: cov / (vf * vr).sqrt(),
            raised_fraction: raised as f64 / n as f64,
            sigma_basin: self.sigma_e,
        }
    }
}

/// What a harvest of random links of a landscape finds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkStatistics {
    pub links: usize,
    /// Mean and standard deviation of forward barriers, eV.
    pub fw_mean: f64,
    pub fw_sd: f64,
    /// Mean reverse barrier, eV.
    pub rev_mean: f64,
    /// Mean |E_fw - E_rev|, eV.
    pub mean_abs_asymmetry: f64,
    /// Pearson correlation of E_fw and E_rev (1 - 2a for the parametric source).
    pub fw_rev_correlation: f64,
    /// Fraction of saddles raised to respect the minimum barrier.
    pub raised_fraction: f64,
    /// Standard deviation of the basin energies, eV.
    pub sigma_basin: f64,
}

/// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a word sequence, each word mixed before it is combined.
pub(crate) fn hash(words: &[u64]) -> u64 {
    words.iter().fold(0x243F_6A88_85A3_08D3, |h, &w| {
        mix(h ^ mix(w.wrapping_add(0x9E37_79B9_7F4A_7C15)))
    })
}

fn pack_xy(b: Basin) -> u64 {
    (b[0] as u32 as u64) | ((b[1] as u32 as u64) << 32)
}

/// Uniform number in [0, 1) from the top 53 bits of a hash.
pub(crate) fn uniform(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Standard normal number from a hash (Box-Muller, cosine branch).
fn normal(h: u64) -> f64 {
    let u1 = 1.0 - uniform(h);
    let u2 = uniform(mix(h ^ 0x9E37_79B9_7F4A_7C15));
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), for x >= 0.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    1.0 - poly * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parametric(a: f64, sd: f64) -> Landscape {
        parametric_dial(a, sd, Dial::FixedForward)
    }

    fn parametric_dial(a: f64, sd: f64, dial: Dial) -> Landscape {
        let src = BarrierSource::Parametric {
            fw_mean: 0.6,
            fw_sd: sd,
            asymmetry: a,
            dial,
            hop_length: 1.5,
        };
        Landscape::new(&src, Lattice::Fcc, 0.0, 42).unwrap()
    }

    #[test]
    fn hashed_normals_have_unit_variance() {
        let n = 200_000;
        let z: Vec<f64> = (0..n).map(|i| normal(hash(&[7, i]))).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 5.0 / (n as f64).sqrt(), "{m}");
        assert!((v - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(), "{v}");
        assert!((erf(1.0) - 0.842_700_792_9).abs() < 2e-7);
    }

    #[test]
    fn landscape_is_consistent_and_quenched() {
        // Going back over an exit finds the same saddle from the other side, and a revisited
        // basin has the same exits.
        let l = parametric(0.7, 0.2);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let start = l.basin_at([0.3, 0.6, 0.9, 0.1]);
        l.exits(start, &mut a);
        assert_eq!(a.len(), 12);
        for e in &a {
            l.exits(e.to, &mut b);
            let back = b.iter().find(|x| x.to == start).expect("reverse exit");
            assert_eq!((back.e_fw, back.e_rev), (e.e_rev, e.e_fw));
            assert_eq!(back.hop, e.hop.map(|x| -x));
            let de = l.basin_energy(e.to) - l.basin_energy(start);
            assert!((e.e_fw - e.e_rev - de).abs() < 1e-12);
        }
        l.exits(start, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn dial_sets_forward_spread_and_pair_correlation() {
        // Over random links, fixed forward: E_fw ~ N(0.6, 0.15^2) at every level and
        // corr(E_fw, E_rev) = 1 - 2a; fixed saddle: E_fw ~ N(0.6, (1 + a) 0.15^2) and
        // corr = (1 - a)/(1 + a). Basin energies have σ_E = 0.15 sqrt(2a) in both.
        let n = 20_000;
        for dial in [Dial::FixedForward, Dial::FixedSaddle] {
            for a in [0.0, 0.5, 1.0] {
                let s = parametric_dial(a, 0.15, dial).link_statistics(n, 3);
                let (sd, rho) = match dial {
                    Dial::FixedForward => (0.15, 1.0 - 2.0 * a),
                    Dial::FixedSaddle => (0.15 * (1.0 + a).sqrt(), (1.0 - a) / (1.0 + a)),
                };
                let se_mean = sd / (n as f64).sqrt();
                assert!((s.fw_mean - 0.6).abs() < 5.0 * se_mean, "{dial:?} a = {a}: {s:?}");
                assert!(
                    (s.fw_sd - sd).abs() < 5.0 * sd / (2.0 * n as f64).sqrt(),
                    "{dial:?} a = {a}: {s:?}"
                );
                let se_rho = (1.0 - rho * rho).max(0.01) / (n as f64).sqrt();
                assert!(
                    (s.fw_rev_correlation - rho).abs() < 5.0 * se_rho,
                    "{dial:?} a = {a}: {s:?}"
                );
                assert!((s.sigma_basin - 0.15 * (2.0 * a).sqrt()).abs() < 1e-12);
            }
        }
        // No disorder at all: every barrier is the mean.
        let s = parametric(0.0, 0.0).link_statistics(100, 1);
        assert!(s.fw_sd < 1e-12 && s.mean_abs_asymmetry == 0.0, "{s:?}");
    }

    #[test]
    fn samples_become_links_oriented_by_the_basins() {
        // Pairs (1.0, 0.2), (0.5, 0.5): bare barriers 0.6 and 0.5; mean-square asymmetry 0.32.
        let pairs = vec![
            BarrierPair {
                e_fw: 1.0,
                e_rev: 0.2,
                hop_length: 2.0,
            },
            BarrierPair {
                e_fw: 0.5,
                e_rev: 0.5,
                hop_length: 1.0,
            },
        ];
        let l = Landscape::new(&BarrierSource::Samples(pairs), Lattice::Sc, 0.0, 5).unwrap();
        assert!((l.sigma_basin() - 0.4).abs() < 1e-12);
        let mut ex = Vec::new();
        l.exits(l.basin_at([0.1, 0.2, 0.3, 0.0]), &mut ex);
        assert_eq!(ex.len(), 6);
        for e in ex.iter().filter(|e| !e.raised) {
            // The smaller half of |ΔE| takes the symmetric sample, the larger half the other.
            let len = (e.hop[0].powi(2) + e.hop[1].powi(2) + e.hop[2].powi(2)).sqrt();
            let bare = 0.5 * (e.e_fw + e.e_rev);
            assert!(
                (bare - 0.5).abs() < 1e-12 && (len - 1.0).abs() < 1e-12
                    || (bare - 0.6).abs() < 1e-12 && (len - 2.0).abs() < 1e-12
            );
        }
        assert!(Landscape::new(&BarrierSource::Samples(vec![]), Lattice::Fcc, 0.0, 1).is_err());
    }

    #[test]
    fn bad_parameters_are_errors() {
        let p = |m, s, a, l| BarrierSource::Parametric {
            fw_mean: m,
            fw_sd: s,
            asymmetry: a,
            dial: Dial::FixedForward,
            hop_length: l,
        };
        assert!(Landscape::new(&p(0.5, 0.1, 1.5, 1.0), Lattice::Fcc, 0.0, 1)
            .unwrap_err()
            .to_string()
            .contains("asymmetry"));
        assert!(Landscape::new(&p(-0.5, 0.1, 0.5, 1.0), Lattice::Fcc, 0.0, 1).is_err());
        assert!(Landscape::new(&p(0.5, -0.1, 0.5, 1.0), Lattice::Fcc, 0.0, 1).is_err());
        assert!(Landscape::new(&p(0.5, 0.1, 0.5, 0.0), Lattice::Fcc, 0.0, 1).is_err());
        assert!(Landscape::new(&p(0.5, 0.1, 0.5, 1.0), Lattice::Diamond, 0.0, 1).is_err());
        assert!(Landscape::new(&p(0.5, 0.1, 0.5, 1.0), Lattice::Fcc, -0.1, 1).is_err());
    }
}
