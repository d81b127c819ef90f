//! int8 linear layers: weights quantised once per output channel,
//! activations per token as they arrive, products summed exactly in i32.
//!
//! y[t, o] = s_x[t] · s_w[o] · Σ_k q_x[t, k] · q_w[o, k] + b[o], with every
//! q in [-127, 127] (symmetric, no zero point).
//!
//! Hand-written because no well-kept Rust crate multiplies int8 matrices
//! with run-time CPU dispatch. The kernel is chosen once, at run time
//! ([`Kernel::detect`]); each is tested against the portable one, which
//! is plain Rust and runs everywhere.

use std::sync::OnceLock;

use multiversion::multiversion;
use rayon::prelude::*;

/// The depth of one SIMD step, in bytes: inputs are padded to a multiple.
const STEP: usize = 32;

/// Rows of activations per rayon task.
const ROWS_PER_TASK: usize = 16;

/// Outputs per block: the block's weights stay in cache while the task's
/// rows go through them.
const OUTPUTS_PER_BLOCK: usize = 64;

/// The int8 product kernels this build has, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX2: `vpmaddubsw` on |x| and w·sign(x), widened by `vpmaddwd`.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Plain Rust in i32, for any CPU.
    Portable,
}

impl Kernel {
    /// The best kernel this CPU runs.
    pub fn detect() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            Kernel::available()
                .into_iter()
                .next()
                .unwrap_or(Kernel::Portable)
        })
    }

    /// Every kernel this CPU runs, best first (what the tests compare).
    pub fn available() -> Vec<Kernel> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            out.push(Kernel::Avx2);
        }
        out.push(Kernel::Portable);
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }
}

/// A linear layer with int8 weights.
#[derive(Debug, Clone)]
pub struct Int8Dense {
    /// (out × padded), row-major: each output's weights contiguous.
    weight: Vec<i8>,
    /// Per output: the weights' scale.
    scales: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    /// `inputs` rounded up to [`STEP`].
    padded: usize,
}

impl Int8Dense {
    /// Quantises Hugging Face's (out × in) weight, row-major.
    pub fn quantise(weight: &[f32], bias: Vec<f32>) -> Int8Dense {
        let inputs = weight.len() / bias.len();
        let padded = inputs.div_ceil(STEP) * STEP;
        let mut q = vec![0i8; bias.len() * padded];
        let mut scales = Vec::with_capacity(bias.len());
        for (row, out) in weight.chunks_exact(inputs).zip(q.chunks_exact_mut(padded)) {
            scales.push(quantise_row(row, &mut out[..inputs]));
        }
        Int8Dense {
            weight: q,
            scales,
            bias,
            inputs,
            padded,
        }
    }

    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// y = x · Wᵀ + b for every row of `x`; `y` is overwritten.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        self.forward_with(Kernel::detect(), x, y)
    }

    /// The same, with a given kernel.
    pub fn forward_with(&self, kernel: Kernel, x: &[f32], y: &mut [f32]) {
        let (k, kp, n) = (self.inputs, self.padded, self.outputs());
        y.par_chunks_mut(ROWS_PER_TASK * n)
            .zip(x.par_chunks(ROWS_PER_TASK * k))
            .for_each(|(y, x)| {
                let rows = x.len() / k;
                let mut q = vec![0i8; rows * kp];
                let mut row_scales = Vec::with_capacity(rows);
                for (row, out) in x.chunks_exact(k).zip(q.chunks_exact_mut(kp)) {
                    row_scales.push(quantise_row(row, &mut out[..k]));
                }
                let mut sums = vec![0i32; rows * n];
                match kernel {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `Kernel::Avx2` is only offered where the CPU has AVX2.
                    Kernel::Avx2 => unsafe { avx2::products(&q, &self.weight, kp, &mut sums) },
                    Kernel::Portable => portable_products(&q, &self.weight, kp, &mut sums),
                }
                for ((y, sums), sx) in y
                    .chunks_exact_mut(n)
                    .zip(sums.chunks_exact(n))
                    .zip(&row_scales)
                {
                    for (((y, &s), sw), b) in
                        y.iter_mut().zip(sums).zip(&self.scales).zip(&self.bias)
                    {
                        *y = s as f32 * sx * sw + b;
                    }
                }
            });
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
        // Round half away from zero; `as` saturates, and |v·inv| ≤ 127.
        let scaled = v * inv;
        *q = (scaled + 0.5f32.copysign(scaled)) as i8;
    }
    max / 127.0
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

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{OUTPUTS_PER_BLOCK, STEP};

    /// What [`super::portable_products`] computes, in tiles of 2 rows × 4
    /// outputs: each step multiplies 32 bytes of a row by 32 of a weight
    /// row. `vpmaddubsw` needs one unsigned operand, so it takes |x| and
    /// w with x's sign; both are in [-127, 127], so its pairwise i16 sums
    /// (at most 2 · 127²) cannot saturate.
    #[target_feature(enable = "avx2")]
    pub unsafe fn products(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
        let (rows, n) = (x.len() / depth, w.len() / depth);
        let mut block = 0;
        while block < n {
            let end = (block + OUTPUTS_PER_BLOCK).min(n);
            let mut t = 0;
            while t < rows {
                let tr = (rows - t).min(2);
                let mut o = block;
                while o < end {
                    let oc = (end - o).min(4);
                    match (tr, oc) {
                        (2, 4) => tile::<2, 4>(x, w, depth, n, t, o, sums),
                        (1, 4) => tile::<1, 4>(x, w, depth, n, t, o, sums),
                        (2, _) => tile::<2, 1>(x, w, depth, n, t, o, sums),
                        _ => tile::<1, 1>(x, w, depth, n, t, o, sums),
                    }
                    o += if oc == 4 { 4 } else { 1 };
                }
                t += tr;
            }
            block = end;
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile<const R: usize, const C: usize>(
        x: &[i8],
        w: &[i8],
        depth: usize,
        n: usize,
        t: usize,
        o: usize,
        sums: &mut [i32],
    ) {
        debug_assert!((t + R) * depth <= x.len() && (o + C) * depth <= w.len());
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_si256(); C]; R];
        let xp = x.as_ptr().add(t * depth);
        let wp = w.as_ptr().add(o * depth);
        let mut k = 0;
        while k < depth {
            let mut wv = [_mm256_setzero_si256(); C];
            for (c, v) in wv.iter_mut().enumerate() {
                *v = _mm256_loadu_si256(wp.add(c * depth + k) as *const __m256i);
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let xv = _mm256_loadu_si256(xp.add(r * depth + k) as *const __m256i);
                let magnitude = _mm256_abs_epi8(xv);
                for (a, &wv) in acc.iter_mut().zip(&wv) {
                    let pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(wv, xv));
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(pairs, ones));
                }
            }
            k += STEP;
        }
        for (r, acc) in acc.iter().enumerate() {
            for (c, &a) in acc.iter().enumerate() {
                sums[(t + r) * n + o + c] = horizontal_sum(a);
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn horizontal_sum(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s)
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
        // Odd sizes: rows and outputs that leave partial tiles, and a depth
        // that needs padding.
        let (rows, k, n) = (37, 70, 139);
        let layer = Int8Dense::quantise(&values(n * k, 1), values(n, 2));
        let x = values(rows * k, 3);
        let mut want = vec![0f32; rows * n];
        layer.forward_with(Kernel::Portable, &x, &mut want);
        for kernel in Kernel::available() {
            eprintln!("int8 kernel tested: {}", kernel.name());
            let mut got = vec![f32::NAN; rows * n];
            layer.forward_with(kernel, &x, &mut got);
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
