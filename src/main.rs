//! The `pelx` command-line program.
//! TEMPORARY wiring on branch `fie` so that `pelx fie ...` can be run; the lead owns this file.
mod cli {
    pub mod fie;
}

use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "pelx", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    Fie(cli::fie::FieArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Fie(a) => cli::fie::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}
