//! Local figures a council can supply (`run --local FILE`): its latest outturn balance, this
//! year's forecast overspend, current EHCPs, usable reserves and HNB, each with its date. The
//! file is a CSV with the header `la_code,figure,value,date` (see the README, "Local figures");
//! every row is validated here, and `calibration` pins each figure in the year it belongs to.

use crate::error::InputError;
use crate::FinancialYear;
use std::path::{Path, PathBuf};

/// What a local figure is, and the date it must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LocalKind {
    /// Cumulative DSG balance at a 31 March (pounds; positive = deficit).
    DsgBalance,
    /// In-year overspend forecast for the FY ending on a 31 March (pounds; negative = underspend).
    ForecastOverspend,
    /// EHCPs in force at a January census.
    Ehcps,
    /// Usable reserves at a 31 March (pounds).
    UsableReserves,
    /// HNB after deductions for the FY ending on a 31 March (pounds).
    Hnb,
}

impl LocalKind {
    pub const ALL: [LocalKind; 5] = [
        LocalKind::DsgBalance,
        LocalKind::ForecastOverspend,
        LocalKind::Ehcps,
        LocalKind::UsableReserves,
        LocalKind::Hnb,
    ];
    pub fn name(self) -> &'static str {
        match self {
            LocalKind::DsgBalance => "dsg_balance",
            LocalKind::ForecastOverspend => "forecast_overspend",
            LocalKind::Ehcps => "ehcps",
            LocalKind::UsableReserves => "usable_reserves",
            LocalKind::Hnb => "hnb",
        }
    }
    fn may_be_negative(self) -> bool {
        matches!(self, LocalKind::DsgBalance | LocalKind::ForecastOverspend)
    }
}

/// One validated row: the FY it belongs to (the FY ending on its 31 March, or the FY holding
/// its January census).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFigure {
    pub la_code: u16,
    pub kind: LocalKind,
    pub value: f64,
    pub fy: FinancialYear,
    /// Line in the file (for errors found later, e.g. a date outside the horizon).
    pub line: u64,
}

/// A local figures file, validated.
#[derive(Debug, Clone, Default)]
pub struct LocalFigures {
    pub path: PathBuf,
    /// SHA-256 of the file (set by `Baseline::with_local`; recorded in the manifest).
    pub sha256: String,
    pub figures: Vec<LocalFigure>,
}

impl LocalFigures {
    /// Reads and validates `path`; `councils` are the DfE codes of the seeds.
    pub fn load(path: &Path, councils: &[u16]) -> Result<LocalFigures, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::invalid(path, format!("cannot read: {e}")))?;
        Self::parse(path, &text, councils)
    }

    pub fn parse(path: &Path, text: &str, councils: &[u16]) -> Result<LocalFigures, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| InputError::invalid(path, format!("bad header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        if header != ["la_code", "figure", "value", "date"] {
            return Err(InputError::at_line(
                path,
                1,
                format!(
                    "the header must be `la_code,figure,value,date`, not `{}`",
                    header.join(",")
                ),
            ));
        }
        let mut figures: Vec<LocalFigure> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| InputError::invalid(path, format!("{e}")))?;
            let line = record.position().map_or(0, |p| p.line());
            let bad = |msg: String| InputError::at_line(path, line, msg);
            let field = |i: usize| record.get(i).unwrap_or("");
            let la_code: u16 = field(0)
                .parse()
                .ok()
                .filter(|c| councils.contains(c))
                .ok_or_else(|| {
                    bad(format!(
                        "`la_code` `{}` is not a council in the seeds (use a DfE 3-digit code from seeds/councils.csv)",
                        field(0)
                    ))
                })?;
            let kind = LocalKind::ALL
                .into_iter()
                .find(|k| k.name() == field(1))
                .ok_or_else(|| {
                    let names: Vec<&str> = LocalKind::ALL.iter().map(|k| k.name()).collect();
                    bad(format!(
                        "`figure` `{}` is not allowed: use one of {}",
                        field(1),
                        names.join(", ")
                    ))
                })?;
            let value: f64 = field(2)
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && (kind.may_be_negative() || *v >= 0.0))
                .ok_or_else(|| {
                    let allowed = if kind.may_be_negative() {
                        "a number (pounds; no commas or £)"
                    } else {
                        "a number at least 0 (no commas or £)"
                    };
                    bad(format!(
                        "`value` `{}` for {}: must be {allowed}",
                        field(2),
                        kind.name()
                    ))
                })?;
            let date = field(3);
            let fy = match (kind, crate::calendar::parse_date(date)) {
                (LocalKind::Ehcps, Some((y, 1, _))) => FinancialYear::of_january(y),
                (LocalKind::Ehcps, _) => {
                    return Err(bad(format!(
                        "`date` `{date}` for ehcps must be a January census date written like `2026-01-15`"
                    )))
                }
                (_, Some((y, 3, 31))) => FinancialYear::ending_in(y),
                (_, _) => {
                    return Err(bad(format!(
                        "`date` `{date}` for {} must be a 31 March date written like `2025-03-31`",
                        kind.name()
                    )))
                }
            };
            if figures
                .iter()
                .any(|f| f.la_code == la_code && f.kind == kind && f.fy == fy)
            {
                return Err(bad(format!(
                    "a second {} for council {la_code} in {fy}: give each figure once per date",
                    kind.name()
                )));
            }
            figures.push(LocalFigure {
                la_code,
                kind,
                value,
                fy,
                line,
            });
        }
        Ok(LocalFigures {
            path: path.to_path_buf(),
            sha256: String::new(),
            figures,
        })
    }

    /// The council's figures.
    pub fn of(&self, la_code: u16) -> impl Iterator<Item = &LocalFigure> {
        self.figures.iter().filter(move |f| f.la_code == la_code)
    }
}
