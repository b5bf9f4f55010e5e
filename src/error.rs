//! Errors in the user's input (exit code 2), and results the exporters refuse to write (exit
//! code 1). Other failures use `anyhow` in the CLI.

use crate::FinancialYear;
use std::path::PathBuf;

/// A problem with a file the user gave us or a seeds file: it always names the file and
/// says what is allowed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: cannot read the file")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}, line {line}: {message}")]
    AtLine {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

impl InputError {
    pub fn invalid(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        InputError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn at_line(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        InputError::AtLine {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

/// A result the exporters refuse to write (exit code 1): the first figure, by year, then council
/// (England last), then metric, that is NaN, infinite or at least `summary::MAX_PLAUSIBLE` in size.
/// Nothing is written.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to write the results: the {statistic} of `{metric}` for {area} in {fy} is {value:e}, \
     the first figure (by year, then council) that is not a finite number smaller than 1e15; \
     the scenario or the seeds hold a value the model cannot represent (see README, \"Errors\")"
)]
pub struct ImplausibleFigure {
    /// The metric's (or back-test target's) name in the CSVs.
    pub metric: &'static str,
    /// `mean`, `p05` ... `p95`, or the figure's column name.
    pub statistic: &'static str,
    /// `Name (code)` of a council, or `England`.
    pub area: String,
    pub fy: FinancialYear,
    pub value: f64,
}
