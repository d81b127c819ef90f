//! The run-time choice of a kernel, shared by the int8 and bf16 layers.

/// The first of `available` (which lists the kernels this CPU runs, best
/// first), or the one that the environment variable `variable` names, so
/// that benchmarks can compare kernels in one run. A name the CPU cannot
/// run is reported and ignored.
pub fn choose<K: Copy>(variable: &str, available: &[K], name: impl Fn(K) -> &'static str) -> K {
    let best = available[0];
    let Some(wanted) = std::env::var(variable).ok().filter(|n| !n.is_empty()) else {
        return best;
    };
    match available.iter().find(|&&k| name(k) == wanted) {
        Some(&kernel) => kernel,
        None => {
            let names: Vec<_> = available.iter().map(|&k| name(k)).collect();
            tracing::warn!(
                "{variable}={wanted} is not a kernel this CPU runs (it runs: {}); using {}",
                names.join(", "),
                name(best)
            );
            best
        }
    }
}
