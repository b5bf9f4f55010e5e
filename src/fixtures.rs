//! What unit tests share (compiled for tests only).

/// Uniform values in [0, 1) from a fixed xorshift generator started at `seed` (not 0): the same
/// columns on every machine, without a random-number crate's version in the way.
pub fn xorshift_uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
