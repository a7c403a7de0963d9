//! Tracer trajectories written frame by frame, for `pelx decompose` and for viewers: LAMMPS
//! dump (`ITEM: TIME` as with `dump_modify time yes`, unwrapped `xu yu zu`) or multi-frame
//! extended XYZ (`Time=` in the comment line). All tracers are species `X`, LAMMPS type 1.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// File format of a trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrajectoryFormat {
    /// LAMMPS text dump with `id type xu yu zu`.
    LammpsDump,
    /// Extended XYZ, one frame after the other.
    ExtXyz,
}

impl TrajectoryFormat {
    /// The format named by a file's extension: `.dump`, `.lammpstrj` or `.xyz`, `.extxyz`.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("dump" | "lammpstrj") => Ok(TrajectoryFormat::LammpsDump),
            Some("xyz" | "extxyz") => Ok(TrajectoryFormat::ExtXyz),
            _ => Err(Error::invalid(format!(
                "{}: trajectory format unknown from the extension (use .dump, .lammpstrj, .xyz or .extxyz)",
                path.display()
            ))),
        }
    }
}

/// The box written with a frame, Å. Unwrapped positions may lie outside a periodic box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameBox {
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    pub periodic: [bool; 3],
}

impl FrameBox {
    /// A non-periodic box around `positions` with `margin` Å on every side.
    pub fn around(positions: &[[f64; 3]], margin: f64) -> Self {
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in positions {
            for d in 0..3 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        if positions.is_empty() {
            lo = [0.0; 3];
            hi = [0.0; 3];
        }
        FrameBox {
            lo: lo.map(|x| x - margin),
            hi: hi.map(|x| x + margin),
            periodic: [false; 3],
        }
    }
}

/// Writes frames to a trajectory file.
#[derive(Debug)]
pub struct TrajectoryWriter {
    path: PathBuf,
    format: TrajectoryFormat,
    out: BufWriter<std::fs::File>,
    frames: usize,
}

impl TrajectoryWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path, format: TrajectoryFormat) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(TrajectoryWriter {
            path: path.to_path_buf(),
            format,
            out: BufWriter::new(file),
            frames: 0,
        })
    }

    /// Number of frames written.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Appends a frame: `step` (an integer label such as the hop count), simulated `time` and the
    /// unwrapped positions (Å) of every tracer, in a fixed order.
    pub fn write_frame(&mut self, step: u64, time: f64, bbox: &FrameBox, positions: &[[f64; 3]]) -> Result<()> {
        self.write(step, time, bbox, positions)
            .map_err(|e| Error::io(&self.path, e))?;
        self.frames += 1;
        Ok(())
    }

    fn write(&mut self, step: u64, time: f64, b: &FrameBox, positions: &[[f64; 3]]) -> std::io::Result<()> {
        let o = &mut self.out;
        match self.format {
            TrajectoryFormat::LammpsDump => {
                writeln!(o, "ITEM: TIME\n{time:.10e}\nITEM: TIMESTEP\n{step}")?;
                writeln!(o, "ITEM: NUMBER OF ATOMS\n{}", positions.len())?;
                let flags: Vec<&str> = b.periodic.iter().map(|&p| if p { "pp" } else { "ff" }).collect();
                writeln!(o, "ITEM: BOX BOUNDS {}", flags.join(" "))?;
                for d in 0..3 {
                    writeln!(o, "{:.10} {:.10}", b.lo[d], b.hi[d])?;
                }
                writeln!(o, "ITEM: ATOMS id type xu yu zu")?;
                for (i, p) in positions.iter().enumerate() {
                    writeln!(o, "{} 1 {:.8} {:.8} {:.8}", i + 1, p[0], p[1], p[2])?;
                }
            }
            TrajectoryFormat::ExtXyz => {
                writeln!(o, "{}", positions.len())?;
                let l = [0, 1, 2].map(|d| b.hi[d] - b.lo[d]);
                let pbc: Vec<&str> = b.periodic.iter().map(|&p| if p { "T" } else { "F" }).collect();
                writeln!(
                    o,
                    "Lattice=\"{:.10} 0 0 0 {:.10} 0 0 0 {:.10}\" Origin=\"{:.10} {:.10} {:.10}\" Properties=species:S:1:pos:R:3 Time={time:.10e} Step={step} pbc=\"{}\"",
                    l[0],
                    l[1],
                    l[2],
                    b.lo[0],
                    b.lo[1],
                    b.lo[2],
                    pbc.join(" ")
                )?;
                for p in positions {
                    writeln!(o, "X {:.8} {:.8} {:.8}", p[0], p[1], p[2])?;
                }
            }
        }
        o.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_and_xyz_frames_are_written_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let b = FrameBox::around(&[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], 1.0);
        assert_eq!((b.lo, b.hi), ([-1.0; 3], [2.0, 3.0, 4.0]));
        let pos = [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]];

        let p = dir.path().join("t.dump");
        let mut w = TrajectoryWriter::create(&p, TrajectoryFormat::from_path(&p).unwrap()).unwrap();
        w.write_frame(0, 0.0, &b, &pos).unwrap();
        w.write_frame(10, 2.5, &b, &pos).unwrap();
        assert_eq!(w.frames(), 2);
        drop(w);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2 * 13);
        assert_eq!(lines[3], "0");
        assert_eq!(lines[6], "ITEM: BOX BOUNDS ff ff ff");
        assert_eq!(lines[10], "ITEM: ATOMS id type xu yu zu");
        assert_eq!(lines[13 + 1].parse::<f64>().unwrap(), 2.5);
        assert_eq!(lines[25], "2 1 1.00000000 2.00000000 3.00000000");

        let p = dir.path().join("t.extxyz");
        let mut w = TrajectoryWriter::create(&p, TrajectoryFormat::from_path(&p).unwrap()).unwrap();
        w.write_frame(3, 1.0, &b, &pos).unwrap();
        drop(w);
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "2");
        assert!(lines[1].contains("Properties=species:S:1:pos:R:3") && lines[1].contains("Step=3"));
        assert_eq!(lines[3], "X 1.00000000 2.00000000 3.00000000");
        assert!(TrajectoryFormat::from_path(Path::new("a.txt")).is_err());
    }
}
