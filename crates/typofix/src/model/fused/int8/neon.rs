//! The aarch64 kernels: plain NEON, which every aarch64 CPU has, and
//! `sdot` (FEAT_DotProd: Apple M1 and later, Cortex-A76 and later,
//! Graviton 2 and later), which sums four byte products into each i32
//! lane in one instruction.
//!
//! Neither can be timed on the x86-64 machines typofix is developed on;
//! the tests run them under qemu-user (`scripts/test-aarch64.sh`), against
//! the portable kernel's exact sums.

use std::arch::aarch64::*;
use std::arch::asm;

/// The depth of one step, in bytes: one 128-bit register.
const STEP: usize = 16;

/// Outputs per block: the block's weights stay in cache while the task's
/// rows go through them.
const OUTPUTS_PER_BLOCK: usize = 64;

/// What [`super::portable_products`] computes, with `sdot`.
///
/// # Safety
/// The CPU must have NEON and FEAT_DotProd; every row of `x` and `w` is
/// `depth` bytes, a multiple of 16.
#[target_feature(enable = "neon,dotprod")]
pub unsafe fn products_dotprod(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    // SAFETY: as the caller promised.
    unsafe { products::<true>(x, w, depth, sums) }
}

/// What [`super::portable_products`] computes, with NEON's widening
/// multiplies: `smull` and `smlal2` give the sum of two byte products in
/// each i16 lane, which cannot overflow (both bytes are in [-127, 127], so
/// at most 2 · 127² = 32,258), and `sadalp` adds pairs of them into i32.
///
/// # Safety
/// The CPU must have NEON; every row of `x` and `w` is `depth` bytes, a
/// multiple of 16.
#[target_feature(enable = "neon")]
pub unsafe fn products_neon(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    // SAFETY: as the caller promised.
    unsafe { products::<false>(x, w, depth, sums) }
}

/// Both kernels, in tiles of 2 rows × 4 outputs; `DOT` picks the step.
/// Always inlined, so that each kernel's code is compiled with its own
/// target features, and plain NEON's never with `sdot`.
#[inline(always)]
unsafe fn products<const DOT: bool>(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    let (rows, n) = (x.len() / depth, w.len() / depth);
    super::for_each_tile(rows, n, OUTPUTS_PER_BLOCK, |tr, oc, t, o| {
        // SAFETY: the tile's rows and outputs lie inside `x`, `w` and
        // `sums`.
        unsafe {
            match (tr, oc) {
                (2, 4) => tile::<DOT, 2, 4>(x, w, depth, n, t, o, sums),
                (1, 4) => tile::<DOT, 1, 4>(x, w, depth, n, t, o, sums),
                (2, _) => tile::<DOT, 2, 1>(x, w, depth, n, t, o, sums),
                _ => tile::<DOT, 1, 1>(x, w, depth, n, t, o, sums),
            }
        }
    });
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const DOT: bool, const R: usize, const C: usize>(
    x: &[i8],
    w: &[i8],
    depth: usize,
    n: usize,
    t: usize,
    o: usize,
    sums: &mut [i32],
) {
    debug_assert!((t + R) * depth <= x.len() && (o + C) * depth <= w.len());
    // SAFETY: every load reads 16 bytes of a row of `depth` bytes, at an
    // offset below `depth` (a multiple of 16), of rows inside the slices.
    unsafe {
        let mut acc = [[vdupq_n_s32(0); C]; R];
        let xp = x.as_ptr().add(t * depth);
        let wp = w.as_ptr().add(o * depth);
        let mut k = 0;
        while k < depth {
            let mut wv = [vdupq_n_s8(0); C];
            for (c, v) in wv.iter_mut().enumerate() {
                *v = vld1q_s8(wp.add(c * depth + k));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let xv = vld1q_s8(xp.add(r * depth + k));
                for (a, &wv) in acc.iter_mut().zip(&wv) {
                    *a = if DOT {
                        sdot(*a, xv, wv)
                    } else {
                        widening_dot(*a, xv, wv)
                    };
                }
            }
            k += STEP;
        }
        for (r, acc) in acc.iter().enumerate() {
            for (c, &a) in acc.iter().enumerate() {
                sums[(t + r) * n + o + c] = vaddvq_s32(a);
            }
        }
    }
}

/// acc[i] += Σ_{j<4} x[4i + j] · w[4i + j]. Inline assembly because the
/// `vdotq_s32` intrinsic is not yet stable in Rust.
#[inline(always)]
unsafe fn sdot(acc: int32x4_t, x: int8x16_t, w: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: only reached from `products_dotprod`, on a CPU with
    // FEAT_DotProd; it touches registers only.
    unsafe {
        asm!(
            "sdot {acc:v}.4s, {x:v}.16b, {w:v}.16b",
            acc = inout(vreg) acc,
            x = in(vreg) x,
            w = in(vreg) w,
            options(pure, nomem, nostack),
        );
    }
    acc
}

/// acc[i] gains four of the sixteen byte products (not the same four as
/// `sdot`'s, which the sum over lanes does not mind).
#[inline(always)]
unsafe fn widening_dot(acc: int32x4_t, x: int8x16_t, w: int8x16_t) -> int32x4_t {
    // SAFETY: NEON only, on registers.
    unsafe {
        let low = vmull_s8(vget_low_s8(x), vget_low_s8(w));
        vpadalq_s16(acc, vmlal_high_s8(low, x, w))
    }
}
