//! Errors in the user's input (exit code 2). Other failures use `anyhow` in the CLI.

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
