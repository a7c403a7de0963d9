//! The `pelx` command-line program.
fn main() {
    println!("pelx {}", pelx::provenance::VERSION);
}
