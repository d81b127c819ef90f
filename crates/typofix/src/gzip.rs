//! Reading files and bytes that may be gzip-compressed, told apart by their
//! magic bytes rather than their names.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::Error;

const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads bytes in memory, decompressing them if they are gzip.
pub fn maybe_gzip_bytes(bytes: &[u8]) -> Box<dyn BufRead + '_> {
    if bytes.starts_with(&MAGIC) {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(bytes)))
    } else {
        Box::new(bytes)
    }
}

/// Opens a file, decompressing it if it is gzip (concatenated members too).
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn BufRead + Send>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&MAGIC) {
        let gz = flate2::read::MultiGzDecoder::new(reader);
        Ok(Box::new(BufReader::with_capacity(1 << 16, gz)))
    } else {
        Ok(Box::new(reader))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    #[test]
    fn compressed_and_plain_bytes_read_the_same() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"teh cat\n").unwrap();
        let compressed = gz.finish().unwrap();
        for bytes in [&compressed[..], b"teh cat\n"] {
            let mut text = String::new();
            maybe_gzip_bytes(bytes).read_to_string(&mut text).unwrap();
            assert_eq!(text, "teh cat\n");
        }
    }
}
