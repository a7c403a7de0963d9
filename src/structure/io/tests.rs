//! Tests of the structure formats against files written by LAMMPS 2025-07-22 and ASE 3.29
//! (`tests/fixtures/io/`, with the inputs that made them), round trips, and bad input whose
//! messages are pinned.

// Numbers are copied digit for digit from the fixtures, as LAMMPS printed them (%.17g).
#![allow(clippy::excessive_precision)]

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/io")
        .join(name)
}

fn names(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|s| s.to_string()).collect())
}

fn read(name: &str) -> Result<Structure> {
    read_structure(fixture(name), &ReadOptions::default())
}

fn read_with(name: &str, species: &[&str]) -> Result<Structure> {
    let opts = ReadOptions {
        species: names(species),
        ..Default::default()
    };
    read_structure(fixture(name), &opts)
}

fn max_diff(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(p, q)| (0..3).map(move |k| (p[k] - q[k]).abs()))
        .fold(0.0, f64::max)
}

/// The message of an error, with the fixture directory shortened to `F/`.
fn msg(e: Error) -> String {
    let dir = fixture("");
    e.to_string().replace(&dir.display().to_string(), "F/")
}

// ---------------------------------------------------------------- formats and dispatch

#[test]
fn format_from_extension_and_name() {
    let f = |p: &str| Format::from_path(Path::new(p)).unwrap();
    assert_eq!(f("a/b.xyz"), Format::ExtXyz);
    assert_eq!(f("b.EXTXYZ"), Format::ExtXyz);
    assert_eq!(f("b.data"), Format::LammpsData);
    assert_eq!(f("b.lmp"), Format::LammpsData);
    assert_eq!(f("b.dump"), Format::LammpsDump);
    assert_eq!(f("b.lammpstrj"), Format::LammpsDump);
    assert_eq!(f("dump.glass"), Format::LammpsDump);
    assert_eq!(f("data.CuZr"), Format::LammpsData);
    assert_eq!(
        Format::from_path(Path::new("glass.cfg")).unwrap_err().to_string(),
        "glass.cfg: cannot tell the file format from the extension; known formats: extxyz (.xyz, .extxyz), \
         lammps-data (.data, .lmp), lammps-dump (.dump, .lammpstrj) (or name the format explicitly)"
    );
    assert_eq!("lammps-dump".parse::<Format>().unwrap(), Format::LammpsDump);
    assert_eq!("XYZ".parse::<Format>().unwrap(), Format::ExtXyz);
    assert!("pdb"
        .parse::<Format>()
        .unwrap_err()
        .to_string()
        .starts_with("unknown structure format 'pdb'"));
    assert_eq!("last".parse::<FrameSelect>().unwrap(), FrameSelect::Last);
    assert_eq!("3".parse::<FrameSelect>().unwrap(), FrameSelect::Index(3));
}

#[test]
fn format_override_reads_an_unknown_extension() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("glass.cfg");
    std::fs::copy(fixture("tri.data"), &p).unwrap();
    let opts = ReadOptions {
        format: Some(Format::LammpsData),
        ..Default::default()
    };
    assert_eq!(read_structure(&p, &opts).unwrap().len(), 8);
}

// ---------------------------------------------------------------- reference files

/// The reference sample and its extended XYZ twin give the same structure.
#[test]
fn reference_data_and_extxyz_twins_agree() {
    let data = read("CuZr50_500_q13_IS.data").unwrap();
    assert_eq!(data.species, ["Cu", "Zr"]); // from the Masses comments
    let xyz = read("CuZr50_500_q13_IS.extxyz").unwrap();
    assert_eq!(xyz.species, ["Zr", "Cu"]); // order of first appearance
    assert!((0..500).all(|i| data.symbol(i) == xyz.symbol(i)));
    assert!(max_diff(&data.positions, &xyz.positions) <= 1e-12);
    // With a species list the two readers return identical structures.
    let xyz = read_with("CuZr50_500_q13_IS.extxyz", &["Cu", "Zr"]).unwrap();
    assert_eq!(data, xyz);
    assert_eq!(data.cell.edge(1), [0.0, 20.749362487586776, 0.0]);
    assert_eq!(data.positions[499], [2.02440667, 17.15126256, 7.45405564]);
    assert_eq!(data.types.iter().filter(|&&t| t == 0).count(), 250);
}

/// LAMMPS wrote one triclinic configuration (atoms moved across the periodic boundaries) as a
/// data file with image flags and as dumps of x+images, xs+images, xu and xsu.
#[test]
fn lammps_triclinic_files_agree() {
    let reference = read_with("tri_unwrapped.dump", &["Cu", "Zr"]).unwrap();
    let cell = &reference.cell;
    assert_eq!(cell.origin(), [0.5, -1.0, 0.25]);
    assert_eq!(
        [cell.edge(0), cell.edge(1), cell.edge(2)],
        [[8.5, 0.0, 0.0], [2.0, 9.0, 0.0], [-1.5, 1.25, 9.75]]
    );
    assert_eq!(
        reference.positions[0],
        [30.07744686076299, -8.9036470294947012, 14.726113073633105]
    );
    assert_eq!(reference.types, [0, 0, 0, 0, 0, 1, 1, 1]);
    for name in ["tri.data", "tri_wrapped.dump", "tri_scaled.dump", "tri_su.dump"] {
        let s = read_with(name, &["Cu", "Zr"]).unwrap();
        let d = max_diff(&s.positions, &reference.positions);
        assert!(d < 1e-12, "{name}: {d:e}");
        assert_eq!(s.types, reference.types, "{name}");
        assert!(max_diff(&[s.cell.origin()], &[cell.origin()]) < 1e-15, "{name}");
        let h = |c: &Cell| [c.edge(0), c.edge(1), c.edge(2)];
        assert!(max_diff(&h(&s.cell), &h(cell)) < 1e-14, "{name}");
    }
    // The data file has no element comments: the masses name the types.
    assert_eq!(read("tri.data").unwrap().species, ["Cu", "Zr"]);
}

/// A general triclinic dump (`BOX BOUNDS abc origin`) and the restricted one of the same
/// two-atom cell describe the same crystal in two orientations.
#[test]
fn general_and_restricted_triclinic_dumps_agree() {
    let g = read_with("gen.dump", &["Cu"]).unwrap();
    let r = read_with("gen_restricted.dump", &["Cu"]).unwrap();
    assert_eq!(g.cell.edge(0), [5.0, 4.4226944273466216e-18, 0.99999999999999833]);
    assert!((g.cell.volume() - r.cell.volume()).abs() < 1e-12 * r.cell.volume());
    let fg = g.cell.fractional(g.positions[1]);
    let fr = r.cell.fractional(r.positions[1]);
    assert!(max_diff(&[fg], &[fr]) < 1e-14, "{fg:?} {fr:?}");
    assert!(max_diff(&[fg], &[[0.5; 3]]) < 1e-14);
    let d = |s: &Structure| s.cell.distance(s.positions[0], s.positions[1]);
    assert!((d(&g) - d(&r)).abs() < 1e-12);
}

/// A three-frame MD dump of a slab (`pp pp ss`), atoms in processor order, with element and
/// force columns; the data file LAMMPS wrote at the last step holds the same atoms.
#[test]
fn lammps_slab_trajectory() {
    let frames: Vec<Frame> = DumpReader::open(fixture("slab.lammpstrj"))
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(
        frames.iter().map(|f| f.timestep).collect::<Vec<_>>(),
        [Some(0), Some(10), Some(20)]
    );
    assert_eq!(frames.iter().map(|f| f.line).collect::<Vec<_>>(), [1, 20, 39]);
    let f0 = &frames[0];
    assert_eq!(f0.ids, (1..=10).collect::<Vec<u64>>());
    assert_eq!(f0.structure.species, ["Cu", "Zr"]);
    assert_eq!(f0.structure.cell.pbc(), [true, true, false]);
    assert_eq!(f0.structure.cell.origin(), [0.0, 0.0, 3.5855769666403420e-01]);
    assert_eq!(
        f0.structure.positions[7],
        [1.1879053791928595, 5.7664216061897671, 4.7198720205234697]
    );
    assert_eq!(f0.structure.symbol(7), "Zr");
    let forces = f0.forces.as_ref().unwrap();
    assert_eq!(forces[0], [0.0; 3]);
    assert_eq!(forces[6], [-32.765383019065979, 19.05072009856811, 4.6902537180801875]);

    let data = read("slab.data").unwrap();
    assert_eq!(data.species, ["Cu", "Zr"]);
    let last = &frames[2].structure;
    assert_eq!(data.types, last.types);
    assert!(max_diff(&data.positions, &last.positions) < 1e-12);

    // Frame selection without parsing the frames skipped.
    let pick = |frame| {
        let opts = ReadOptions {
            frame,
            ..Default::default()
        };
        read_structure(fixture("slab.lammpstrj"), &opts)
    };
    assert_eq!(&pick(FrameSelect::Last).unwrap(), last);
    assert_eq!(pick(FrameSelect::Index(1)).unwrap(), frames[1].structure);
    assert_eq!(
        msg(pick(FrameSelect::Index(3)).unwrap_err()),
        "F/slab.lammpstrj: frame 3 requested, but the file holds only 3 frames"
    );
}

#[test]
fn ase_extxyz_frames() {
    let frames: Vec<Frame> = ExtXyzReader::open(fixture("ase.extxyz"))
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(frames.len(), 2);
    let f = &frames[1];
    assert_eq!(f.line, 6);
    assert_eq!(f.energy, Some(-2.25));
    assert_eq!(f.forces.as_ref().unwrap()[2], [0.75, 0.875, 1.0]);
    assert_eq!(
        f.info,
        [
            ("name".to_string(), "my sample".to_string()),
            ("step".to_string(), "1".to_string())
        ]
    );
    let s = &f.structure;
    assert_eq!(s.species, ["Cu", "Zr"]);
    assert_eq!(s.types, [0, 1, 0]);
    assert_eq!(s.positions[2], [3.0, 1.0, 3.5]);
    assert_eq!(s.cell.pbc(), [true, true, false]);
    assert_eq!(s.cell.edge(2), [1.0, -1.5, 8.0]);
}

#[test]
fn ovito_origin_and_extra_columns() {
    let f = ExtXyzReader::open(fixture("ovito.xyz"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(f.structure.cell.origin(), [-2.0, -2.5, -3.0]);
    assert_eq!(f.structure.positions, [[0.0; 3], [1.0, 1.5, 2.0]]);
    assert_eq!(f.info, [("Time".to_string(), "12.5".to_string())]);
}

// ---------------------------------------------------------------- round trips

/// Ten atoms of two species at random fractional coordinates in `cell`, a few of them
/// unwrapped by whole periods along the periodic axes.
fn sample(cell: Cell, seed: u64) -> Structure {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pbc = cell.pbc();
    let positions = (0..10)
        .map(|i| {
            let mut f: [f64; 3] = [rng.random(), rng.random(), rng.random()];
            if i % 3 == 0 {
                for k in 0..3 {
                    if pbc[k] {
                        f[k] += rng.random_range(-2..=2) as f64;
                    }
                }
            }
            cell.cartesian(f)
        })
        .collect();
    let symbols: Vec<&str> = (0..10).map(|i| if i % 3 == 1 { "Zr" } else { "Cu" }).collect();
    Structure::from_symbols(cell, &symbols, positions).unwrap()
}

fn cells() -> Vec<(&'static str, Cell)> {
    vec![
        ("orthorhombic", Cell::orthorhombic(10.1, 11.3, 12.7).unwrap()),
        (
            "triclinic",
            Cell::from_lammps([0.5, -1.0, 0.3], [9.7, 8.1, 10.9], [1.3, -0.7, 2.1], [true; 3]).unwrap(),
        ),
        (
            "slab",
            Cell::new(
                [10.0, 0.0, 0.0],
                [0.0, 10.0, 0.0],
                [0.0, 0.0, 25.0],
                [0.0, 0.0, -7.5],
                [true, true, false],
            )
            .unwrap(),
        ),
    ]
}

/// Write then read gives the same species, types and bitwise positions for every format,
/// and the same cell (bitwise in extended XYZ; LAMMPS files store lo/hi bounds, from which
/// the edges come back within rounding when the origin is not zero).
#[test]
fn round_trips_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    for (label, cell) in cells() {
        let s = sample(cell, 7);
        for (format, ext) in [
            (Format::ExtXyz, "xyz"),
            (Format::LammpsData, "data"),
            (Format::LammpsDump, "dump"),
        ] {
            let path = dir.path().join(format!("{label}.{ext}"));
            write_structure(&path, &s, None, &WriteOptions::default()).unwrap();
            let back = read_structure(&path, &ReadOptions::default()).unwrap();
            let what = format!("{label} {format}");
            assert_eq!(back.species, s.species, "{what}");
            assert_eq!(back.types, s.types, "{what}");
            assert_eq!(back.positions, s.positions, "{what}");
            assert_eq!(back.cell.pbc(), s.cell.pbc(), "{what}");
            if format == Format::ExtXyz || s.cell.origin() == [0.0; 3] {
                assert_eq!(back.cell, s.cell, "{what}");
            } else {
                let h = |c: &Cell| [c.edge(0), c.edge(1), c.edge(2), c.origin()];
                let d = max_diff(&h(&back.cell), &h(&s.cell));
                assert!(d <= 4.0 * f64::EPSILON * 16.0, "{what}: {d:e}");
            }
        }
    }
}

#[test]
fn extxyz_round_trip_keeps_energy_forces_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.extxyz");
    let s = sample(cells()[1].1.clone(), 3);
    let forces: Vec<[f64; 3]> = (0..10).map(|i| [0.1 * i as f64, -1e-9 / 3.0, 1e7 / 3.0]).collect();
    let opts = WriteOptions {
        energy: Some(-1234.567890123456),
        forces: Some(&forces),
        info: vec![
            ("note".into(), "a \"quoted\" word".into()),
            ("step".into(), "12".into()),
        ],
        ..Default::default()
    };
    write_structure(&path, &s, None, &opts).unwrap();
    write_structure(
        &path,
        &s,
        None,
        &WriteOptions {
            append: true,
            ..Default::default()
        },
    )
    .unwrap();
    let frames: Vec<Frame> = read_frames(&path, &ReadOptions::default())
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].structure, s);
    assert_eq!(frames[0].energy, opts.energy);
    assert_eq!(frames[0].forces.as_deref(), Some(&forces[..]));
    assert_eq!(frames[0].info, opts.info);
    assert_eq!((frames[1].energy, frames[1].forces.is_none()), (None, true));
    let bad = WriteOptions {
        info: vec![("pbc".into(), "T".into())],
        ..Default::default()
    };
    assert_eq!(
        write_structure(&path, &s, None, &bad).unwrap_err().to_string(),
        "extended XYZ key 'pbc' is written by pelx itself"
    );
}

#[test]
fn dump_frames_append_with_forces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.lammpstrj");
    let s = sample(cells()[2].1.clone(), 11);
    let forces: Vec<[f64; 3]> = (0..10).map(|i| [i as f64 / 7.0, 0.0, -0.5]).collect();
    for step in 0..3u64 {
        let opts = WriteOptions {
            timestep: step * 100,
            forces: Some(&forces),
            append: step > 0,
            ..Default::default()
        };
        write_structure(&path, &s, None, &opts).unwrap();
    }
    let frames: Vec<Frame> = read_frames(&path, &ReadOptions::default())
        .unwrap()
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(
        frames.iter().map(|f| f.timestep.unwrap()).collect::<Vec<_>>(),
        [0, 100, 200]
    );
    for f in &frames {
        assert_eq!(f.structure, s);
        assert_eq!(f.forces.as_deref(), Some(&forces[..]));
    }
}

#[test]
fn writers_refuse_a_cell_not_in_lammps_orientation_and_rotation_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let cell = Cell::new(
        [6.0, 8.0, 0.0],
        [-8.0, 6.0, 0.0],
        [1.0, 2.0, 9.0],
        [1.0, 2.0, 3.0],
        [true; 3],
    )
    .unwrap();
    let s = sample(cell, 5);
    for ext in ["data", "dump"] {
        let e = write_structure(dir.path().join(format!("r.{ext}")), &s, None, &WriteOptions::default()).unwrap_err();
        assert!(e.to_string().contains("not in LAMMPS orientation"), "{e}");
    }
    let r = to_lammps_orientation(&s).unwrap();
    assert!(r.cell.is_lammps_oriented());
    assert_eq!(r.cell.edge(0), [10.0, 0.0, 0.0]);
    assert!((r.cell.volume() - s.cell.volume()).abs() < 1e-9);
    for i in 0..s.len() {
        let a = s.cell.fractional(s.positions[i]);
        let b = r.cell.fractional(r.positions[i]);
        assert!(max_diff(&[a], &[b]) < 1e-13);
        let (dr, ds) = (
            r.cell.distance(r.positions[0], r.positions[i]),
            s.cell.distance(s.positions[0], s.positions[i]),
        );
        assert!((dr - ds).abs() < 1e-12);
    }
    let path = dir.path().join("r.data");
    write_structure(&path, &r, None, &WriteOptions::default()).unwrap();
    assert_eq!(
        read_structure(&path, &ReadOptions::default()).unwrap().positions,
        r.positions
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn empty_files() {
    assert_eq!(msg(read("empty.xyz").unwrap_err()), "F/empty.xyz: empty file");
    assert_eq!(msg(read("empty.data").unwrap_err()), "F/empty.data: empty file");
}

#[test]
fn zero_atoms() {
    assert_eq!(
        msg(read("zero_atoms.xyz").unwrap_err()),
        "F/zero_atoms.xyz:1: frame has 0 atoms; a structure needs at least one"
    );
    assert_eq!(
        msg(read("zero_atoms.data").unwrap_err()),
        "F/zero_atoms.data:3: the header announces 0 atoms; a structure needs at least one"
    );
}

#[test]
fn non_finite_and_non_numeric_fields() {
    assert_eq!(
        msg(read("nan_coord.xyz").unwrap_err()),
        "F/nan_coord.xyz:4: coordinate y is not finite: 'nan'"
    );
    assert_eq!(
        msg(read("inf_coord.data").unwrap_err()),
        "F/inf_coord.data:16: coordinate y is not finite: 'inf'"
    );
    assert_eq!(
        msg(read("non_numeric.data").unwrap_err()),
        "F/non_numeric.data:16: coordinate y is not a number: '2.5x'"
    );
}

#[test]
fn truncated_files() {
    assert_eq!(
        msg(read("truncated.data").unwrap_err()),
        "F/truncated.data:20: Atoms section ends after 3 of the 4 atoms announced at line 3"
    );
    let opts = ReadOptions {
        frame: FrameSelect::Last,
        ..Default::default()
    };
    assert_eq!(
        msg(read_structure(fixture("truncated.xyz"), &opts).unwrap_err()),
        "F/truncated.xyz:8: file ends after 2 of the 3 atom lines announced at line 5"
    );
    let frames: Vec<Result<Frame>> = DumpReader::open(fixture("truncated.dump")).unwrap().collect();
    assert_eq!(frames.len(), 3);
    assert!(frames[1].is_ok());
    assert_eq!(
        msg(frames.into_iter().nth(2).unwrap().unwrap_err()),
        "F/truncated.dump:53: frame at timestep 20 (line 39) ends after 6 of its 10 atoms"
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("nan_coord.xyz"))
        .unwrap()
        .replace("nan", "1");
    let plain = dir.path().join("plain.xyz");
    let bom = dir.path().join("bom.xyz");
    std::fs::write(&plain, &text).unwrap();
    std::fs::write(&bom, format!("\u{feff}{text}")).unwrap();
    let opts = ReadOptions::default();
    let (a, b) = (
        read_structure(&plain, &opts).unwrap(),
        read_structure(&bom, &opts).unwrap(),
    );
    assert_eq!(a.positions, b.positions);
}

#[test]
fn atom_lines_beyond_the_count_are_an_error() {
    assert_eq!(
        msg(read("count_too_low.xyz").unwrap_err()),
        "F/count_too_low.xyz:5: expected the end of the file or the number of atoms of another frame, found \
         'Cu 2.5 2.5 0' (does the frame's first line give too few atoms?)"
    );
}

#[test]
fn unknown_types_and_short_species_lists() {
    assert_eq!(
        msg(read("unknown_type.data").unwrap_err()),
        "F/unknown_type.data:12: atom type 3 is outside 1..2 ('2 atom types' at line 4)"
    );
    assert_eq!(
        msg(read("no_species.data").unwrap_err()),
        "F/no_species.data:4: atom type 1 has no species: no species list, no '# Element' comment in Masses, \
         and its mass 300 matches no known element"
    );
    assert_eq!(
        msg(read_with("tri.data", &["Cu"]).unwrap_err()),
        "F/tri.data:4: the species list (Cu) names 1 type but the file has 2 atom types"
    );
    assert_eq!(
        msg(read("types_only.dump").unwrap_err()),
        "F/types_only.dump:9: the dump has atom types but no element column: give a species list (--species) to name the types"
    );
    assert_eq!(
        msg(read_with("types_only.dump", &["Cu", "Zr"]).unwrap_err()),
        "F/types_only.dump:12: atom type 3 has no species: the species list (Cu, Zr) names 2 types"
    );
    assert_eq!(
        msg(read_with("CuZr50_500_q13_IS.extxyz", &["Cu"]).unwrap_err()),
        "F/CuZr50_500_q13_IS.extxyz:3: species 'Zr' is not in the species list (Cu)"
    );
}

#[test]
fn dump_with_missing_columns_or_changing_atom_count() {
    assert_eq!(
        msg(read("missing_columns.dump").unwrap_err()),
        "F/missing_columns.dump:9: ITEM: ATOMS lacks coordinate columns: need x y z, xu yu zu, xs ys zs or xsu ysu zsu (found: x y)"
    );
    let mut r = DumpReader::open(fixture("count_changes.dump")).unwrap();
    assert!(r.next().unwrap().is_ok());
    assert_eq!(
        msg(r.next().unwrap().unwrap_err()),
        "F/count_changes.dump:23: frame has 9 atoms, the first frame had 10"
    );
    assert!(r.next().is_none());
}

#[test]
fn duplicated_atoms_are_reported_by_id() {
    assert_eq!(
        msg(read("duplicate_atoms.xyz").unwrap_err()),
        "F/duplicate_atoms.xyz: atoms 1 and 3 are 5.000e-5 Å apart (closer than 0.001 Å): duplicated atom?"
    );
    let opts = ReadOptions {
        min_distance: None,
        ..Default::default()
    };
    assert_eq!(read_structure(fixture("duplicate_atoms.xyz"), &opts).unwrap().len(), 3);
}

#[test]
fn data_file_cannot_take_frames() {
    let opts = ReadOptions {
        frame: FrameSelect::Index(1),
        ..Default::default()
    };
    assert_eq!(
        msg(read_structure(fixture("tri.data"), &opts).unwrap_err()),
        "F/tri.data: a LAMMPS data file holds one structure; frame 1 does not exist"
    );
}

// ---------------------------------------------------------------- small malformed inputs

fn xyz(text: &str) -> String {
    match ExtXyzReader::new(text.as_bytes(), "t.xyz").next().unwrap() {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_extxyz_headers_and_lines() {
    let head = |h: &str| format!("1\n{h}\nCu 0 0 0\n");
    assert_eq!(
        xyz(&head("Lattice=\"1 0 0 0 1 0 0 0\"")),
        "t.xyz:2: Lattice must hold 9 numbers, found 8: '1 0 0 0 1 0 0 0'"
    );
    assert_eq!(
        xyz(&head("Lattice=\"1 0 0 0 1 0 0 0 0\"")),
        "t.xyz:2: cell is degenerate (volume 0.000e0 Å^3)"
    );
    assert_eq!(
        xyz(&head("Properties=species:S:1:tags:I:1")),
        "t.xyz:2: Properties must include species:S:1 and pos:R:3, not 'species:S:1:tags:I:1'"
    );
    assert_eq!(
        xyz(&head("pbc=\"T T T\"")),
        "t.xyz:2: pbc has periodic axes but there is no Lattice"
    );
    assert_eq!(
        xyz(&head("pbc=\"T T\" a=1")),
        "t.xyz:2: pbc must be three of T/F, not 'T T'"
    );
    assert_eq!(xyz(&head("energy=abc")), "t.xyz:2: energy is not a number: 'abc'");
    assert_eq!(
        xyz("two\nx\nCu 0 0 0\n"),
        "t.xyz:1: expected the number of atoms of a frame, found 'two'"
    );
    assert_eq!(xyz("2\n"), "t.xyz:1: file ends before the comment line of the frame");
    assert_eq!(
        xyz("1\na=1\nCu 0 0\n"),
        "t.xyz:3: expected 4 fields (species x y z), found 3"
    );
    assert_eq!(
        xyz("1\na=1\nCu 0 0 0 5\n"),
        "t.xyz:3: expected 4 fields (species x y z), found 5"
    );
    // A plain title with an apostrophe is a title, not a broken key=value line.
    assert_eq!(xyz("1\nit's a cluster\nCu 0 0 0\n"), "ok");
}

fn data(text: &str) -> String {
    match lammps_data::read(text.as_bytes(), "t.data", None) {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_data_files() {
    let head = "t\n2 atoms\n1 atom types\n0 5 xlo xhi\n0 5 ylo yhi\n0 5 zlo zhi\nMasses\n1 63.546 # Cu\n";
    assert_eq!(data(&format!("{head}Atoms\n1 1 0 0 0\n2 1 1 1 1\n")), "ok");
    assert_eq!(
        data(&format!("{head}Atoms\n1 1 0 0 0\n1 1 1 1 1\n")),
        "t.data:11: atom id 1 appears twice (lines 10 and 11)"
    );
    assert_eq!(
        data(&format!("{head}Atoms\n1 1 0 0 0\n2 1 1 1 1\n3 1 2 2 2\n")),
        "t.data:12: more atom lines than the 2 atoms announced at line 2"
    );
    assert_eq!(
        data(&format!("{head}Atoms\n1 1 0 0 0 0\n")),
        "t.data:10: expected 5 fields (or 8 with image flags), found 6; if the atom style is not atomic, \
         name it after the section header ('Atoms # full')"
    );
    assert_eq!(
        data(&format!("{head}Atoms\n1 1 0 0 0 0 1.5 0\n2 1 1 1 1\n")),
        "t.data:10: image flag iy is not an integer: '1.5'"
    );
    assert_eq!(
        data(&head.replace("0 5 ylo yhi\n", "")),
        "t.data: the header has no 'ylo yhi' line"
    );
    assert_eq!(
        data(&head.replace("0 5 xlo", "5 0 xlo")),
        "t.data:4: 'xlo xhi': hi (0) must exceed lo (5)"
    );
    assert_eq!(data(head), "t.data:8: the file has no Atoms section");
    assert_eq!(
        data(&format!("{head}Atoms\n1 1 0 0 0\n")),
        "t.data:10: Atoms section ends after 1 of the 2 atoms announced at line 2"
    );
}

#[test]
fn malformed_dumps() {
    let frame = "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n0 5\n0 5\n0 5\nITEM: ATOMS id element x y z\n";
    let dump = |t: &str| match DumpReader::new(t.as_bytes(), "t.dump").next().unwrap() {
        Ok(_) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    assert_eq!(dump(&format!("{frame}1 Cu 0 0 0\n")), "ok");
    assert_eq!(
        dump(&format!("{frame}1 Cu 0 zero 0\n")),
        "t.dump:10: column y is not a number: 'zero'"
    );
    assert_eq!(
        dump(&format!("{frame}1 Cu 0 0\n")),
        "t.dump:10: expected 5 fields (id element x y z), found 4"
    );
    assert_eq!(
        dump(&frame.replace("0 5\nITEM", "0\nITEM")),
        "t.dump:8: expected 2 numbers on a box line, found 1"
    );
    assert_eq!(
        dump(&frame.replace("pp pp pp", "pp pp")),
        "t.dump:5: ITEM: BOX BOUNDS needs three boundary flags (pp, ff, ss, ...), found 'pp pp'"
    );
    assert_eq!(
        dump("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n0 5\n0 5\n"),
        "t.dump:7: file ends inside the header of the frame starting at line 1"
    );
    assert_eq!(
        dump(&format!("{}1 Cu 0 0 0\n", frame.replace("ITEM: TIMESTEP\n0\n", ""))),
        "t.dump:7: frame starting at line 1 has no ITEM: TIMESTEP"
    );
    assert_eq!(
        dump("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMZ\n"),
        "t.dump:3: unknown dump item 'ITEM: NUMBER OF ATOMZ'"
    );
    assert_eq!(dump("hello\n"), "t.dump:1: expected an 'ITEM:' line, found 'hello'");
}

// ---------------------------------------------------------------- external readers (ignored)

/// Runs `script` in bash with the ASE + LAMMPS venv active, in `dir`; returns stdout.
fn in_venv(dir: &Path, script: &str) -> String {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source /work/.venv-lammps/activate-lammps && {script}"))
        .current_dir(dir)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn floats(line: &str) -> Vec<f64> {
    line.split_ascii_whitespace().map(|t| t.parse().unwrap()).collect()
}

/// ASE reads what pelx writes: bitwise positions, cell, forces and energy, the pbc flags and
/// the extra keys. Needs ASE (`/work/.venv-lammps`).
#[test]
#[ignore = "needs the ASE venv at /work/.venv-lammps"]
fn ase_reads_pelx_extxyz() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cell) = cells().remove(2);
    let s = sample(cell, 21);
    let forces: Vec<[f64; 3]> = (0..10).map(|i| [i as f64 / 3.0, -1e-12 / 7.0, 2.0e8 / 3.0]).collect();
    let opts = WriteOptions {
        energy: Some(-3.0 / 7.0),
        forces: Some(&forces),
        info: vec![("note".into(), "a \"quoted\" word".into())],
        ..Default::default()
    };
    write_structure(dir.path().join("s.extxyz"), &s, None, &opts).unwrap();
    let py = r#"python -c '
import ase.io
a = ase.io.read("s.extxyz", format="extxyz")
print(" ".join(a.get_chemical_symbols()))
print(" ".join(repr(float(x)) for x in a.positions.ravel()))
print(" ".join(repr(float(x)) for x in a.cell.array.ravel()))
print(" ".join(repr(float(x)) for x in a.get_forces().ravel()))
print(repr(float(a.get_potential_energy())))
print(" ".join("T" if p else "F" for p in a.pbc))
print(a.info["note"])
'"#;
    let out = in_venv(dir.path(), py);
    let lines: Vec<&str> = out.lines().collect();
    let symbols: Vec<&str> = (0..s.len()).map(|i| s.symbol(i)).collect();
    assert_eq!(lines[0], symbols.join(" "));
    assert_eq!(floats(lines[1]), s.flat());
    let h: Vec<f64> = (0..3).flat_map(|k| s.cell.edge(k)).collect();
    assert_eq!(floats(lines[2]), h);
    assert_eq!(floats(lines[3]), forces.as_flattened());
    assert_eq!(floats(lines[4]), [-3.0 / 7.0]);
    assert_eq!(lines[5], "T T F");
    assert_eq!(lines[6], "a \"quoted\" word");
}

/// LAMMPS reads the data file and dump pelx writes (a triclinic cell with atoms outside the
/// box): its own unwrapped coordinates agree with pelx's to rounding. Needs `lmp`.
#[test]
#[ignore = "needs LAMMPS (lmp) in the venv at /work/.venv-lammps"]
fn lammps_reads_pelx_data_and_dump() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cell) = cells().remove(1);
    let s = sample(cell, 31);
    write_structure(dir.path().join("s.data"), &s, None, &WriteOptions::default()).unwrap();
    let opts = WriteOptions {
        timestep: 0,
        ..Default::default()
    };
    write_structure(dir.path().join("s.dump"), &s, None, &opts).unwrap();
    let input = "units metal\natom_style atomic\nread_data s.data\n\
        write_dump all custom from_data.dump id type xu yu zu modify sort id format float %.17g\n\
        read_dump s.dump 0 x y z box yes label x xu label y yu label z zu\n\
        write_dump all custom from_dump.dump id type xu yu zu modify sort id format float %.17g\n";
    std::fs::write(dir.path().join("in.lmp"), input).unwrap();
    in_venv(dir.path(), "lmp -in in.lmp -log none -screen none");
    let opts = ReadOptions {
        species: names(&["Cu", "Zr"]),
        ..Default::default()
    };
    let from_data = read_structure(dir.path().join("from_data.dump"), &opts).unwrap();
    assert_eq!(from_data.types, s.types);
    assert!(max_diff(&from_data.positions, &s.positions) < 1e-12);
    let h = |c: &Cell| [c.edge(0), c.edge(1), c.edge(2), c.origin()];
    assert!(max_diff(&h(&from_data.cell), &h(&s.cell)) < 1e-13);
    // read_dump wraps the positions it reads into the box: compare modulo the lattice.
    let from_dump = read_structure(dir.path().join("from_dump.dump"), &opts).unwrap();
    let d = from_dump.displacements_from(&s);
    assert!(d.iter().flatten().all(|x| x.abs() < 1e-12), "{d:?}");
}

/// Streams a dump of 16,000 atoms x 100 frames (1.6 million atom lines) and prints the rate.
#[test]
#[ignore = "timing: run with --release --ignored --nocapture"]
fn stream_large_dump() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.lammpstrj");
    let n = 16_000;
    let l = (n as f64 / 0.06).cbrt();
    let cell = Cell::orthorhombic(l, l, l).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let positions: Vec<[f64; 3]> = (0..n)
        .map(|_| cell.cartesian([rng.random(), rng.random(), rng.random()]))
        .collect();
    let symbols: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "Cu" } else { "Zr" }).collect();
    let s = Structure::from_symbols(cell, &symbols, positions).unwrap();
    let frames = 100;
    let t = std::time::Instant::now();
    {
        let f = std::io::BufWriter::new(File::create(&path).unwrap());
        let mut w = DumpWriter::new(f, &path);
        for k in 0..frames {
            w.write_frame(
                &s,
                &WriteOptions {
                    timestep: k,
                    ..Default::default()
                },
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    let t_write = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).unwrap().len();
    let t = std::time::Instant::now();
    let mut count = 0;
    for f in DumpReader::open(&path).unwrap() {
        let f = f.unwrap();
        assert_eq!(f.structure.positions[n - 1], s.positions[n - 1]);
        count += f.structure.len();
    }
    let t_read = t.elapsed().as_secs_f64();
    assert_eq!(count, n * frames as usize);
    println!(
        "dump: {count} atom-frames, {:.0} MB: write {t_write:.2} s, read {t_read:.2} s ({:.1} M atom-frames/s)",
        bytes as f64 / 1e6,
        count as f64 / t_read / 1e6
    );
    for ext in ["extxyz", "data"] {
        let p = dir.path().join(format!("big.{ext}"));
        let t = std::time::Instant::now();
        write_structure(&p, &s, None, &WriteOptions::default()).unwrap();
        let t_write = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let back = read_structure(&p, &ReadOptions::default()).unwrap();
        let t_read = t.elapsed().as_secs_f64();
        assert_eq!(back.positions, s.positions);
        println!("{ext}: {n} atoms: write {t_write:.3} s, read {t_read:.3} s (with the duplicate check)");
    }
}

/// LAMMPS type labels (`labelmap`, the `Atom Type Labels` section) name the types, and may
/// stand for type numbers in Masses and Atoms.
#[test]
fn lammps_type_labels() {
    let s = read("labels.data").unwrap();
    assert_eq!(s.species, ["Cu", "Zr"]);
    assert_eq!(s.types, [0, 1, 0]);
    let text = std::fs::read_to_string(fixture("labels.data"))
        .unwrap()
        .replace("1 63.546\n2 91.224", "Zr 1.0\nCu 2.0")
        .replace("2 2 3 3 3", "2 Zr 3 3 3");
    let t = lammps_data::read(text.as_bytes(), "l.data", None).unwrap();
    assert_eq!((t.species, t.types), (s.species, s.types));
    let bad = text.replace("2 Zr 3 3 3", "2 Al 3 3 3");
    assert_eq!(
        lammps_data::read(bad.as_bytes(), "l.data", None)
            .unwrap_err()
            .to_string(),
        "l.data:23: atom type 'Al' is neither a number nor a type label ('2 atom types' at line 4)"
    );
}

#[test]
fn a_failed_write_leaves_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.data");
    std::fs::write(&path, "old content").unwrap();
    let cell = Cell::orthorhombic(5.0, 5.0, 5.0).unwrap();
    let s = Structure::from_symbols(cell, &["Xx"], vec![[1.0; 3]]).unwrap();
    assert_eq!(
        write_structure(&path, &s, None, &WriteOptions::default())
            .unwrap_err()
            .to_string(),
        format!("{}: no atomic mass known for species 'Xx'", path.display())
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old content");
}
