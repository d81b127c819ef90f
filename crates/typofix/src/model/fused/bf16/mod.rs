//! bf16 linear layers: weights rounded once to bfloat16, activations per
//! row as they arrive, products summed in f32.
//!
//! bf16 keeps f32's exponent and 8 bits of its mantissa, so unlike int8 it
//! needs no scales, and its products and sums lose little: the sums are
//! f32 throughout.
//!
//! Hand-written because no well-kept Rust crate multiplies bf16 matrices
//! on AVX512-BF16 or AMX with run-time dispatch. The kernel is chosen once
//! ([`Kernel::detect`]); CPUs without AMX run the same bf16 values widened
//! to f32 through `gemm`, so every CPU computes the same rounded model and
//! differs only in the order of its f32 sums.

#[cfg(target_arch = "x86_64")]
mod avx512_bf16;

use std::cell::RefCell;
use std::sync::OnceLock;

use half::bf16;
use multiversion::multiversion;
use rayon::prelude::*;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use super::amx;
use super::ops::Dense;
use super::packing;
use super::{dispatch, grow};

/// Depths are padded to a multiple of this: one AMX tile row of bf16.
const DEPTH_STEP: usize = 32;

/// Depths per group of the packed layout ([`packing`]): the pair that
/// `vdpbf16ps` and `tdpbf16ps` sum into one f32.
const GROUP: usize = 2;

/// Names the kernel to use instead of the best one ([`dispatch::choose`]).
pub const KERNEL_VARIABLE: &str = "TYPOFIX_BF16_KERNEL";

/// The bf16 product kernels this build has, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AMX: `tdpbf16ps` on 16 × 32-pair tiles, 2 × 2 tiles of sums at a time.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Amx,
    /// AVX512-BF16: `vdpbf16ps` sums 2 products into each of 16 lanes.
    #[cfg(target_arch = "x86_64")]
    Avx512Bf16,
    /// The bf16 values widened to f32, through `gemm`, for any CPU.
    Widened,
}

impl Kernel {
    /// The kernel to use: the best this CPU runs, or the one named by
    /// [`KERNEL_VARIABLE`].
    pub fn detect() -> Kernel {
        static CHOSEN: OnceLock<Kernel> = OnceLock::new();
        *CHOSEN
            .get_or_init(|| dispatch::choose(KERNEL_VARIABLE, &Kernel::available(), Kernel::name))
    }

    /// Every kernel this CPU runs, best first (what the tests compare).
    ///
    /// AVX512-BF16 comes last: on Sapphire Rapids, where `vdpbf16ps` does
    /// no more multiplications per cycle than two f32 FMAs, the corrector
    /// ran at 0.76–0.80× its speed with `gemm` on the widened values
    /// (docs/BENCHMARKS.md). Zen 4
    /// and Cooper Lake, which have it without AMX, are not measured yet;
    /// `TYPOFIX_BF16_KERNEL=avx512-bf16` picks it there.
    // Pushes, each under its own `cfg`, even where none applies.
    #[allow(clippy::vec_init_then_push)]
    pub fn available() -> Vec<Kernel> {
        let mut out = Vec::new();
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if amx::usable(amx::Op::Bf16) {
            out.push(Kernel::Amx);
        }
        out.push(Kernel::Widened);
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16") {
            out.push(Kernel::Avx512Bf16);
        }
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => "amx",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Bf16 => "avx512-bf16",
            Kernel::Widened => "widened",
        }
    }

    /// Rows of activations per rayon task, and what they are padded to a
    /// multiple of (AMX multiplies whole tiles of 16 rows).
    fn rows(self) -> (usize, usize) {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => (64, amx::TILE_ROWS),
            _ => (16, 1),
        }
    }
}

/// A linear layer with bf16 weights.
#[derive(Debug, Clone)]
pub enum Bf16Dense {
    /// Packed for a bf16 kernel.
    Packed(Packed),
    /// The same values, widened to f32, for `gemm`.
    Widened(Dense),
}

/// bf16 weights packed ([`packing`], pairs of depths) for one kernel.
#[derive(Debug, Clone)]
pub struct Packed {
    kernel: Kernel,
    /// bf16 bits.
    weight: Vec<u16>,
    bias: Vec<f32>,
    inputs: usize,
    /// `inputs` rounded up to [`DEPTH_STEP`].
    depth: usize,
    /// The outputs rounded up to a whole block.
    width: usize,
}

impl Bf16Dense {
    /// Rounds Hugging Face's (out × in) weight, row-major, to bf16 for the
    /// best kernel.
    pub fn round(weight: &[f32], bias: Vec<f32>) -> Bf16Dense {
        Bf16Dense::round_for(Kernel::detect(), weight, bias)
    }

    /// The same, for a given kernel.
    pub fn round_for(kernel: Kernel, weight: &[f32], bias: Vec<f32>) -> Bf16Dense {
        if kernel == Kernel::Widened {
            let widened: Vec<f32> = weight.iter().map(|&v| bf16::from_f32(v).to_f32()).collect();
            return Bf16Dense::Widened(Dense::from_out_in(&widened, bias));
        }
        let inputs = weight.len() / bias.len();
        let depth = inputs.next_multiple_of(DEPTH_STEP);
        let mut rows = vec![0u16; bias.len() * depth];
        for (row, out) in weight
            .chunks_exact(inputs)
            .zip(rows.chunks_exact_mut(depth))
        {
            round_row(row, &mut out[..inputs]);
        }
        let (weight, width) = packing::pack(&rows, depth, GROUP);
        Bf16Dense::Packed(Packed {
            kernel,
            weight,
            bias,
            inputs,
            depth,
            width,
        })
    }

    /// y = x · Wᵀ + b for every row of `x`, its values rounded to bf16;
    /// `y` is overwritten.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        match self {
            Bf16Dense::Packed(packed) => packed.forward(x, y),
            Bf16Dense::Widened(dense) => {
                let mut rounded = x.to_vec();
                widen_through_bf16(&mut rounded);
                dense.forward(&rounded, y)
            }
        }
    }
}

thread_local! {
    /// A thread's rows of bf16 activations and their sums, kept from call
    /// to call ([`super::grow`]): for the projector they are 8 MB a task.
    static SCRATCH: RefCell<(Vec<u16>, Vec<f32>)> = RefCell::default();
}

impl Packed {
    fn forward(&self, x: &[f32], y: &mut [f32]) {
        let (k, n, depth, width) = (self.inputs, self.bias.len(), self.depth, self.width);
        let (rows_per_task, row_multiple) = self.kernel.rows();
        y.par_chunks_mut(rows_per_task * n)
            .zip(x.par_chunks(rows_per_task * k))
            .for_each(|(y, x)| {
                SCRATCH.with_borrow_mut(|(q, sums)| {
                    let padded_rows = (x.len() / k).next_multiple_of(row_multiple);
                    grow(q, padded_rows * depth);
                    grow(sums, padded_rows * width);
                    let (q, sums) = (
                        &mut q[..padded_rows * depth],
                        &mut sums[..padded_rows * width],
                    );
                    // A row's padding must be zero (stale bits could be NaN,
                    // and NaN · 0 is NaN); padding rows only give sums that
                    // are never read.
                    for (row, out) in x.chunks_exact(k).zip(q.chunks_exact_mut(depth)) {
                        let (out, padding) = out.split_at_mut(k);
                        round_row(row, out);
                        padding.fill(0);
                    }
                    self.products(q, sums);
                    for (y, sums) in y.chunks_exact_mut(n).zip(sums.chunks_exact(width)) {
                        add_bias(&sums[..n], &self.bias, y);
                    }
                })
            });
    }

    /// sums[t, o] = Σ_k q[t, k] · w[o, k] for the bf16 rows of `q`.
    // Other CPUs have no packed kernel, and leave the arguments unused.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn products(&self, q: &[u16], sums: &mut [f32]) {
        let (w, depth) = (&self.weight, self.depth);
        match self.kernel {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            // SAFETY: `Kernel::Amx` is only offered where the CPU has
            // AMX-BF16 and Linux lets this process use it; the rows are
            // padded to whole tiles, and the weights are packed.
            Kernel::Amx => unsafe { amx::products_bf16(q, w, depth, sums) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: only offered where the CPU has AVX-512 F and BF16.
            Kernel::Avx512Bf16 => unsafe { avx512_bf16::products(q, w, depth, sums) },
            Kernel::Widened => unreachable!("widened layers are not packed"),
        }
    }
}

/// `row`'s values rounded to the nearest bf16 (ties to even), as bits:
/// `half::bf16::from_f32`'s result, in integer operations without a
/// branch, so that the loop vectorises (it runs on every activation).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn round_row(row: &[f32], out: &mut [u16]) {
    for (b, &v) in out.iter_mut().zip(row) {
        let bits = v.to_bits();
        let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16;
        // NaN stays NaN, made quiet, rather than rounding into infinity.
        let nan = bits & 0x7fff_ffff > 0x7f80_0000;
        *b = if nan {
            (bits >> 16) as u16 | 0x40
        } else {
            rounded as u16
        };
    }
}

/// Each value replaced by its nearest bf16.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn widen_through_bf16(values: &mut [f32]) {
    for v in values {
        *v = bf16::from_f32(*v).to_f32();
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn add_bias(sums: &[f32], bias: &[f32], y: &mut [f32]) {
    for ((y, s), b) in y.iter_mut().zip(sums).zip(bias) {
        *y = s + b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761) ^ seed.wrapping_mul(40_503)) as f32
                    / u32::MAX as f32
                    - 0.5
            })
            .collect()
    }

    #[test]
    fn every_kernel_this_cpu_runs_sums_the_same_bf16_products() {
        // The same rounded values on every kernel: only the order of the
        // f32 sums differs, so they agree far below bf16's own rounding.
        for (rows, k, n) in [
            (37, 70, 139),
            (1, 384, 16),
            (150, 384, 1152),
            (70, 1536, 384),
        ] {
            let (w, b, x) = (values(n * k, 1), values(n, 2), values(rows * k, 3));
            let mut want = vec![0f32; rows * n];
            Bf16Dense::round_for(Kernel::Widened, &w, b.clone()).forward(&x, &mut want);
            for kernel in Kernel::available() {
                eprintln!("bf16 kernel tested: {} ({rows}×{k}×{n})", kernel.name());
                let mut got = vec![f32::NAN; rows * n];
                Bf16Dense::round_for(kernel, &w, b.clone()).forward(&x, &mut got);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    // 1e-5 relative: f32's sums in another order, where one
                    // rounding to bf16 is 4e-3.
                    let close = (g - w).abs() <= 1e-5 * w.abs().max(1.0);
                    assert!(close, "{} at {i}: {g} vs {w}", kernel.name());
                }
            }
        }
    }

    #[test]
    fn a_bf16_layer_is_close_to_the_f32_product() {
        let (rows, k, n) = (9, 384, 48);
        let (w, b, x) = (values(n * k, 4), values(n, 5), values(rows * k, 6));
        let mut got = vec![0f32; rows * n];
        Bf16Dense::round(&w, b.clone()).forward(&x, &mut got);
        for t in 0..rows {
            for o in 0..n {
                let exact: f32 = b[o] + (0..k).map(|i| x[t * k + i] * w[o * k + i]).sum::<f32>();
                // Two roundings to 8 mantissa bits of values up to 0.5.
                let (got, diff) = (got[t * n + o], (got[t * n + o] - exact).abs());
                assert!(diff < 0.02, "{got} vs {exact}");
            }
        }
    }

    #[test]
    fn rounding_to_bf16_goes_to_the_nearest_and_ties_to_even() {
        let mut out = [0u16; 4];
        // 1 + 2⁻⁸ is halfway between two bf16 values: to the even one, 1.
        // 1 + 3·2⁻⁸ is halfway too: to the even one above.
        round_row(&[1.0, 1.0 + 1.0 / 256.0, 1.0 + 3.0 / 256.0, -2.0], &mut out);
        assert_eq!(out, [0x3f80, 0x3f80, 0x3f82, 0xc000]);
    }

    #[test]
    fn rounding_to_bf16_agrees_with_the_half_crate_everywhere() {
        // Every 65,537th bit pattern: all exponents, both signs, NaNs,
        // infinities and subnormals among them.
        let values: Vec<f32> = (0..=u32::MAX).step_by(65_537).map(f32::from_bits).collect();
        let mut got = vec![0u16; values.len()];
        round_row(&values, &mut got);
        for (v, g) in values.iter().zip(got) {
            let want = bf16::from_f32(*v);
            if v.is_nan() {
                assert!(bf16::from_bits(g).is_nan(), "{v}");
            } else {
                assert_eq!(g, want.to_bits(), "{v:e}");
            }
        }
    }
}
