//! Settings and age bands (the README's "The model"), and the caseload grid (age band x setting).

pub const SETTINGS: usize = 5;
pub const AGE_BANDS: usize = 5;

/// Plans by age band (rows) and setting (columns).
pub type Cells = [[f64; SETTINGS]; AGE_BANDS];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Mainstream = 0,
    SpecialState = 1,
    SpecialIndependent = 2,
    Post16 = 3,
    ApOther = 4,
}

pub const SETTING_NAMES: [&str; SETTINGS] = [
    "mainstream",
    "special_state",
    "special_independent",
    "post16",
    "ap_other",
];

pub const AGE_BAND_NAMES: [&str; AGE_BANDS] =
    ["under_5", "age_5_10", "age_11_15", "age_16_19", "age_20_25"];

/// Single years of age in each band (SEN2 bands; "under 3" counts from age 2 in the seeds).
pub const AGE_BAND_RANGES: [(u8, u8); AGE_BANDS] = [(0, 4), (5, 10), (11, 15), (16, 19), (20, 25)];

pub const SPECIAL_STATE: usize = Setting::SpecialState as usize;
pub const SPECIAL_INDEPENDENT: usize = Setting::SpecialIndependent as usize;
pub const MAINSTREAM: usize = Setting::Mainstream as usize;

/// Age bands by index (see [`AGE_BAND_NAMES`]).
pub const AGE_5_10: usize = 1;
pub const AGE_11_15: usize = 2;

pub fn setting_index(name: &str) -> Option<usize> {
    SETTING_NAMES.iter().position(|n| *n == name)
}

pub fn age_band_index(name: &str) -> Option<usize> {
    AGE_BAND_NAMES.iter().position(|n| *n == name)
}

pub fn age_band_of(age: u8) -> usize {
    AGE_BAND_RANGES
        .iter()
        .position(|(lo, hi)| age >= *lo && age <= *hi)
        .unwrap_or(AGE_BANDS - 1)
}

pub fn total(c: &Cells) -> f64 {
    c.iter().flatten().sum()
}

pub fn by_setting(c: &Cells) -> [f64; SETTINGS] {
    let mut s = [0.0; SETTINGS];
    for row in c {
        for (k, v) in row.iter().enumerate() {
            s[k] += v;
        }
    }
    s
}

pub fn by_age(c: &Cells) -> [f64; AGE_BANDS] {
    let mut a = [0.0; AGE_BANDS];
    for (i, row) in c.iter().enumerate() {
        a[i] = row.iter().sum();
    }
    a
}
