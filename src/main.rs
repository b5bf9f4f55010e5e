//! The `highneeds` command line: parse the arguments, call the library, write the exports, print
//! the headline. Exit codes: 0 ok (a reader that closed the pipe early included), 2 bad input,
//! 1 other failure, 130 interrupted (SIGINT, SIGTERM or SIGHUP).

mod args;
mod commands;
mod terminal;

use anyhow::Result;
use args::{Cli, Command};
use clap::Parser;
use highneeds::{export, InputError};

/// The exit code after an interrupt.
const INTERRUPTED: i32 = 130;

fn main() {
    // An interrupted command leaves no temporary files behind. Without the handler (it cannot
    // be installed) the next command into the folder removes them.
    let _ = ctrlc::set_handler(|| {
        export::remove_staged_files();
        std::process::exit(INTERRUPTED);
    });
    let code = match dispatch(Cli::parse()) {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.chain().any(|c| c.is::<InputError>()) {
                2
            } else {
                1
            }
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            common,
            local,
            out,
            councils,
        } => commands::run(common, local, out, &councils),
        Command::Compare {
            a,
            b,
            flags,
            seed_b,
            out,
        } => commands::compare(&a, &b, flags, seed_b, out),
        Command::Check { scenario, seeds } => commands::check(&scenario, &seeds),
        Command::Sweep {
            common,
            sets,
            shard,
            local,
            out,
        } => commands::sweep(common, &sets, shard, local, out),
        Command::Merge { shards, out } => commands::merge(&shards, &out),
        Command::Sensitivity { common, out } => commands::sensitivity(common, out),
        Command::Backtest {
            common,
            origin,
            policy,
            out,
        } => commands::backtest(common, origin, policy.into(), out),
        Command::Report(a) => terminal::say(&a.write()?),
        Command::ExportPlan(a) => terminal::say(&a.write()?),
    }
}
