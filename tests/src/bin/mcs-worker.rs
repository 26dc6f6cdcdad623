//! Test helper: one process allocating from a shared registry, for the
//! multi-process tests and benchmarks (`tests/tests/mcs_processes.rs`).
//!
//! `mcs-worker DB PREFIX COUNT [POOL]` allocates a pair for each of the
//! owners `PREFIX-0` .. `PREFIX-(COUNT-1)`, one transaction each, and prints
//! each level on its own line as it gets it. Exits 3 when the pool is
//! exhausted, 1 on any other error. DB is a registry location: a file, or
//! an `etcd://` URL (in a build with the `etcd` feature), with
//! `$MCS_WORKER_TIMEOUT_MS` as the registry's timeout.

use std::io::Write;
use std::process::ExitCode;

use std::time::Duration;

use selinux_mcs::mcs::{Location, McsError, PairSpace, RegistryOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: mcs-worker DB PREFIX COUNT [POOL]");
        return ExitCode::from(2);
    }
    let Ok(count) = args[3].parse::<u64>() else {
        eprintln!("mcs-worker: bad COUNT {:?}", args[3]);
        return ExitCode::from(2);
    };
    let space = match args.get(4).map(|p| p.parse()) {
        None => Ok(PairSpace::default()),
        Some(Ok(pool)) => PairSpace::new(pool),
        Some(Err(e)) => {
            eprintln!("mcs-worker: bad POOL: {e}");
            return ExitCode::from(2);
        }
    };
    let mut options = RegistryOptions::new();
    if let Some(ms) = std::env::var("MCS_WORKER_TIMEOUT_MS")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        options.timeout(Duration::from_millis(ms));
    }
    let opened = space.and_then(|s| {
        let location = Location::parse(&args[1])?;
        options.space(s).open(&location)
    });
    let reg = match opened {
        Ok(reg) => reg,
        Err(e) => {
            eprintln!("mcs-worker: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        match reg.allocate_for(&format!("{}-{i}", args[2])) {
            Ok(entry) => {
                // Line-buffered on purpose: a killed worker has printed
                // exactly the pairs whose transactions committed.
                if writeln!(out, "{}", entry.level)
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return ExitCode::from(1);
                }
            }
            Err(e @ McsError::Exhausted { .. }) => {
                eprintln!("mcs-worker: {e}");
                return ExitCode::from(3);
            }
            Err(e) => {
                eprintln!("mcs-worker: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
