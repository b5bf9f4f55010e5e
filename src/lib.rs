//! `highneeds`: a parallel Monte Carlo simulator of English councils' high-needs (SEND)
//! Dedicated Schools Grant deficits. The library does no printing; the engine does no I/O.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod backtest;
pub mod calendar;
pub mod calibration;
pub mod caseload;
pub mod compare;
pub mod engine;
pub mod error;
pub mod export;
#[cfg(test)]
mod fixtures;
pub mod input;
pub mod local;
pub mod metric;
pub mod placement;
pub mod run;
pub mod scenario;
pub mod seeds;
pub mod sensitivity;
pub mod sketch;
pub mod summary;
pub mod sweep;
mod vectors;

pub use calendar::FinancialYear;
pub use error::{ImplausibleFigure, InputError};
