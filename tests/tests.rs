//! Integration tests for `highneeds` (one test binary; see Cargo.toml `[[test]]`).
//!
//! Every test is small (tens of Monte Carlo paths) so the whole suite runs in well under a
//! minute in debug builds.

mod util;

mod backtest;
mod briefing;
mod cli;
mod code_map;
mod cohort;
mod compare;
mod conservation;
mod faults;
mod harness;
mod hostile;
mod local;
mod longrun;
mod money;
mod placement;
mod policy;
mod resources;
mod scenario;
mod scenario_keys;
mod seed_faults;
mod seeds;
mod sensitivity;
mod sketch;
mod snapshots;
mod sweep;
