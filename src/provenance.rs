//! Provenance recorded in every output file: pelx version, command line, input hashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The pelx version that wrote a file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// SHA-256 of a byte string, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's bytes.
pub fn file_sha256(path: &Path) -> crate::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
    Ok(sha256_hex(&bytes))
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
