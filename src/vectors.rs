//! The engine's yearly step compiled twice, once for the portable x86-64 baseline and once for
//! the CPU's wider vector instructions, with the copy to run picked when the program runs.
//!
//! The release binary is built for the x86-64 baseline (SSE2: two `f64` lanes to an
//! instruction), so that it runs on every x86-64 machine. [`widest`] asks `pulp` whether the
//! CPU has AVX2 and FMA (x86-64-v3: Intel Haswell, 2013, AMD Zen, 2017, and later; `pulp` asks
//! the CPU once per process). Where it has, the closure runs inside `pulp`'s `V3::vectorize`,
//! a function compiled with those features (four `f64` lanes to an instruction); elsewhere it
//! runs as is, in the portable copy. The features reach only code inlined into that function,
//! so the closure is written `#[inline(always)]` and so is every function on its hot path.
//!
//! **Both copies give the same bits.** Rust never fuses a multiply and an add unless told to
//! (`f64::mul_add`, which the crate does not call), so each copy makes the same IEEE operations
//! in the same order, only more of them to an instruction; `exp` and the other functions of
//! the C library pick their own code at run time either way. The crate's tests and
//! `scripts/identical.sh` run whichever copy the machine has; the README's Performance section
//! records the check of both on one machine (`HIGHNEEDS_PORTABLE=1` forces the portable copy).

#[cfg(target_arch = "x86_64")]
use std::sync::OnceLock;

/// Runs `f` in the copy for the widest vector instructions this CPU has (see the module's
/// documentation); `f` should be an `#[inline(always)]` closure.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if !portable_only() {
        if let Some(v3) = pulp::x86::V3::try_new() {
            return v3.vectorize(f);
        }
    }
    f()
}

/// Whether `HIGHNEEDS_PORTABLE` is set (to anything but empty or `0`): then only the portable
/// copy runs, so that the two copies can be compared on one machine. Read once per process.
#[cfg(target_arch = "x86_64")]
fn portable_only() -> bool {
    static PORTABLE: OnceLock<bool> = OnceLock::new();
    *PORTABLE.get_or_init(|| {
        std::env::var_os("HIGHNEEDS_PORTABLE").is_some_and(|v| !v.is_empty() && v != "0")
    })
}
