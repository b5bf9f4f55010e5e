//! Financial years (1 April to 31 March), labelled like `2026-27`.

use std::fmt;
use std::str::FromStr;

/// A financial year, stored as the calendar year in which it starts
/// (`2026-27` is `FinancialYear(2026)`). Its January census is in `start + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear(pub i32);

impl FinancialYear {
    /// The financial year that contains 31 March of `year` as its last day.
    pub fn ending_in(year: i32) -> Self {
        FinancialYear(year - 1)
    }
    /// The financial year whose January census is January `year`.
    pub fn of_january(year: i32) -> Self {
        FinancialYear(year - 1)
    }
    /// Calendar year of this FY's January census (and of its 31 March end).
    pub fn end_year(self) -> i32 {
        self.0 + 1
    }
    pub fn start_year(self) -> i32 {
        self.0
    }
    pub fn next(self) -> Self {
        FinancialYear(self.0 + 1)
    }
    pub fn prev(self) -> Self {
        FinancialYear(self.0 - 1)
    }
}

/// The first financial year a date or a financial year may name (2000-01).
pub const FIRST: FinancialYear = FinancialYear(2000);
/// The last financial year a date or a financial year may name (2100-01).
pub const LAST: FinancialYear = FinancialYear(2100);

/// Parses `YYYY-MM-DD` into (year, month, day), checking ranges: the date must fall in a
/// financial year from [`FIRST`] to [`LAST`] (1 April 2000 to 31 March 2101).
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    let fy = FinancialYear(if m >= 4 { y } else { y - 1 });
    if d == 0 || d > days || !(FIRST..=LAST).contains(&fy) {
        return None;
    }
    Some((y, m, d))
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.0, (self.0 + 1).rem_euclid(100))
    }
}

impl FromStr for FinancialYear {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("`{s}` is not a financial year from {FIRST} to {LAST}; write it like `2027-28`")
        };
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let start: i32 = a.parse().map_err(|_| bad())?;
        let end: i32 = b.parse().map_err(|_| bad())?;
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        let fy = FinancialYear(start);
        if a.len() != 4
            || b.len() != 2
            || !digits(a)
            || !digits(b)
            || (start + 1).rem_euclid(100) != end
            || !(FIRST..=LAST).contains(&fy)
        {
            return Err(bad());
        }
        Ok(fy)
    }
}

impl serde::Serialize for FinancialYear {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for FinancialYear {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let fy: FinancialYear = "2027-28".parse().unwrap();
        assert_eq!(fy, FinancialYear(2027));
        assert_eq!(fy.to_string(), "2027-28");
        assert_eq!(FinancialYear(1999).to_string(), "1999-00");
        assert!("2027-29".parse::<FinancialYear>().is_err());
        assert!("2027".parse::<FinancialYear>().is_err());
        // Only real years (issue 11): 2000-01 to 2100-01, digits only.
        assert_eq!("2000-01".parse::<FinancialYear>(), Ok(FinancialYear(2000)));
        assert_eq!("2100-01".parse::<FinancialYear>(), Ok(FinancialYear(2100)));
        for bad in [
            "0000-01", "+999-00", "1999-00", "2101-02", "-001-00", "2027-+8",
        ] {
            let error = bad.parse::<FinancialYear>().unwrap_err();
            assert!(error.contains("from 2000-01 to 2100-01"), "{bad}: {error}");
        }
    }

    #[test]
    fn dates_map_to_years() {
        assert_eq!(parse_date("2028-03-31"), Some((2028, 3, 31)));
        assert_eq!(parse_date("2028-02-30"), None);
        assert_eq!(parse_date("2000-04-01"), Some((2000, 4, 1)));
        assert_eq!(parse_date("2101-03-31"), Some((2101, 3, 31)));
        assert_eq!(parse_date("2000-03-31"), None);
        assert_eq!(parse_date("2101-04-01"), None);
        assert_eq!(FinancialYear::ending_in(2026), FinancialYear(2025));
        assert_eq!(FinancialYear::of_january(2025).to_string(), "2024-25");
    }
}
