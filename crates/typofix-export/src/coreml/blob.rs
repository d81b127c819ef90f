//! `weights/weight.bin`: Core ML's MIL blob storage, version 2.
//!
//! A 64-byte header (blob count, version), then for each blob a 64-byte
//! metadata record and its data, every record at a 64-byte boundary
//! (`../shared/docs/coreml-format.md` §3.4). All little-endian.

/// `BlobDataType` codes of the element types we store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum BlobType {
    Float16 = 1,
    Float32 = 2,
}

const ALIGNMENT: usize = 64;
const HEADER: usize = 64;
const METADATA: usize = 64;
const SENTINEL: u32 = 0xDEAD_BEEF;
const VERSION: u32 = 2;

/// An in-memory `weight.bin`.
#[derive(Debug, Clone)]
pub struct BlobWriter {
    bytes: Vec<u8>,
    count: u32,
}

impl Default for BlobWriter {
    fn default() -> Self {
        BlobWriter::new()
    }
}

impl BlobWriter {
    pub fn new() -> BlobWriter {
        let mut writer = BlobWriter {
            bytes: vec![0; HEADER],
            count: 0,
        };
        writer.write_header();
        writer
    }

    /// Appends a blob of raw little-endian `data`; returns the offset of its
    /// metadata record, which is what a `BlobFileValue` points at.
    pub fn append(&mut self, kind: BlobType, data: &[u8]) -> u64 {
        let metadata = self.bytes.len().next_multiple_of(ALIGNMENT);
        self.bytes.resize(metadata, 0);
        let data_offset = metadata + METADATA;
        let mut record = [0u8; METADATA];
        record[0..4].copy_from_slice(&SENTINEL.to_le_bytes());
        record[4..8].copy_from_slice(&(kind as u32).to_le_bytes());
        record[8..16].copy_from_slice(&(data.len() as u64).to_le_bytes());
        record[16..24].copy_from_slice(&(data_offset as u64).to_le_bytes());
        // padding_size_in_bits (sub-byte types only) and reserved: zero.
        self.bytes.extend_from_slice(&record);
        self.bytes.extend_from_slice(data);
        self.count += 1;
        self.write_header();
        metadata as u64
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn write_header(&mut self) {
        self.bytes[0..4].copy_from_slice(&self.count.to_le_bytes());
        self.bytes[4..8].copy_from_slice(&VERSION.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn blobs_are_64_byte_aligned_records_after_a_counted_header() {
        let mut w = BlobWriter::new();
        let first = w.append(BlobType::Float16, &[1; 10]);
        let second = w.append(BlobType::Float32, &[2; 8]);
        let bytes = w.into_bytes();
        assert_eq!((u32_at(&bytes, 0), u32_at(&bytes, 4)), (2, 2));
        assert_eq!((first, second), (64, 192));
        for (meta, kind, size) in [(64, 1, 10), (192, 2, 8)] {
            assert_eq!(u32_at(&bytes, meta), 0xDEAD_BEEF);
            assert_eq!(u32_at(&bytes, meta + 4), kind);
            assert_eq!(u64_at(&bytes, meta + 8), size);
            assert_eq!(u64_at(&bytes, meta + 16), meta as u64 + 64);
        }
        assert_eq!(&bytes[128..138], &[1; 10]);
        assert!(bytes[138..192].iter().all(|&b| b == 0), "zero padding");
        // No padding after the last blob.
        assert_eq!(bytes.len(), 192 + 64 + 8);
    }
}
