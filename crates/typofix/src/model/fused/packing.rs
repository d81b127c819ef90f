//! The packed weight layout of the int8 and bf16 kernels (AVX-512 and
//! AMX): blocks of 16 outputs; in each, groups of depths; in each group,
//! 16 outputs × one group of weights, 32 bits each (4 int8 or 2 bf16).
//!
//! One group of a block is one 512-bit vector, which `vpdpbusd` and
//! `vdpbf16ps` multiply by one broadcast group of activations, and 16
//! groups are one AMX tile of weights. Outputs are padded with zeros to a
//! whole block.

/// Outputs per block: one 512-bit vector of 32-bit sums.
pub const OUTPUT_BLOCK: usize = 16;

/// Row-major (outputs × depth) weights, packed with `group` depths per
/// group (`depth` a multiple of it); returns them and the padded outputs.
pub fn pack<T: Copy + Default>(rows: &[T], depth: usize, group: usize) -> (Vec<T>, usize) {
    let outputs = rows.len() / depth;
    let width = outputs.next_multiple_of(OUTPUT_BLOCK);
    let groups = depth / group;
    let mut packed = vec![T::default(); width * depth];
    for (o, row) in rows.chunks_exact(depth).enumerate() {
        let (block, lane) = (o / OUTPUT_BLOCK, o % OUTPUT_BLOCK);
        for (g, weights) in row.chunks_exact(group).enumerate() {
            let at = ((block * groups + g) * OUTPUT_BLOCK + lane) * group;
            packed[at..at + group].copy_from_slice(weights);
        }
    }
    (packed, width)
}

/// Output `o`'s weights, read back from the packed layout.
pub fn output<T: Copy>(
    packed: &[T],
    depth: usize,
    group: usize,
    o: usize,
) -> impl Iterator<Item = T> + '_ {
    let (block, lane) = (o / OUTPUT_BLOCK, o % OUTPUT_BLOCK);
    let groups = depth / group;
    (0..groups).flat_map(move |g| {
        let at = ((block * groups + g) * OUTPUT_BLOCK + lane) * group;
        packed[at..at + group].iter().copied()
    })
}

/// Walks a product of `rows` rows by `blocks` blocks of outputs in tiles
/// of `r` rows × `c` blocks, calling `tile(full_rows, full_blocks, t, b)`
/// for the tile at row `t` and block `b`; where fewer are left, the tiles
/// are one row or one block (`full_rows` or `full_blocks` false).
pub fn tiles(
    rows: usize,
    blocks: usize,
    (r, c): (usize, usize),
    mut tile: impl FnMut(bool, bool, usize, usize),
) {
    let mut b = 0;
    while b < blocks {
        let full_blocks = blocks - b >= c;
        let mut t = 0;
        while t < rows {
            let full_rows = rows - t >= r;
            tile(full_rows, full_blocks, t, b);
            t += if full_rows { r } else { 1 };
        }
        b += if full_blocks { c } else { 1 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_every_weight_of_every_output_and_pads_with_zeros() {
        let depth = 128;
        let rows: Vec<i8> = (0..20 * depth).map(|i| (i % 251) as i8).collect();
        for group in [2, 4] {
            let (packed, width) = pack(&rows, depth, group);
            assert_eq!(width, 32);
            for o in 0..20 {
                let got: Vec<i8> = output(&packed, depth, group, o).collect();
                assert_eq!(got, rows[o * depth..(o + 1) * depth], "output {o}");
            }
            assert!(output(&packed, depth, group, 20).all(|w| w == 0));
        }
    }

    #[test]
    fn tiles_cover_every_row_and_block_once() {
        let (rows, blocks) = (11, 6);
        let mut seen = vec![0; rows * blocks];
        tiles(rows, blocks, (4, 4), |full_rows, full_blocks, t, b| {
            let (r, c) = (
                if full_rows { 4 } else { 1 },
                if full_blocks { 4 } else { 1 },
            );
            for row in t..t + r {
                for block in b..b + c {
                    seen[row * blocks + block] += 1;
                }
            }
        });
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    }
}
