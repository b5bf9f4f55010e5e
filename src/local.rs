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
        let text = crate::input::read_text(path, crate::input::MAX_LOCAL_BYTES)?;
        Self::parse(path, &text, councils)
    }

    pub fn parse(path: &Path, text: &str, councils: &[u16]) -> Result<LocalFigures, InputError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        check_header(path, &mut reader)?;
        let mut figures: Vec<LocalFigure> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| InputError::invalid(path, format!("{e}")))?;
            let line = record.position().map_or(0, |p| p.line());
            let figure = parse_row(&record, line, councils)
                .and_then(|f| check_unique(&figures, f))
                .map_err(|msg| InputError::at_line(path, line, msg))?;
            figures.push(figure);
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

/// The header must be exactly `la_code,figure,value,date`.
fn check_header(path: &Path, reader: &mut csv::Reader<&[u8]>) -> Result<(), InputError> {
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| InputError::invalid(path, format!("bad header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != ["la_code", "figure", "value", "date"] {
        let message = format!(
            "the header must be `la_code,figure,value,date`, not `{}`",
            header.join(",")
        );
        return Err(InputError::at_line(path, 1, message));
    }
    Ok(())
}

/// One row's four fields, each checked against what is allowed.
fn parse_row(
    record: &csv::StringRecord,
    line: u64,
    councils: &[u16],
) -> Result<LocalFigure, String> {
    let field = |i: usize| record.get(i).unwrap_or("");
    let la_code = parse_council(field(0), councils)?;
    let kind = LocalKind::parse(field(1))?;
    let value = kind.parse_value(field(2))?;
    let fy = kind.parse_date(field(3))?;
    Ok(LocalFigure {
        la_code,
        kind,
        value,
        fy,
        line,
    })
}

fn parse_council(text: &str, councils: &[u16]) -> Result<u16, String> {
    text.parse().ok().filter(|c| councils.contains(c)).ok_or_else(|| {
        format!("`la_code` `{text}` is not a council in the seeds (use a DfE 3-digit code from seeds/councils.csv)")
    })
}

/// A council gives each figure once per date.
fn check_unique(figures: &[LocalFigure], f: LocalFigure) -> Result<LocalFigure, String> {
    let same = |g: &LocalFigure| g.la_code == f.la_code && g.kind == f.kind && g.fy == f.fy;
    if figures.iter().any(same) {
        let (kind, la_code, fy) = (f.kind.name(), f.la_code, f.fy);
        return Err(format!(
            "a second {kind} for council {la_code} in {fy}: give each figure once per date"
        ));
    }
    Ok(f)
}

impl LocalKind {
    fn parse(text: &str) -> Result<LocalKind, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "`figure` `{text}` is not allowed: use one of {}",
                    names.join(", ")
                )
            })
    }

    fn parse_value(self, text: &str) -> Result<f64, String> {
        let allowed = |v: &f64| v.is_finite() && (self.may_be_negative() || *v >= 0.0);
        text.parse().ok().filter(allowed).ok_or_else(|| {
            let allowed = if self.may_be_negative() {
                "a number (pounds; no commas or £)"
            } else {
                "a number at least 0 (no commas or £)"
            };
            format!("`value` `{text}` for {}: must be {allowed}", self.name())
        })
    }

    /// The FY the figure belongs to: the one holding a January census for EHCPs, else the one
    /// ending on the 31 March given.
    fn parse_date(self, date: &str) -> Result<FinancialYear, String> {
        match (self, crate::calendar::parse_date(date)) {
            (LocalKind::Ehcps, Some((y, 1, _))) => Ok(FinancialYear::of_january(y)),
            (LocalKind::Ehcps, _) => Err(format!(
                "`date` `{date}` for ehcps must be a January census date written like `2026-01-15`"
            )),
            (_, Some((y, 3, 31))) => Ok(FinancialYear::ending_in(y)),
            (_, _) => Err(format!(
                "`date` `{date}` for {} must be a 31 March date written like `2025-03-31`",
                self.name()
            )),
        }
    }
}
