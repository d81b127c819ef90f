//! The AVX512-BF16 kernel (Intel since Cooper Lake, AMD since Zen 4).

use std::arch::x86_64::*;

use super::GROUP;
use crate::model::fused::packing::{self, OUTPUT_BLOCK};

/// Rows per tile.
const ROWS: usize = 4;

/// Blocks of 16 outputs per tile: 4 × 4 accumulators and 4 weight vectors
/// fit AVX-512's 32 registers with room to spare.
const BLOCKS: usize = 4;

/// sums[t, o] = Σ_k x[t, k] · w[o, k] in f32, for bf16 rows of `depth`
/// values and weights packed in pairs ([`super::packing`]): each step
/// broadcasts one pair of a row and `vdpbf16ps` multiplies it by the pair
/// of 16 outputs at once.
#[target_feature(enable = "avx512f,avx512bf16")]
pub unsafe fn products(x: &[u16], w: &[u16], depth: usize, sums: &mut [f32]) {
    let rows = x.len() / depth;
    let blocks = w.len() / depth / OUTPUT_BLOCK;
    packing::tiles(
        rows,
        blocks,
        (ROWS, BLOCKS),
        |full_rows, full_blocks, t, b| {
            // SAFETY: the caller's CPU has this function's features.
            unsafe {
                match (full_rows, full_blocks) {
                    (true, true) => tile::<ROWS, BLOCKS>(x, w, depth, t, b, sums),
                    (false, true) => tile::<1, BLOCKS>(x, w, depth, t, b, sums),
                    (true, false) => tile::<ROWS, 1>(x, w, depth, t, b, sums),
                    (false, false) => tile::<1, 1>(x, w, depth, t, b, sums),
                }
            }
        },
    );
}

/// Sums for rows t..t+R and output blocks b..b+C.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn tile<const R: usize, const C: usize>(
    x: &[u16],
    w: &[u16],
    depth: usize,
    t: usize,
    b: usize,
    sums: &mut [f32],
) {
    let groups = depth / GROUP;
    let width = w.len() / depth;
    debug_assert!((t + R) * depth <= x.len() && (b + C) * OUTPUT_BLOCK * depth <= w.len());
    debug_assert!((t + R) * width <= sums.len());
    let mut acc = [[_mm512_setzero_ps(); C]; R];
    let xp = x.as_ptr().add(t * depth);
    let wp = w.as_ptr().add(b * groups * OUTPUT_BLOCK * GROUP);
    for g in 0..groups {
        let mut wv = [_mm512_setzero_si512(); C];
        for (c, v) in wv.iter_mut().enumerate() {
            let at = (c * groups + g) * OUTPUT_BLOCK * GROUP;
            *v = _mm512_loadu_si512(wp.add(at) as *const __m512i);
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let pair = (xp.add(r * depth + g * GROUP) as *const i32).read_unaligned();
            let xv: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair));
            for (a, &wv) in acc.iter_mut().zip(&wv) {
                *a = _mm512_dpbf16_ps(*a, xv, std::mem::transmute::<__m512i, __m512bh>(wv));
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (c, &a) in acc.iter().enumerate() {
            let out = sums
                .as_mut_ptr()
                .add((t + r) * width + (b + c) * OUTPUT_BLOCK);
            _mm512_storeu_ps(out, a);
        }
    }
}
