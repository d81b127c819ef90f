//! int8 linear layers: weights quantised once per output channel,
//! activations per token as they arrive, products summed exactly in i32.
//!
//! y[t, o] = s_x[t] · s_w[o] · Σ_k q_x[t, k] · q_w[o, k] + b[o], with every
//! q in [-127, 127] (symmetric, no zero point).
//!
//! Hand-written because no well-kept Rust crate multiplies int8 matrices
//! with run-time CPU dispatch. The kernel is chosen once, at run time
//! ([`Kernel::detect`]), and a layer stores its weights in the layout its
//! kernel reads. Every kernel gives the portable kernel's sums exactly, so
//! the corrections do not depend on the CPU; the tests check it for every
//! kernel the CPU runs.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512_vnni;

use std::sync::OnceLock;

use multiversion::multiversion;
use rayon::prelude::*;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use super::amx;
use super::dispatch;
use super::packing::{self, OUTPUT_BLOCK};

/// Depths are padded to a multiple of this many bytes: one AMX tile row,
/// and a whole number of every kernel's steps.
const DEPTH_STEP: usize = 64;

/// Depths per group of the packed layout ([`packing`]): what `vpdpbusd`
/// and AMX's `tdpbssd` sum into one i32.
const GROUP: usize = 4;

/// Names the kernel to use instead of the best one ([`dispatch::choose`]).
pub const KERNEL_VARIABLE: &str = "TYPOFIX_INT8_KERNEL";

/// The int8 product kernels this build has, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AMX: `tdpbssd` on 16 × 64-byte tiles, 2 × 2 tiles of sums at a time.
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Amx,
    /// AVX-512 VNNI: `vpdpbusd` sums 4 products into each of 16 lanes.
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    /// AVX2: `vpmaddubsw` on |x| and w·sign(x), widened by `vpmaddwd`.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Plain Rust in i32, for any CPU.
    Portable,
}

/// How a layer's weights lie in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// (outputs × padded depth): each output's weights contiguous.
    RowMajor,
    /// [`packing`], in groups of 4 depths.
    Packed,
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
    pub fn available() -> Vec<Kernel> {
        let mut out = Vec::new();
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if amx::usable(amx::Op::Int8) {
            out.push(Kernel::Amx);
        }
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
        {
            out.push(Kernel::Avx512Vnni);
        }
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            out.push(Kernel::Avx2);
        }
        out.push(Kernel::Portable);
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => "amx",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => "avx512-vnni",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    fn layout(self) -> Layout {
        match self {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            Kernel::Amx => Layout::Packed,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => Layout::Packed,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => Layout::RowMajor,
            Kernel::Portable => Layout::RowMajor,
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

/// A linear layer with int8 weights.
#[derive(Debug, Clone)]
pub struct Int8Dense {
    kernel: Kernel,
    /// In `kernel.layout()`.
    weight: Vec<i8>,
    /// Per output: the weights' scale.
    scales: Vec<f32>,
    /// Per (padded) output: 128 · Σ_k w[o, k], for `vpdpbusd`, which takes
    /// activations as unsigned bytes (x + 128); empty for other kernels.
    offsets: Vec<i32>,
    bias: Vec<f32>,
    inputs: usize,
    /// `inputs` rounded up to [`DEPTH_STEP`].
    depth: usize,
    /// The outputs the kernel computes: padded in the packed layout.
    width: usize,
}

impl Int8Dense {
    /// Quantises Hugging Face's (out × in) weight, row-major, for the best
    /// kernel.
    pub fn quantise(weight: &[f32], bias: Vec<f32>) -> Int8Dense {
        Int8Dense::quantise_for(Kernel::detect(), weight, bias)
    }

    /// The same, for a given kernel.
    pub fn quantise_for(kernel: Kernel, weight: &[f32], bias: Vec<f32>) -> Int8Dense {
        let outputs = bias.len();
        let inputs = weight.len() / outputs;
        let depth = inputs.div_ceil(DEPTH_STEP) * DEPTH_STEP;
        let mut rows = vec![0i8; outputs * depth];
        let mut scales = Vec::with_capacity(outputs);
        for (row, out) in weight
            .chunks_exact(inputs)
            .zip(rows.chunks_exact_mut(depth))
        {
            scales.push(quantise_row(row, &mut out[..inputs]));
        }
        let (weight, width) = match kernel.layout() {
            Layout::RowMajor => (rows, outputs),
            Layout::Packed => packing::pack(&rows, depth, GROUP),
        };
        let offsets = match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => (0..width)
                .map(|o| {
                    let row = packing::output(&weight, depth, GROUP, o);
                    128 * row.map(i32::from).sum::<i32>()
                })
                .collect(),
            _ => Vec::new(),
        };
        Int8Dense {
            kernel,
            weight,
            scales,
            offsets,
            bias,
            inputs,
            depth,
            width,
        }
    }

    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// y = x · Wᵀ + b for every row of `x`; `y` is overwritten.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        let (k, n) = (self.inputs, self.outputs());
        let (rows_per_task, row_multiple) = self.kernel.rows();
        y.par_chunks_mut(rows_per_task * n)
            .zip(x.par_chunks(rows_per_task * k))
            .for_each(|(y, x)| {
                let rows = x.len() / k;
                let padded_rows = rows.next_multiple_of(row_multiple);
                let mut q = vec![0i8; padded_rows * self.depth];
                let mut row_scales = Vec::with_capacity(rows);
                for (row, out) in x.chunks_exact(k).zip(q.chunks_exact_mut(self.depth)) {
                    row_scales.push(quantise_row(row, &mut out[..k]));
                }
                let mut sums = vec![0i32; padded_rows * self.width];
                self.products(&q, &mut sums);
                for ((y, sums), &sx) in y
                    .chunks_exact_mut(n)
                    .zip(sums.chunks_exact(self.width))
                    .zip(&row_scales)
                {
                    dequantise_row(&sums[..n], sx, &self.scales, &self.bias, y);
                }
            });
    }

    /// sums[t, o] = Σ_k q[t, k] · w[o, k] for the rows of `q`.
    fn products(&self, q: &[i8], sums: &mut [i32]) {
        let (w, depth) = (&self.weight, self.depth);
        match self.kernel {
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            // SAFETY: `Kernel::Amx` is only offered where the CPU has AMX and
            // Linux has let this process use it; the rows are padded to
            // whole tiles, and the weights are packed.
            Kernel::Amx => unsafe { amx::products_int8(q, w, depth, sums) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: only offered where the CPU has AVX-512 F, BW and VNNI;
            // the weights are packed.
            Kernel::Avx512Vnni => unsafe {
                avx512_vnni::products(q, w, depth, &self.offsets, sums)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: only offered where the CPU has AVX2.
            Kernel::Avx2 => unsafe { avx2::products(q, w, depth, sums) },
            Kernel::Portable => portable_products(q, w, depth, sums),
        }
    }
}

/// Quantises `row` into `out` (same length) symmetrically; returns the scale.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn quantise_row(row: &[f32], out: &mut [i8]) -> f32 {
    // In lanes, so that the reduction vectorises.
    let mut lanes = [0f32; 16];
    let mut chunks = row.chunks_exact(16);
    for c in chunks.by_ref() {
        for l in 0..16 {
            lanes[l] = lanes[l].max(c[l].abs());
        }
    }
    let tail = chunks.remainder().iter().map(|v| v.abs());
    let max = lanes.into_iter().chain(tail).fold(0f32, f32::max);
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let inv = 127.0 / max;
    for (q, &v) in out.iter_mut().zip(row) {
        // Round half away from zero. The clamp (which also sends NaN to
        // -127) makes the unchecked conversion sound, and lets it
        // vectorise: a saturating `as i8` compiles to one scalar
        // conversion per value, which took more time than AMX's products.
        let scaled = v * inv;
        #[allow(clippy::manual_clamp)] // `clamp` would keep NaN.
        let rounded = (scaled + 0.5f32.copysign(scaled)).max(-127.0).min(127.0);
        // SAFETY: `rounded` is finite and within i32's range.
        *q = unsafe { rounded.to_int_unchecked::<i32>() } as i8;
    }
    max / 127.0
}

/// y[o] = sums[o] · s_x · s_w[o] + b[o].
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn dequantise_row(sums: &[i32], sx: f32, scales: &[f32], bias: &[f32], y: &mut [f32]) {
    for (((y, &s), sw), b) in y.iter_mut().zip(sums).zip(scales).zip(bias) {
        *y = s as f32 * sx * sw + b;
    }
}

/// sums[t, o] = Σ_k x[t, k] · w[o, k], rows of `depth` bytes.
fn portable_products(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    let n = w.len() / depth;
    for (xr, out) in x.chunks_exact(depth).zip(sums.chunks_exact_mut(n)) {
        for (wr, s) in w.chunks_exact(depth).zip(out) {
            *s = xr.iter().zip(wr).map(|(&a, &b)| a as i32 * b as i32).sum();
        }
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
    fn every_kernel_this_cpu_runs_gives_the_portable_kernels_exact_sums() {
        // Odd sizes: rows and outputs that leave partial tiles and blocks,
        // and a depth that needs padding; then the model's own shapes.
        for (rows, k, n) in [
            (37, 70, 139),
            (1, 384, 16),
            (150, 384, 1152),
            (70, 1536, 384),
        ] {
            let (w, b, x) = (values(n * k, 1), values(n, 2), values(rows * k, 3));
            let mut want = vec![0f32; rows * n];
            Int8Dense::quantise_for(Kernel::Portable, &w, b.clone()).forward(&x, &mut want);
            for kernel in Kernel::available() {
                eprintln!("int8 kernel tested: {} ({rows}×{k}×{n})", kernel.name());
                let layer = Int8Dense::quantise_for(kernel, &w, b.clone());
                let mut got = vec![f32::NAN; rows * n];
                layer.forward(&x, &mut got);
                assert_eq!(got, want, "{} on {rows}×{k}×{n}", kernel.name());
            }
        }
    }

    #[test]
    fn extreme_values_do_not_overflow_or_saturate_any_kernel() {
        // All weights and activations at ±127 after quantising: the largest
        // sums any kernel sees, with the signs that stress `vpmaddubsw` and
        // the unsigned offset of `vpdpbusd`.
        let (rows, k, n) = (33, 1536, 48);
        let w: Vec<f32> = (0..n * k)
            .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
            .collect();
        let x: Vec<f32> = (0..rows * k)
            .map(|i| if i % 2 == 0 { -1.0 } else { 1.0 })
            .collect();
        let b = vec![0f32; n];
        let mut want = vec![0f32; rows * n];
        Int8Dense::quantise_for(Kernel::Portable, &w, b.clone()).forward(&x, &mut want);
        for kernel in Kernel::available() {
            let mut got = vec![f32::NAN; rows * n];
            Int8Dense::quantise_for(kernel, &w, b.clone()).forward(&x, &mut got);
            assert_eq!(got, want, "{}", kernel.name());
        }
    }

    #[test]
    fn an_int8_layer_is_close_to_the_f32_product() {
        let (rows, k, n) = (9, 384, 48);
        let (w, b, x) = (values(n * k, 4), values(n, 5), values(rows * k, 6));
        let mut got = vec![0f32; rows * n];
        Int8Dense::quantise(&w, b.clone()).forward(&x, &mut got);
        for t in 0..rows {
            for o in 0..n {
                let exact: f32 = b[o] + (0..k).map(|i| x[t * k + i] * w[o * k + i]).sum::<f32>();
                // Two 8-bit roundings of values up to 0.5 over 384 terms.
                assert!(
                    (got[t * n + o] - exact).abs() < 0.02,
                    "{} vs {exact}",
                    got[t * n + o]
                );
            }
        }
    }

    #[test]
    fn a_row_of_zeros_quantises_to_zeros() {
        let mut out = [1i8; 4];
        assert_eq!(quantise_row(&[0.0; 4], &mut out), 0.0);
        assert_eq!(out, [0; 4]);
        let scale = quantise_row(&[1.0, -0.5, 0.25, -1.0], &mut out);
        assert_eq!(out, [127, -64, 32, -127]);
        assert!((scale - 1.0 / 127.0).abs() < 1e-9);
    }
}
