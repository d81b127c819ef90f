//! The fused engine's kernels, on rows of f32 activations.
//!
//! Matrix products go to the `gemm` crate (the kernels candle itself uses,
//! picked at run time for the CPU: AVX-512, AVX2+FMA or a portable
//! fallback). What is written here is what no crate does for us on ragged
//! batches: attention over each sequence's own length, and the passes that
//! candle runs as separate allocating ops (bias, GELU, residual and
//! LayerNorm), each done in one pass over the rows.
//!
//! The row passes are compiled for AVX-512, AVX2+FMA and the portable
//! baseline, and `multiversion` picks one at run time: the release binary
//! targets plain x86-64, where they would run four lanes wide without FMA.

use std::ops::Range;

use gemm::Parallelism;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::model::kernels::gelu;

/// Rows per task in the row-wise passes: large enough to amortise rayon's
/// scheduling, small enough to share a batch of a few hundred tokens.
const ROWS_PER_TASK: usize = 32;

/// A linear layer, stored for `gemm`: the weight as (in × out), row-major.
#[derive(Debug, Clone)]
pub struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

impl Dense {
    /// From Hugging Face's (out × in) weight, row-major, and its bias.
    pub fn from_out_in(weight: &[f32], bias: Vec<f32>) -> Dense {
        let (outputs, inputs) = (bias.len(), weight.len() / bias.len());
        debug_assert_eq!(outputs * inputs, weight.len());
        let mut t = vec![0f32; weight.len()];
        for o in 0..outputs {
            for i in 0..inputs {
                t[i * outputs + o] = weight[o * inputs + i];
            }
        }
        Dense {
            weight: t,
            bias,
            inputs,
        }
    }

    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// y = x · W + b for `rows` rows of `x`; `y` is overwritten.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        let (k, n) = (self.inputs, self.outputs());
        let m = x.len() / k;
        debug_assert_eq!(y.len(), m * n);
        for row in y.chunks_exact_mut(n) {
            row.copy_from_slice(&self.bias);
        }
        // SAFETY: the pointers cover m×k, k×n and m×n f32 values with the
        // strides given (row-major), as asserted above.
        unsafe {
            product(
                (m, n, k),
                (y.as_mut_ptr(), n),
                true,
                (x.as_ptr(), k, 1),
                (self.weight.as_ptr(), n, 1),
                parallelism(m),
            );
        }
    }
}

/// dst = [dst +] lhs · rhs through `gemm`, for (m, n, k) = the shape of
/// the product and its depth; `dst` is (pointer, row stride) with unit
/// column stride, and each operand (pointer, row stride, column stride).
///
/// # Safety
/// Each view must cover its matrix at those strides.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    (dst, dst_rs): (*mut f32, usize),
    accumulate: bool,
    (lhs, lhs_rs, lhs_cs): (*const f32, usize, usize),
    (rhs, rhs_rs, rhs_cs): (*const f32, usize, usize),
    parallelism: Parallelism,
) {
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs as isize,
        accumulate,
        lhs,
        lhs_cs as isize,
        lhs_rs as isize,
        rhs,
        rhs_cs as isize,
        rhs_rs as isize,
        if accumulate { 1.0 } else { 0.0 },
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}

/// gemm's threads: rayon's, when there are enough rows to share.
fn parallelism(rows: usize) -> Parallelism {
    match rayon::current_num_threads() {
        n if n > 1 && rows >= 16 => Parallelism::Rayon(n),
        _ => Parallelism::None,
    }
}

/// LayerNorm's scale and shift.
#[derive(Debug, Clone)]
pub struct Norm {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub eps: f32,
}

impl Norm {
    /// x ← LayerNorm(x + residual), row by row; `residual` may be empty.
    pub fn add_and_normalise(&self, x: &mut [f32], residual: &[f32]) {
        let d = self.weight.len();
        x.par_chunks_mut(ROWS_PER_TASK * d)
            .enumerate()
            .for_each(|(task, rows)| {
                for (r, row) in rows.chunks_exact_mut(d).enumerate() {
                    if !residual.is_empty() {
                        let at = (task * ROWS_PER_TASK + r) * d;
                        row.iter_mut()
                            .zip(&residual[at..at + d])
                            .for_each(|(a, b)| *a += b);
                    }
                    self.normalise_row(row);
                }
            });
    }

    fn normalise_row(&self, row: &mut [f32]) {
        normalise_row(row, &self.weight, &self.bias, self.eps);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn normalise_row(row: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    let mut lanes = [0f32; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for l in 0..LANES {
            lanes[l] += (c[l] - mean) * (c[l] - mean);
        }
    }
    let tail: f32 = chunks
        .remainder()
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum();
    let var = (lanes.iter().sum::<f32>() + tail) / n;
    let rstd = 1.0 / (var + eps).sqrt();
    for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
        *v = (*v - mean) * rstd * w + b;
    }
}

/// Lanes of the reductions: written this way, the sums vectorise (a plain
/// `iter().sum()` must add in order, one value at a time).
const LANES: usize = 16;

#[inline(always)]
fn max(x: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for l in 0..LANES {
            lanes[l] = lanes[l].max(c[l]);
        }
    }
    let tail = chunks.remainder().iter().copied();
    lanes
        .into_iter()
        .chain(tail)
        .fold(f32::NEG_INFINITY, f32::max)
}

#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut lanes = [0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for l in 0..LANES {
            lanes[l] += c[l];
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

/// x ← GELU(x) (erf form), on all threads.
pub fn gelu_in_place(x: &mut [f32]) {
    x.par_chunks_mut(1 << 14).for_each(gelu_chunk);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn gelu_chunk(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = gelu(*v));
}

/// x ← max(x, 0).
pub fn relu_in_place(x: &mut [f32]) {
    x.par_chunks_mut(1 << 14)
        .for_each(|chunk| chunk.iter_mut().for_each(|v| *v = v.max(0.0)));
}

/// Multi-head self-attention over ragged sequences. `qkv` has one row per
/// token, `[q | k | v]`, each `heads × head_dim` wide, with the queries
/// already scaled; `seqs` are the token ranges of the sequences, in order
/// and back to back. Writes the context rows (`heads × head_dim` wide).
///
/// Each query row is done in one pass: its scores against the sequence's
/// keys, their softmax and the weighted sum of values, in a buffer of the
/// sequence's length. So no padded (batch, heads, seq, seq) tensor exists,
/// and padding costs nothing.
pub fn attention(qkv: &[f32], seqs: &[Range<usize>], heads: usize, context: &mut [f32]) {
    let d = context.len() / seqs.last().map_or(1, |s| s.end.max(1));
    let head_dim = d / heads;
    let mut chunks = Vec::with_capacity(seqs.len());
    let mut rest = context;
    for seq in seqs {
        let (mine, later) = rest.split_at_mut(seq.len() * d);
        chunks.push((seq.clone(), mine));
        rest = later;
    }
    chunks.into_par_iter().for_each(|(seq, out)| {
        let rows = &qkv[seq.start * 3 * d..seq.end * 3 * d];
        attend(rows, seq.len(), heads, head_dim, out);
    });
}

/// Attention within one sequence of `len` tokens, head by head: the
/// scores Q·Kᵀ and the context P·V are two small products that `gemm`
/// reads in place (strided views of the qkv rows), and softmax runs on
/// each row of scores in between.
///
/// The rows of scores are padded to whole vectors, with −∞ (a weight of
/// 0): a row of a short sentence is a few dozen scores, and without the
/// padding the softmax spent most of its time in scalar tails.
fn attend(rows: &[f32], len: usize, heads: usize, head_dim: usize, out: &mut [f32]) {
    let d = heads * head_dim;
    let stride = len.next_multiple_of(LANES);
    let mut scores = vec![f32::NEG_INFINITY; len * stride];
    for h in 0..heads {
        let (q, k, v) = (
            &rows[h * head_dim..],
            &rows[d + h * head_dim..],
            &rows[2 * d + h * head_dim..],
        );
        // SAFETY: every view stays inside `rows` (len rows of 3·d values),
        // `scores` (len × len) or `out` (len rows of d values).
        unsafe {
            let keys_transposed = (k.as_ptr(), 1, 3 * d);
            product(
                (len, len, head_dim),
                (scores.as_mut_ptr(), stride),
                false,
                (q.as_ptr(), 3 * d, 1),
                keys_transposed,
                Parallelism::None,
            );
        }
        softmax_padded_rows(&mut scores, len, stride);
        // SAFETY: as above.
        unsafe {
            product(
                (len, head_dim, len),
                (out[h * head_dim..].as_mut_ptr(), d),
                false,
                (scores.as_ptr(), stride, 1),
                (v.as_ptr(), 3 * d, 1),
                Parallelism::None,
            );
        }
    }
}

/// Softmax of the first `len` values of each row of `scores`, whose rows
/// are `stride` apart (a multiple of [`LANES`]) and −∞ after `len`, on
/// entry and on return.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn softmax_padded_rows(scores: &mut [f32], len: usize, stride: usize) {
    for row in scores.chunks_exact_mut(stride) {
        let mut high = [f32::NEG_INFINITY; LANES];
        for c in row.chunks_exact(LANES) {
            for l in 0..LANES {
                high[l] = if c[l] > high[l] { c[l] } else { high[l] };
            }
        }
        let max = halve(high, |a, b| if a > b { a } else { b });
        let mut total = [0f32; LANES];
        for c in row.chunks_exact_mut(LANES) {
            for l in 0..LANES {
                // −∞ gives e^-87, about 1e-38: nothing beside a row's largest
                // score, e^0 = 1.
                c[l] = exp(c[l] - max);
                total[l] += c[l];
            }
        }
        let inv = 1.0 / halve(total, |a, b| a + b);
        row.iter_mut().for_each(|v| *v *= inv);
        row[len..].fill(f32::NEG_INFINITY);
    }
}

/// Folds the lanes in halves, which compiles to a few shuffles where a
/// fold from the left is a chain of scalar operations.
#[inline(always)]
fn halve(mut lanes: [f32; LANES], op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            lanes[l] = op(lanes[l], lanes[l + width]);
        }
        width /= 2;
    }
    lanes[0]
}

/// Each row ← log-softmax(row), on all threads.
pub fn log_softmax_rows(x: &mut [f32], width: usize) {
    x.par_chunks_mut(width).for_each(log_softmax_row);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn log_softmax_row(row: &mut [f32]) {
    let max = max(row);
    let mut lanes = [0f32; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in chunks.by_ref() {
        for l in 0..LANES {
            lanes[l] += exp(c[l] - max);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| exp(v - max)).sum();
    let shift = max + (lanes.iter().sum::<f32>() + tail).ln();
    row.iter_mut().for_each(|v| *v -= shift);
}

/// e^x for x ≤ 0 (softmax arguments), within 2 ulp of `f32::exp`, and
/// finite for any x, in arithmetic the compiler vectorises (libm's `expf`
/// is a scalar call, and a vocabulary row has 30,522 of them):
/// e^x = 2^k · e^r with |r| ≤ ln 2 / 2, and a degree-7 Taylor polynomial
/// for e^r.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // The clamp also sends NaN to -87.
    #[allow(clippy::manual_clamp)] // `clamp` would keep NaN.
    let x = x.max(-87.0).min(88.0);
    let k = (x * std::f32::consts::LOG2_E).round();
    let r = x - k * 0.693_145_75 - k * 1.428_606_8e-6;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // Not `k as i32`: a saturating conversion compiles to a scalar
    // conversion and two moves per value, which took most of a softmax's
    // time. SAFETY: k is a whole number in [-126, 127].
    let k = unsafe { k.to_int_unchecked::<i32>() };
    p * f32::from_bits(((k + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w_out_in: &[f32], b: &[f32]) -> Vec<f32> {
        let (n, k) = (b.len(), w_out_in.len() / b.len());
        x.chunks(k)
            .flat_map(|row| {
                (0..n)
                    .map(move |o| b[o] + (0..k).map(|i| row[i] * w_out_in[o * k + i]).sum::<f32>())
            })
            .collect()
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
            .collect()
    }

    #[test]
    fn a_dense_layer_is_x_times_w_transposed_plus_b() {
        let (rows, k, n) = (37, 24, 40);
        let (x, w, b) = (values(rows * k, 1), values(n * k, 2), values(n, 3));
        let mut y = vec![f32::NAN; rows * n];
        Dense::from_out_in(&w, b.clone()).forward(&x, &mut y);
        for (got, want) in y.iter().zip(naive(&x, &w, &b)) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    #[test]
    fn attention_of_each_sequence_ignores_the_others() {
        let (heads, d) = (2, 8);
        let qkv = values(9 * 3 * d, 4);
        let seqs = [0..4, 4..9];
        let mut together = vec![0f32; 9 * d];
        attention(&qkv, &seqs, heads, &mut together);
        let mut alone = vec![0f32; 5 * d];
        attention(
            &qkv[4 * 3 * d..],
            std::slice::from_ref(&(0..5)),
            heads,
            &mut alone,
        );
        assert_eq!(&together[4 * d..], &alone[..]);
        // A one-token sequence attends only to itself: its context is its value.
        let mut single = vec![0f32; d];
        attention(
            &qkv[..3 * d],
            std::slice::from_ref(&(0..1)),
            heads,
            &mut single,
        );
        assert_eq!(&single[..], &qkv[2 * d..3 * d]);
    }

    #[test]
    fn the_vectorised_exp_matches_libm_on_softmax_arguments() {
        for i in 0..=160_000 {
            let x = -(i as f32) * 0.000_5;
            let (got, want) = (exp(x), x.exp());
            assert!(
                (got - want).abs() <= 4.0 * f32::EPSILON * want,
                "e^{x}: {got} vs {want}"
            );
        }
        assert!(exp(-1000.0) < 1e-37 && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn exp_stays_finite_for_any_input() {
        for x in [f32::NEG_INFINITY, f32::NAN, 1e30, f32::INFINITY] {
            assert!(exp(x).is_finite(), "e^{x} = {}", exp(x));
        }
        assert!((exp(3.0) - 3f32.exp()).abs() <= 4.0 * f32::EPSILON * 3f32.exp());
    }

    #[test]
    fn softmax_of_padded_rows_is_the_softmax_of_their_first_values() {
        let (len, stride) = (5, 16);
        let mut scores = vec![f32::NEG_INFINITY; 3 * stride];
        for (row, values) in scores
            .chunks_exact_mut(stride)
            .zip(values(3 * len, 7).chunks(len))
        {
            row[..len].copy_from_slice(values);
        }
        let before = scores.clone();
        softmax_padded_rows(&mut scores, len, stride);
        for (row, was) in scores.chunks_exact(stride).zip(before.chunks_exact(stride)) {
            let total: f32 = was[..len].iter().map(|v| v.exp()).sum();
            for (p, v) in row[..len].iter().zip(&was[..len]) {
                assert!((p - v.exp() / total).abs() < 1e-6);
            }
            assert!(row[len..].iter().all(|&v| v == f32::NEG_INFINITY));
        }
    }

    #[test]
    fn log_softmax_rows_sum_to_one_in_probability() {
        let mut x = values(3 * 50, 5);
        log_softmax_rows(&mut x, 50);
        for row in x.chunks(50) {
            let total: f32 = row.iter().map(|v| v.exp()).sum();
            assert!((total - 1.0).abs() < 1e-5);
        }
    }
}
