//! The AVX2 kernel, for x86-64 CPUs without AVX-512 VNNI.

use std::arch::x86_64::*;

/// The depth of one step, in bytes.
const STEP: usize = 32;

/// Outputs per block: the block's weights stay in cache while the task's
/// rows go through them.
const OUTPUTS_PER_BLOCK: usize = 64;

/// What [`super::portable_products`] computes, in tiles of 2 rows × 4
/// outputs: each step multiplies 32 bytes of a row by 32 of a weight
/// row. `vpmaddubsw` needs one unsigned operand, so it takes |x| and
/// w with x's sign; both are in [-127, 127], so its pairwise i16 sums
/// (at most 2 · 127²) cannot saturate.
#[target_feature(enable = "avx2")]
pub unsafe fn products(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    let (rows, n) = (x.len() / depth, w.len() / depth);
    super::for_each_tile(rows, n, OUTPUTS_PER_BLOCK, |tr, oc, t, o| match (tr, oc) {
        (2, 4) => tile::<2, 4>(x, w, depth, n, t, o, sums),
        (1, 4) => tile::<1, 4>(x, w, depth, n, t, o, sums),
        (2, _) => tile::<2, 1>(x, w, depth, n, t, o, sums),
        _ => tile::<1, 1>(x, w, depth, n, t, o, sums),
    });
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
