//! Provenance recorded in every output file: pelx version, command line, input hashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The pelx version that wrote a file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// True when `a` and `b` name one existing file (after resolving links and `..`); false when
/// either does not exist. Used to refuse an output that would overwrite an input.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// SHA-256 of a byte string, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's bytes, read in 1 MiB chunks (trajectories can be larger than memory).
pub fn file_sha256(path: &Path) -> crate::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| crate::Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| crate::Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Where an output came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    pub pelx_version: String,
    pub command: Vec<String>,
    /// Input files with their SHA-256.
    pub inputs: Vec<InputFile>,
}

/// An input file and its hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
}

impl Provenance {
    /// Provenance for the current process with inputs whose hashes are already known (say, a
    /// trajectory hashed while it was streamed), so that no file is read twice.
    pub fn with_hashes(inputs: Vec<InputFile>) -> Self {
        Provenance {
            pelx_version: VERSION.to_string(),
            command: std::env::args().collect(),
            inputs,
        }
    }

    /// Provenance for the current process with the given input files hashed.
    pub fn new(inputs: &[&Path]) -> crate::Result<Self> {
        let inputs = inputs
            .iter()
            .map(|p| {
                Ok(InputFile {
                    path: p.display().to_string(),
                    sha256: file_sha256(p)?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(Provenance {
            pelx_version: VERSION.to_string(),
            command: std::env::args().collect(),
            inputs,
        })
    }
}
