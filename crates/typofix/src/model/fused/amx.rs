//! Intel AMX (since Sapphire Rapids) on Linux: the tile matrix products of
//! the int8 and bf16 layers.
//!
//! Written in inline assembly: Rust's AMX intrinsics and feature detection
//! are not yet stable. The tile registers are used only here, so the
//! compiler never holds anything in them between the `asm!` blocks.

use std::arch::asm;
use std::sync::OnceLock;

use super::packing::OUTPUT_BLOCK;

/// Rows of one tile; callers pad activations to a multiple.
pub const TILE_ROWS: usize = 16;

/// Bytes of one tile row: 64 int8 or 32 bf16 depths of activations, 16
/// outputs' packed weights for 4 int8 or 2 bf16 depths, or 16 sums.
pub const TILE_BYTES: usize = 64;

/// The tile product instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `tdpbssd`: signed bytes, i32 sums (AMX-INT8).
    Int8,
    /// `tdpbf16ps`: bf16 pairs, f32 sums (AMX-BF16).
    Bf16,
}

/// Whether this CPU has AMX-TILE and `op`'s instruction, and Linux lets
/// this process use the tile registers (asked once).
pub fn usable(op: Op) -> bool {
    // CPUID leaf 7: EDX bit 24 is AMX-TILE, 25 AMX-INT8, 22 AMX-BF16.
    let edx = std::arch::x86_64::__cpuid_count(7, 0).edx;
    let bit = match op {
        Op::Int8 => 25,
        Op::Bf16 => 22,
    };
    edx & (1 << 24) != 0 && edx & (1 << bit) != 0 && permitted()
}

/// Linux hands out the 8 KiB of tile state only on request
/// (ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA), and refuses it on a kernel
/// or VM without support.
fn permitted() -> bool {
    static PERMITTED: OnceLock<bool> = OnceLock::new();
    *PERMITTED.get_or_init(|| {
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: this request only changes the process's permissions; it
        // reads and writes no memory of ours.
        let status = unsafe {
            libc::syscall(
                libc::SYS_arch_prctl,
                ARCH_REQ_XCOMP_PERM,
                XFEATURE_XTILEDATA,
            )
        };
        status == 0
    })
}

/// sums[t, o] = Σ_k x[t, k] · w[o, k] in i32, for int8 rows of `depth`
/// bytes (a multiple of 64), `x`'s rows a multiple of 16, and `w` packed
/// in groups of 4 ([`super::packing`]).
///
/// # Safety
/// `usable(Op::Int8)` must have returned true.
pub unsafe fn products_int8(x: &[i8], w: &[i8], depth: usize, sums: &mut [i32]) {
    products(
        Op::Int8,
        x.as_ptr().cast(),
        x.len(),
        w.as_ptr().cast(),
        w.len(),
        depth,
        sums.as_mut_ptr().cast(),
        sums.len(),
    );
}

/// The same in f32 for bf16 rows of `depth` values (a multiple of 32),
/// `w` packed in pairs.
///
/// # Safety
/// `usable(Op::Bf16)` must have returned true.
pub unsafe fn products_bf16(x: &[u16], w: &[u16], depth: usize, sums: &mut [f32]) {
    products(
        Op::Bf16,
        x.as_ptr().cast(),
        2 * x.len(),
        w.as_ptr().cast(),
        2 * w.len(),
        2 * depth,
        sums.as_mut_ptr().cast(),
        sums.len(),
    );
}

/// AMX's tile configuration (palette 1): each tile's rows and bytes per row.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

/// One tile product, `tdpbssd` or `tdpbf16ps`, on named tiles.
macro_rules! tile_product {
    ($op:expr, $tiles:literal) => {
        match $op {
            Op::Int8 => asm!(concat!("tdpbssd ", $tiles), options(nostack, nomem)),
            Op::Bf16 => asm!(concat!("tdpbf16ps ", $tiles), options(nostack, nomem)),
        }
    };
}

/// Four tiles of sums (tmm0–3) cover 2 × 16 rows by 2 × 16 outputs; for
/// each 64 bytes of depth, two tiles of activations (tmm4–5) and two of
/// weights (tmm6–7) load, and `op` adds their products into the sums.
/// Lengths are in bytes, except `sums_len` (4-byte sums).
#[allow(clippy::too_many_arguments)]
unsafe fn products(
    op: Op,
    x: *const u8,
    x_len: usize,
    w: *const u8,
    w_len: usize,
    depth: usize,
    sums: *mut u8,
    sums_len: usize,
) {
    let (rows, width) = (x_len / depth, w_len / depth);
    assert!(rows % TILE_ROWS == 0 && width % OUTPUT_BLOCK == 0 && depth.is_multiple_of(TILE_BYTES));
    assert_eq!(sums_len, rows * width);
    let (row_tiles, blocks, chunks) = (rows / TILE_ROWS, width / OUTPUT_BLOCK, depth / TILE_BYTES);
    let mut config = TileConfig {
        palette: 1,
        start_row: 0,
        reserved: [0; 14],
        bytes_per_row: [TILE_BYTES as u16; 16],
        rows: [TILE_ROWS as u8; 16],
    };
    config.bytes_per_row[8..].fill(0);
    config.rows[8..].fill(0);
    asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, readonly));
    // Row strides in bytes; a block of weights is 16 outputs' whole depth,
    // and its tile for one chunk is 16 rows of 64 bytes.
    let (x_stride, w_stride, sum_stride) = (depth, TILE_BYTES, 4 * width);
    let (block_bytes, chunk_bytes) = (OUTPUT_BLOCK * depth, TILE_ROWS * TILE_BYTES);
    let mut rt = 0;
    while rt < row_tiles {
        let two_rows = rt + 1 < row_tiles;
        let x0 = x.add(rt * TILE_ROWS * depth);
        let x1 = x0.add(TILE_ROWS * depth);
        let mut b = 0;
        while b < blocks {
            let two_blocks = b + 1 < blocks;
            let w0 = w.add(b * block_bytes);
            let w1 = w0.add(block_bytes);
            asm!(
                "tilezero tmm0",
                "tilezero tmm1",
                "tilezero tmm2",
                "tilezero tmm3",
                options(nostack, nomem)
            );
            for c in 0..chunks {
                let (xa, wa) = (c * TILE_BYTES, c * chunk_bytes);
                asm!("tileloadd tmm4, [{p} + {s}*1]", p = in(reg) x0.add(xa), s = in(reg) x_stride, options(nostack, readonly));
                asm!("tileloadd tmm6, [{p} + {s}*1]", p = in(reg) w0.add(wa), s = in(reg) w_stride, options(nostack, readonly));
                tile_product!(op, "tmm0, tmm4, tmm6");
                if two_blocks {
                    asm!("tileloadd tmm7, [{p} + {s}*1]", p = in(reg) w1.add(wa), s = in(reg) w_stride, options(nostack, readonly));
                    tile_product!(op, "tmm1, tmm4, tmm7");
                }
                if two_rows {
                    asm!("tileloadd tmm5, [{p} + {s}*1]", p = in(reg) x1.add(xa), s = in(reg) x_stride, options(nostack, readonly));
                    tile_product!(op, "tmm2, tmm5, tmm6");
                    if two_blocks {
                        tile_product!(op, "tmm3, tmm5, tmm7");
                    }
                }
            }
            let s0 = sums.add(4 * (rt * TILE_ROWS * width + b * OUTPUT_BLOCK));
            let s1 = s0.add(TILE_ROWS * sum_stride);
            let right = 4 * OUTPUT_BLOCK;
            asm!("tilestored [{p} + {s}*1], tmm0", p = in(reg) s0, s = in(reg) sum_stride, options(nostack));
            if two_blocks {
                asm!("tilestored [{p} + {s}*1], tmm1", p = in(reg) s0.add(right), s = in(reg) sum_stride, options(nostack));
            }
            if two_rows {
                asm!("tilestored [{p} + {s}*1], tmm2", p = in(reg) s1, s = in(reg) sum_stride, options(nostack));
                if two_blocks {
                    asm!("tilestored [{p} + {s}*1], tmm3", p = in(reg) s1.add(right), s = in(reg) sum_stride, options(nostack));
                }
            }
            b += if two_blocks { 2 } else { 1 };
        }
        rt += if two_rows { 2 } else { 1 };
    }
    asm!("tilerelease", options(nostack, nomem));
}
