//! The `pelx` command-line program: parsing and printing only; the physics is in the library.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(args.verbose, args.quiet);
    match cli::run(&args) {
        Ok(code) => code,
        Err(e) => {
            // One line: the outermost context and every cause, as "a: b: c".
            let msg = e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
            eprintln!("pelx: error: {msg}");
            ExitCode::from(2)
        }
    }
}
