//! The AVX-512 VNNI kernel (Intel since Cascade Lake, AMD since Zen 4).

use std::arch::x86_64::*;

use super::GROUP;
use crate::model::fused::packing::{self, OUTPUT_BLOCK};

/// Rows per tile.
const ROWS: usize = 4;

/// Blocks of 16 outputs per tile: 4 × 4 accumulators and 4 weight vectors
/// fit AVX-512's 32 registers with room to spare.
const BLOCKS: usize = 4;

/// What [`super::portable_products`] computes, with the weights packed
/// ([`super::Layout::Packed`]). `vpdpbusd` multiplies unsigned bytes by
/// signed ones, so each activation goes in as x + 128 (its sign bit
/// flipped), and `offsets` (128 · Σ_k w[o, k]) takes the excess back out.
/// Each lane sums at most 1536 · 255 · 127 < 2³¹, so nothing overflows.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn products(x: &[i8], w: &[i8], depth: usize, offsets: &[i32], sums: &mut [i32]) {
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
                    (true, true) => tile::<ROWS, BLOCKS>(x, w, depth, offsets, t, b, sums),
                    (false, true) => tile::<1, BLOCKS>(x, w, depth, offsets, t, b, sums),
                    (true, false) => tile::<ROWS, 1>(x, w, depth, offsets, t, b, sums),
                    (false, false) => tile::<1, 1>(x, w, depth, offsets, t, b, sums),
                }
            }
        },
    );
}

/// Sums for rows t..t+R and output blocks b..b+C.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile<const R: usize, const C: usize>(
    x: &[i8],
    w: &[i8],
    depth: usize,
    offsets: &[i32],
    t: usize,
    b: usize,
    sums: &mut [i32],
) {
    let groups = depth / GROUP;
    let width = offsets.len();
    debug_assert!((t + R) * depth <= x.len() && (b + C) * OUTPUT_BLOCK * depth <= w.len());
    debug_assert!((t + R) * width <= sums.len());
    let flip = _mm512_set1_epi8(-128);
    let mut acc = [[_mm512_setzero_si512(); C]; R];
    let xp = x.as_ptr().add(t * depth);
    let wp = w.as_ptr().add(b * groups * OUTPUT_BLOCK * GROUP);
    for g in 0..groups {
        let mut wv = [_mm512_setzero_si512(); C];
        for (c, v) in wv.iter_mut().enumerate() {
            let at = (c * groups + g) * OUTPUT_BLOCK * GROUP;
            *v = _mm512_loadu_si512(wp.add(at) as *const __m512i);
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let four = (xp.add(r * depth + g * GROUP) as *const i32).read_unaligned();
            let xv = _mm512_xor_si512(_mm512_set1_epi32(four), flip);
            for (a, &wv) in acc.iter_mut().zip(&wv) {
                *a = _mm512_dpbusd_epi32(*a, xv, wv);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (c, &a) in acc.iter().enumerate() {
            let o = (b + c) * OUTPUT_BLOCK;
            let offset = _mm512_loadu_si512(offsets.as_ptr().add(o) as *const __m512i);
            let out = sums.as_mut_ptr().add((t + r) * width + o);
            _mm512_storeu_si512(out as *mut __m512i, _mm512_sub_epi32(a, offset));
        }
    }
}
