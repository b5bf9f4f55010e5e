//! The metrics a run reports, as one list: each carries its name in the CSVs, its unit, the
//! decimals its figures are written with, and its index in the engine's rows. A misspelt metric
//! does not compile; adding one is one line in `metrics!` below (and the engine step that
//! writes it).

use crate::caseload::{AGE_BANDS, SETTINGS};

/// What a metric counts; it fixes how many decimals the figures are written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nominal pounds, written in whole pounds.
    Pounds,
    /// EHCPs (plans), in whole plans.
    Plans,
    /// Special-school places, in whole places.
    Places,
    /// A ratio, to 4 decimals.
    Ratio,
    /// A 0/1 flag per path: its mean is a probability, to 4 decimals.
    Flag,
    /// A count of councils (England only), in whole councils.
    Councils,
}

impl Unit {
    pub const fn decimals(self) -> usize {
        match self {
            Unit::Pounds | Unit::Plans | Unit::Places | Unit::Councils => 0,
            Unit::Ratio | Unit::Flag => 4,
        }
    }
    /// The unit in words, for the manifest's `units`.
    pub const fn name(self) -> &'static str {
        match self {
            Unit::Pounds => "pounds (GBP, nominal), whole pounds",
            Unit::Plans => "plans (EHCPs), whole plans",
            Unit::Places => "places, whole places",
            Unit::Ratio => "ratio (no unit)",
            Unit::Flag => "0/1 per path; its mean is a probability (0 to 1)",
            Unit::Councils => "councils, whole councils",
        }
    }
}

/// Declares the council metrics in output order: `Variant = "csv_name", Unit;`.
macro_rules! metrics {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, $unit:ident;)*) => {
        /// A council metric: one value per council, path and year.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Metric {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Metric {
            /// Every council metric, in output order (`ALL[m.index()] == m`).
            pub const ALL: [Metric; [$(Metric::$variant),*].len()] = [$(Metric::$variant),*];

            /// The metric's name in the CSVs.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Metric::$variant => $name,)*
                }
            }

            pub const fn unit(self) -> Unit {
                match self {
                    $(Metric::$variant => Unit::$unit,)*
                }
            }
        }
    };
}

metrics! {
    /// EHCPs in force in the January census.
    Ehcps = "ehcps", Plans;
    EhcpsMainstream = "ehcps_mainstream", Plans;
    EhcpsSpecialState = "ehcps_special_state", Plans;
    EhcpsSpecialIndependent = "ehcps_special_independent", Plans;
    EhcpsPost16 = "ehcps_post16", Plans;
    EhcpsApOther = "ehcps_ap_other", Plans;
    EhcpsUnder5 = "ehcps_under_5", Plans;
    EhcpsAge5To10 = "ehcps_age_5_10", Plans;
    EhcpsAge11To15 = "ehcps_age_11_15", Plans;
    EhcpsAge16To19 = "ehcps_age_16_19", Plans;
    EhcpsAge20To25 = "ehcps_age_20_25", Plans;
    NewPlans = "new_plans", Plans;
    CeasedPlans = "ceased_plans", Plans;
    AgedOut = "aged_out", Plans;
    SpecialPlaces = "special_places", Places;
    /// Plans placed outside state special schools for want of places.
    Overflow = "overflow", Plans;
    Spend = "spend", Pounds;
    Savings = "savings", Pounds;
    Funding = "funding", Pounds;
    InYearBalance = "in_year_balance", Pounds;
    SvPayment = "sv_payment", Pounds;
    SvWithheld = "sv_withheld", Pounds;
    SvBreach = "sv_breach", Flag;
    CouncilContribution = "council_contribution", Pounds;
    HnsgPayment = "hnsg_payment", Pounds;
    InterimSupport = "interim_support", Pounds;
    CentralPressure = "central_pressure", Pounds;
    WrittenOff = "written_off", Pounds;
    CumulativeDeficit = "cumulative_deficit", Pounds;
    Reserves = "reserves", Pounds;
    DeficitToReserves = "deficit_to_reserves", Ratio;
    DeficitExceedsReserves = "deficit_exceeds_reserves", Flag;
    Shortfall = "shortfall", Pounds;
    InducedPlacements = "induced_placements", Plans;
    InterestCost = "interest_cost", Pounds;
    /// The most plans the prevalence ceiling allows (ceiling x population, summed over age bands).
    EhcpCeiling = "ehcp_ceiling", Plans;
    /// The largest share of its ceiling that any age band's plans take (England: plans over the
    /// summed ceilings).
    CeilingUse = "ceiling_use", Ratio;
}

impl Metric {
    pub const COUNT: usize = Metric::ALL.len();

    /// EHCPs by setting, in `caseload::SETTING_NAMES` order.
    pub const BY_SETTING: [Metric; SETTINGS] = [
        Metric::EhcpsMainstream,
        Metric::EhcpsSpecialState,
        Metric::EhcpsSpecialIndependent,
        Metric::EhcpsPost16,
        Metric::EhcpsApOther,
    ];

    /// EHCPs by age band, in `caseload::AGE_BAND_NAMES` order.
    pub const BY_AGE: [Metric; AGE_BANDS] = [
        Metric::EhcpsUnder5,
        Metric::EhcpsAge5To10,
        Metric::EhcpsAge11To15,
        Metric::EhcpsAge16To19,
        Metric::EhcpsAge20To25,
    ];

    /// The metric's position in a row of the engine's council results.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    pub const fn decimals(self) -> usize {
        self.unit().decimals()
    }
}

/// An England metric: computed per path from the councils' values, then summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NationalMetric {
    /// A council metric summed over councils, except: a 0/1 flag becomes a count of councils,
    /// `CumulativeDeficit` sums only the councils in deficit, and `DeficitToReserves` is the
    /// ratio of the sums.
    Council(Metric),
    /// Cumulative deficit summed over every council (surpluses net off deficits).
    NetCumulativeDeficit,
    /// Number of councils with a cumulative deficit.
    CouncilsInDeficit,
}

impl NationalMetric {
    pub const COUNT: usize = Metric::COUNT + 2;

    /// Every England metric, in output order (`ALL[m.index()] == m`): the council metrics,
    /// then the England-only ones.
    pub const ALL: [NationalMetric; NationalMetric::COUNT] = {
        let mut all = [NationalMetric::NetCumulativeDeficit; NationalMetric::COUNT];
        let mut k = 0;
        while k < Metric::COUNT {
            all[k] = NationalMetric::Council(Metric::ALL[k]);
            k += 1;
        }
        all[Metric::COUNT + 1] = NationalMetric::CouncilsInDeficit;
        all
    };

    /// The metric's position in a row of the engine's national results.
    #[inline]
    pub const fn index(self) -> usize {
        match self {
            NationalMetric::Council(m) => m.index(),
            NationalMetric::NetCumulativeDeficit => Metric::COUNT,
            NationalMetric::CouncilsInDeficit => Metric::COUNT + 1,
        }
    }

    /// The metric's name in national.csv.
    pub const fn name(self) -> &'static str {
        match self {
            NationalMetric::Council(Metric::SvBreach) => "councils_sv_breach",
            NationalMetric::Council(Metric::DeficitExceedsReserves) => "councils_over_reserves",
            NationalMetric::Council(m) => m.name(),
            NationalMetric::NetCumulativeDeficit => "net_cumulative_deficit",
            NationalMetric::CouncilsInDeficit => "councils_in_deficit",
        }
    }

    pub const fn unit(self) -> Unit {
        match self {
            NationalMetric::Council(m) => match m.unit() {
                Unit::Flag => Unit::Councils,
                unit => unit,
            },
            NationalMetric::NetCumulativeDeficit => Unit::Pounds,
            NationalMetric::CouncilsInDeficit => Unit::Councils,
        }
    }

    pub const fn decimals(self) -> usize {
        self.unit().decimals()
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for NationalMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caseload::{AGE_BAND_NAMES, SETTING_NAMES};

    #[test]
    fn lists_are_in_index_order_with_unique_names() {
        for (k, m) in Metric::ALL.iter().enumerate() {
            assert_eq!(m.index(), k, "{m:?}");
        }
        for (k, m) in NationalMetric::ALL.iter().enumerate() {
            assert_eq!(m.index(), k, "{m:?}");
        }
        let mut names: Vec<&str> = NationalMetric::ALL.iter().map(|m| m.name()).collect();
        names.extend(Metric::ALL.iter().map(|m| m.name()));
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        // Only the council metrics that England reports under the same name repeat.
        assert_eq!(all - names.len(), Metric::COUNT - 2);
    }

    #[test]
    fn breakdowns_follow_the_caseload_order() {
        for (m, s) in Metric::BY_SETTING.iter().zip(SETTING_NAMES) {
            assert_eq!(m.name(), format!("ehcps_{s}"));
        }
        for (m, a) in Metric::BY_AGE.iter().zip(AGE_BAND_NAMES) {
            assert_eq!(m.name(), format!("ehcps_{a}"));
        }
    }

    #[test]
    fn decimals_follow_the_unit() {
        assert_eq!(Metric::CumulativeDeficit.decimals(), 0);
        assert_eq!(Metric::EhcpsPost16.decimals(), 0);
        assert_eq!(Metric::SpecialPlaces.decimals(), 0);
        assert_eq!(Metric::SvBreach.decimals(), 4);
        assert_eq!(Metric::DeficitToReserves.decimals(), 4);
        assert_eq!(
            NationalMetric::Council(Metric::DeficitExceedsReserves).decimals(),
            0
        );
        assert_eq!(NationalMetric::CouncilsInDeficit.decimals(), 0);
        assert_eq!(NationalMetric::NetCumulativeDeficit.decimals(), 0);
    }
}
