//! int8 linear layers: weights quantised per output channel, activations
//! per token as they arrive, products summed exactly in i32.
//!
//! ```text
//! y[t, o] = b[o] + Σ_g ( s_x[t, g] · s_w[o, g] · Σ_{k ∈ g} q_x[t, k] · q_w[o, k]
//!                        + c[t, g] · Σ_{k ∈ g} ŵ[o, k] )
//! ```
//!
//! over the groups g of [`GROUP_INPUTS`] inputs, with every q in
//! [-127, 127] and ŵ the weights as quantised. Three things keep it close to f32 (each measured
//! in docs/BENCHMARKS.md, "int8: centred, smoothed, in groups"):
//! - weights are quantised symmetrically, but each row of activations
//!   about the middle of its range, c[t, g]: the GELU's outputs lie in
//!   [-0.17, max], and about 0 up to half of the 255 steps went unused;
//! - the products that follow a LayerNorm are smoothed
//!   ([`Int8Dense::quantise_smoothed`]);
//! - scales are per group of [`GROUP_INPUTS`] inputs, not per whole row.
//!
//! The kernels only ever see int8 rows of one group: all three live in
//! the quantising and dequantising around them.
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
#[cfg(target_arch = "aarch64")]
mod neon;

use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

use multiversion::multiversion;
use rayon::prelude::*;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
use super::amx;
use super::packing;
use super::{dispatch, grow};

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
    /// aarch64 with FEAT_DotProd: `sdot` sums 4 products into each of 4 lanes.
    #[cfg(target_arch = "aarch64")]
    NeonDotprod,
    /// Any aarch64: `smull`/`smlal2` to i16, `sadalp` into i32.
    #[cfg(target_arch = "aarch64")]
    Neon,
    /// Plain Rust in i32, for any CPU.
    Portable,
}

/// How a layer's weights lie in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// (outputs × padded depth): each output's weights contiguous.
    RowMajor,
    /// [`packing`], in groups of 4 depths (x86-64's kernels only).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
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
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            out.push(Kernel::NeonDotprod);
        }
        #[cfg(target_arch = "aarch64")]
        if std::arch::is_aarch64_feature_detected!("neon") {
            out.push(Kernel::Neon);
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
            #[cfg(target_arch = "aarch64")]
            Kernel::NeonDotprod => "neon-dotprod",
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => "neon",
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
            #[cfg(target_arch = "aarch64")]
            Kernel::NeonDotprod | Kernel::Neon => Layout::RowMajor,
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
    /// The inputs in groups of [`GROUP_INPUTS`], each quantised on its own.
    parts: Vec<Part>,
    /// Per input: 1 / s[k] of the smoothing ([`Int8Dense::quantise_smoothed`]),
    /// 1 without. Multiplying by 1 costs less than a second loop.
    unsmooth: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

/// The weights of one group of inputs, and what dequantising their sums
/// needs.
#[derive(Debug, Clone)]
struct Part {
    /// The inputs it covers.
    columns: Range<usize>,
    /// In `kernel.layout()`.
    weight: Vec<i8>,
    /// Per output: the weights' scale.
    scales: Vec<f32>,
    /// Per output: Σ_k w[o, k] as quantised, which a row's centre multiplies.
    weight_sums: Vec<f32>,
    /// Per (padded) output: 128 · Σ_k w[o, k], for `vpdpbusd`, which takes
    /// activations as unsigned bytes (x + 128); empty for other kernels.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    offsets: Vec<i32>,
    /// The inputs rounded up to [`DEPTH_STEP`].
    depth: usize,
    /// The outputs the kernel computes: padded in the packed layout.
    width: usize,
}

/// Inputs per group: each group of a row of activations has its own scale
/// and centre, and each group of a weight row its own scale. One scale for
/// a whole 1,536-wide FFN row let its few large values set the step for
/// all of them. With groups of 192, int8 differed from f32 on 32 dev-set
/// lines of 7,824 instead of 43 (docs/BENCHMARKS.md). A multiple of
/// [`DEPTH_STEP`], so that only a row's last group is padded.
pub const GROUP_INPUTS: usize = 192;

impl Int8Dense {
    /// Quantises Hugging Face's (out × in) weight, row-major, for the best
    /// kernel.
    pub fn quantise(weight: &[f32], bias: Vec<f32>) -> Int8Dense {
        Int8Dense::quantise_for(Kernel::detect(), weight, bias, GROUP_INPUTS)
    }

    /// The same, with the difficulty of quantising moved from activations
    /// to weights (SmoothQuant, Xiao et al., 2023): input k is divided by
    /// s[k] = √(max |x_k| / max_o |w[o, k]|) and its weights multiplied by
    /// it, which leaves the product as it is. LayerNorm's outputs have a
    /// few channels 10 to 15 times the others (measured on the shipped
    /// model: up to 30 against a median of 2); quantised per token, those
    /// channels set the step for all the rest. `input_max[k]`: max |x_k|
    /// over calibration inputs.
    pub fn quantise_smoothed(weight: &[f32], bias: Vec<f32>, input_max: &[f32]) -> Int8Dense {
        let inputs = input_max.len();
        let mut weight_max = vec![0f32; inputs];
        for row in weight.chunks_exact(inputs) {
            for (m, w) in weight_max.iter_mut().zip(row) {
                *m = m.max(w.abs());
            }
        }
        // Floors keep dead channels (never active, or no weight) finite.
        let smooth: Vec<f32> = input_max
            .iter()
            .zip(&weight_max)
            .map(|(&x, &w)| (x.max(1e-5) / w.max(1e-5)).sqrt())
            .collect();
        let scaled: Vec<f32> = weight
            .chunks_exact(inputs)
            .flat_map(|row| row.iter().zip(&smooth).map(|(w, s)| w * s))
            .collect();
        Int8Dense {
            unsmooth: smooth.iter().map(|s| 1.0 / s).collect(),
            ..Int8Dense::quantise(&scaled, bias)
        }
    }

    /// [`Int8Dense::quantise`] for a given kernel and group size (a
    /// multiple of [`DEPTH_STEP`]).
    pub fn quantise_for(kernel: Kernel, weight: &[f32], bias: Vec<f32>, group: usize) -> Int8Dense {
        debug_assert_eq!(group % DEPTH_STEP, 0);
        let inputs = weight.len() / bias.len();
        let parts = (0..inputs)
            .step_by(group)
            .map(|start| Part::quantise(kernel, weight, inputs, start..(start + group).min(inputs)))
            .collect();
        Int8Dense {
            kernel,
            parts,
            unsmooth: vec![1.0; inputs],
            bias,
            inputs,
        }
    }

    pub fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// y = x · Wᵀ + b for every row of `x`; `y` is overwritten.
    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        let (k, n) = (self.inputs, self.outputs());
        let (rows_per_task, _) = self.kernel.rows();
        y.par_chunks_mut(rows_per_task * n)
            .zip(x.par_chunks(rows_per_task * k))
            .for_each(|(y, x)| SCRATCH.with_borrow_mut(|scratch| self.forward_task(x, y, scratch)));
    }

    /// [`Int8Dense::forward`] for one task's rows, group by group.
    fn forward_task(&self, x: &[f32], y: &mut [f32], scratch: &mut Scratch) {
        let (k, n) = (self.inputs, self.outputs());
        let padded_rows = (x.len() / k).next_multiple_of(self.kernel.rows().1);
        // Every kernel writes all the sums, and each part rewrites all of
        // its rows' bytes: padding rows, stale or not, only give sums that
        // are never read.
        let depth = self.parts.iter().map(|p| p.depth).max().unwrap_or(0);
        let Scratch {
            q,
            sums,
            row_scales,
        } = scratch;
        grow(q, padded_rows * depth);
        grow(sums, padded_rows * self.parts[0].width);
        for (n_part, part) in self.parts.iter().enumerate() {
            let columns = part.columns.clone();
            let unsmooth = &self.unsmooth[columns.clone()];
            let q = &mut q[..padded_rows * part.depth];
            let sums = &mut sums[..padded_rows * part.width];
            row_scales.clear();
            for (row, out) in x.chunks_exact(k).zip(q.chunks_exact_mut(part.depth)) {
                let (out, padding) = out.split_at_mut(columns.len());
                padding.fill(0);
                row_scales.push(quantise_centred(&row[columns.clone()], unsmooth, out));
            }
            self.products(part, q, sums);
            let weights = (part.scales.as_slice(), part.weight_sums.as_slice());
            for ((y, sums), &(sx, centre)) in y
                .chunks_exact_mut(n)
                .zip(sums.chunks_exact(part.width))
                .zip(row_scales.iter())
            {
                if n_part == 0 {
                    dequantise_row(&sums[..n], sx, centre, weights, &self.bias, y);
                } else {
                    accumulate_row(&sums[..n], sx, centre, weights, y);
                }
            }
        }
    }

    /// sums[t, o] = Σ_k q[t, k] · w[o, k] for the rows of `q`.
    fn products(&self, part: &Part, q: &[i8], sums: &mut [i32]) {
        let (w, depth) = (&part.weight, part.depth);
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
                avx512_vnni::products(q, w, depth, &part.offsets, sums)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: only offered where the CPU has AVX2.
            Kernel::Avx2 => unsafe { avx2::products(q, w, depth, sums) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: only offered where the CPU has FEAT_DotProd; depths
            // are multiples of 64.
            Kernel::NeonDotprod => unsafe { neon::products_dotprod(q, w, depth, sums) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: only offered where the CPU has NEON; as above.
            Kernel::Neon => unsafe { neon::products_neon(q, w, depth, sums) },
            Kernel::Portable => portable_products(q, w, depth, sums),
        }
    }
}

/// A thread's buffers for [`Int8Dense::forward`], kept from call to call
/// ([`super::grow`]).
#[derive(Default)]
struct Scratch {
    /// Quantised rows of activations, one group of inputs at a time.
    q: Vec<i8>,
    /// Their products with one group's weights.
    sums: Vec<i32>,
    /// Per row: the scale and centre of its quantised group.
    row_scales: Vec<(f32, f32)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl Part {
    /// The weights of inputs `columns` of Hugging Face's (out × in)
    /// `weight`, `inputs` wide, quantised per output for `kernel`.
    fn quantise(kernel: Kernel, weight: &[f32], inputs: usize, columns: Range<usize>) -> Part {
        let outputs = weight.len() / inputs;
        let depth = columns.len().div_ceil(DEPTH_STEP) * DEPTH_STEP;
        let mut rows = vec![0i8; outputs * depth];
        let mut scales = Vec::with_capacity(outputs);
        for (row, out) in weight
            .chunks_exact(inputs)
            .zip(rows.chunks_exact_mut(depth))
        {
            scales.push(quantise_row(
                &row[columns.clone()],
                &mut out[..columns.len()],
            ));
        }
        // The quantised weights' sums, not the exact ones: with the exact
        // sum, every weight's rounding error would be multiplied by the
        // value less the centre, which is large for all the usual channels
        // of a row with one outlier; this way it is multiplied by the value.
        let weight_sums = rows
            .chunks_exact(depth)
            .zip(&scales)
            .map(|(row, &s)| s * row.iter().map(|&q| i32::from(q)).sum::<i32>() as f32)
            .collect();
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
        Part {
            columns,
            weight,
            scales,
            weight_sums,
            offsets,
            depth,
            width,
        }
    }
}

/// Quantises `row` into `out` (same length) symmetrically about 0; returns
/// the scale. For weights.
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
        *q = round_to_i8(v * inv);
    }
    max / 127.0
}

/// Quantises `row` · `unsmooth` (element-wise) less its centre, the middle
/// of its range, into `out` (all the same length); returns the scale and
/// the centre.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn quantise_centred(row: &[f32], unsmooth: &[f32], out: &mut [i8]) -> (f32, f32) {
    // In lanes, so that the reductions vectorise. Comparisons rather than
    // `f32::min`: they skip NaN just the same, and compile to one `vminps`
    // where `min`'s NaN rules took a compare and a blend more.
    let (mut low, mut high) = ([f32::INFINITY; 16], [f32::NEG_INFINITY; 16]);
    let mut chunks = row.chunks_exact(16).zip(unsmooth.chunks_exact(16));
    for (c, u) in chunks.by_ref() {
        for l in 0..16 {
            let v = c[l] * u[l];
            low[l] = if v < low[l] { v } else { low[l] };
            high[l] = if v > high[l] { v } else { high[l] };
        }
    }
    let done = row.len() / 16 * 16;
    let tail = row[done..]
        .iter()
        .zip(&unsmooth[done..])
        .map(|(v, u)| v * u);
    let (low, high) = low.into_iter().zip(high).chain(tail.map(|v| (v, v))).fold(
        (f32::INFINITY, f32::NEG_INFINITY),
        |(low, high), (l, h)| {
            (
                if l < low { l } else { low },
                if h > high { h } else { high },
            )
        },
    );
    if low > high {
        // Empty, or NaN throughout.
        out.fill(0);
        return (0.0, 0.0);
    }
    let centre = 0.5 * (low + high);
    let half = 0.5 * (high - low);
    if half == 0.0 {
        out.fill(0);
        return (0.0, centre);
    }
    let inv = 127.0 / half;
    for ((q, &v), u) in out.iter_mut().zip(row).zip(unsmooth) {
        *q = round_to_i8((v * u - centre) * inv);
    }
    (half / 127.0, centre)
}

/// Rounds half away from zero into [-127, 127].
#[inline(always)]
fn round_to_i8(scaled: f32) -> i8 {
    // The clamp (which also sends NaN to -127) makes the unchecked
    // conversion sound, and lets it vectorise: a saturating `as i8`
    // compiles to one scalar conversion per value, which took more time
    // than AMX's products.
    #[allow(clippy::manual_clamp)] // `clamp` would keep NaN.
    let rounded = (scaled + 0.5f32.copysign(scaled)).max(-127.0).min(127.0);
    // SAFETY: `rounded` is finite and within i32's range.
    unsafe { rounded.to_int_unchecked::<i32>() as i8 }
}

/// y[o] = sums[o] · s_x · s_w[o] + centre · Σ_k w[o, k] + b[o], over the
/// first group of inputs.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn dequantise_row(
    sums: &[i32],
    sx: f32,
    centre: f32,
    (scales, weight_sums): (&[f32], &[f32]),
    bias: &[f32],
    y: &mut [f32],
) {
    for ((((y, &s), sw), ws), b) in y
        .iter_mut()
        .zip(sums)
        .zip(scales)
        .zip(weight_sums)
        .zip(bias)
    {
        // No `mul_add`: the sums would round differently on CPUs without FMA.
        *y = s as f32 * sx * sw + centre * ws + b;
    }
}

/// The same, added to `y`, over each further group.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn accumulate_row(
    sums: &[i32],
    sx: f32,
    centre: f32,
    (scales, weight_sums): (&[f32], &[f32]),
    y: &mut [f32],
) {
    for (((y, &s), sw), ws) in y.iter_mut().zip(sums).zip(scales).zip(weight_sums) {
        // No `mul_add`: the sums would round differently on CPUs without FMA.
        *y += s as f32 * sx * sw + centre * ws;
    }
}

/// The tiles of a row-major kernel (AVX2's, NEON's): `rows` × `n` sums
/// in blocks of `block` outputs, whose weights stay in cache while the
/// rows go through them, and in each block tiles of 2 rows × 4 outputs,
/// or fewer at the edges. Calls `tile(tile_rows, tile_outputs, t, o)` for
/// the tile whose first sum is (t, o).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[inline(always)]
fn for_each_tile(
    rows: usize,
    n: usize,
    block: usize,
    mut tile: impl FnMut(usize, usize, usize, usize),
) {
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let mut t = 0;
        while t < rows {
            let tr = (rows - t).min(2);
            let mut o = start;
            while o < end {
                let oc = if end - o >= 4 { 4 } else { 1 };
                tile(tr, oc, t, o);
                o += oc;
            }
            t += tr;
        }
        start = end;
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
            // One group, the default groups, and small ones with a partial
            // last group.
            for group in [k.next_multiple_of(DEPTH_STEP), GROUP_INPUTS, DEPTH_STEP] {
                let mut want = vec![0f32; rows * n];
                Int8Dense::quantise_for(Kernel::Portable, &w, b.clone(), group)
                    .forward(&x, &mut want);
                for kernel in Kernel::available() {
                    eprintln!(
                        "int8 kernel tested: {} ({rows}×{k}×{n}, groups of {group})",
                        kernel.name()
                    );
                    let layer = Int8Dense::quantise_for(kernel, &w, b.clone(), group);
                    let mut got = vec![f32::NAN; rows * n];
                    layer.forward(&x, &mut got);
                    assert_eq!(got, want, "{} on {rows}×{k}×{n}", kernel.name());
                }
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
        Int8Dense::quantise_for(Kernel::Portable, &w, b.clone(), GROUP_INPUTS)
            .forward(&x, &mut want);
        for kernel in Kernel::available() {
            let mut got = vec![f32::NAN; rows * n];
            Int8Dense::quantise_for(kernel, &w, b.clone(), GROUP_INPUTS).forward(&x, &mut got);
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
    fn activations_are_quantised_about_the_middle_of_their_range() {
        let mut out = [0i8; 4];
        // GELU-like: nothing below -0.5, so 0 is not the middle.
        let (scale, centre) = quantise_centred(&[-0.5, 1.5, 0.5, 3.5], &[1.0; 4], &mut out);
        assert_eq!(centre, 1.5);
        assert_eq!(out, [-127, 0, -64, 127]);
        assert!((scale - 2.0 / 127.0).abs() < 1e-9);
        assert_eq!(quantise_centred(&[2.0; 4], &[1.0; 4], &mut out), (0.0, 2.0));
        assert_eq!(out, [0; 4]);
        // Smoothing multiplies each input by its factor first.
        let (_, centre) =
            quantise_centred(&[-1.0, 3.0, 2.0, 14.0], &[0.5, 0.5, 1.0, 0.25], &mut out);
        assert_eq!(centre, 1.5);
        assert_eq!(out, [-127, 0, 32, 127]);
    }

    #[test]
    fn centring_makes_lopsided_activations_more_exact() {
        // Rows in [-0.1, 4]: about 0, half of the int8 steps would go unused.
        // Whole-number weights that reach ±127 in every row quantise
        // exactly, so all the error is the activations'.
        let (rows, k, n) = (16, 384, 32);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 14) % 255) as f32 - 127.0)
            .collect();
        let x: Vec<f32> = values(rows * k, 8)
            .iter()
            .map(|v| (v + 0.5) * 4.1 - 0.1)
            .collect();
        // One group: only the centring differs from the reference below.
        let layer = Int8Dense::quantise_for(Kernel::detect(), &w, vec![0.0; n], k);
        let centred_error = error(&layer, &w, &x);
        // The same products with activations quantised about 0.
        let mut symmetric_error = 0f32;
        for t in 0..rows {
            let row = &x[t * k..(t + 1) * k];
            let mut q = vec![0i8; k];
            let sx = quantise_row(row, &mut q);
            for o in 0..n {
                let wo = &w[o * k..(o + 1) * k];
                let approx: f32 = q.iter().zip(wo).map(|(&a, b)| a as f32 * sx * b).sum();
                let exact: f32 = row.iter().zip(wo).map(|(a, b)| a * b).sum();
                symmetric_error += (approx - exact).abs();
            }
        }
        assert!(
            centred_error < 0.75 * symmetric_error,
            "centred {centred_error} vs symmetric {symmetric_error}"
        );
    }

    /// Σ |y - exact| of `layer` on `x` against weights `w`.
    fn error(layer: &Int8Dense, w: &[f32], x: &[f32]) -> f32 {
        let (k, n) = (layer.inputs, layer.outputs());
        let mut got = vec![0f32; x.len() / k * n];
        layer.forward(x, &mut got);
        got.iter()
            .enumerate()
            .map(|(i, y)| {
                let (t, o) = (i / n, i % n);
                (y - (0..k).map(|j| x[t * k + j] * w[o * k + j]).sum::<f32>()).abs()
            })
            .sum()
    }

    #[test]
    fn groups_keep_one_large_channel_from_coarsening_the_whole_row() {
        // An FFN-like row: 1,536 inputs, one of them 20 times the rest.
        let (rows, k, n) = (8, 1536, 16);
        let w = values(n * k, 9);
        let mut x = values(rows * k, 10);
        for row in x.chunks_exact_mut(k) {
            row[700] = 10.0;
        }
        let b = vec![0.0; n];
        let whole = Int8Dense::quantise_for(Kernel::detect(), &w, b.clone(), k);
        let grouped = Int8Dense::quantise_for(Kernel::detect(), &w, b, GROUP_INPUTS);
        let (whole, grouped) = (error(&whole, &w, &x), error(&grouped, &w, &x));
        assert!(grouped < 0.5 * whole, "grouped {grouped} vs whole {whole}");
    }

    #[test]
    fn smoothing_keeps_the_product_and_tames_an_outlier_channel() {
        // A LayerNorm-like input: channel 5 reaches 30, the rest about 1.
        let (rows, k, n) = (8, 384, 24);
        let w = values(n * k, 11);
        let mut x: Vec<f32> = values(rows * k, 12).iter().map(|v| 2.0 * v).collect();
        for row in x.chunks_exact_mut(k) {
            row[5] = 30.0;
        }
        let mut input_max = vec![1.0; k];
        input_max[5] = 30.0;
        let b = vec![0.0; n];
        let plain = Int8Dense::quantise(&w, b.clone());
        let smoothed = Int8Dense::quantise_smoothed(&w, b, &input_max);
        let (plain, smoothed) = (error(&plain, &w, &x), error(&smoothed, &w, &x));
        assert!(
            smoothed < 0.75 * plain,
            "smoothed {smoothed} vs plain {plain}"
        );
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
