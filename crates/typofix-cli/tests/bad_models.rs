//! Damaged models, from the CLI, the server and the language server: a
//! truncated, bit-flipped, wrong-dtype or wrong-shape `model.safetensors`
//! is refused at start-up with an error that names the file and says what
//! is wrong, and exit code 2, never a panic and never a request that fails
//! later.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../typofix/model")
}

/// A copy of the shipped model with its weights replaced by `weights`;
/// with its checksums or without.
fn package(weights: &[u8], with_checksums: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(shipped()).unwrap() {
        let name = entry.unwrap().file_name();
        if name == "SHA256SUMS" && !with_checksums {
            continue;
        }
        std::fs::copy(shipped().join(&name), dir.path().join(&name)).unwrap();
    }
    std::fs::write(dir.path().join("model.safetensors"), weights).unwrap();
    dir
}

fn weights() -> Vec<u8> {
    std::fs::read(shipped().join("model.safetensors")).unwrap()
}

/// The safetensors header (its JSON) and where the data starts.
fn header(bytes: &[u8]) -> (Value, usize) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (serde_json::from_slice(&bytes[8..8 + n]).unwrap(), 8 + n)
}

/// `bytes` with its header edited by `edit`; the data is unchanged.
fn with_header(bytes: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let (mut json, data) = header(bytes);
    edit(&mut json);
    let mut text = serde_json::to_string(&json).unwrap();
    while text.len() % 8 != 0 {
        text.push(' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[data..]);
    out
}

fn fix_with(model: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["fix", "--model"])
        .arg(model)
        .arg("teh cat")
        .output()
        .unwrap()
}

fn serve_with(model: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["serve", "--addr", "127.0.0.1:0", "--model"])
        .arg(model)
        .output()
        .unwrap()
}

/// The language server, with no editor on its stdin: a good model would
/// wait for the handshake, then end when stdin closes.
fn lsp_with(model: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_typofix"))
        .args(["lsp", "--model"])
        .arg(model)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Every front refuses the model at start-up, saying `reason`.
fn refused(model: &Path, reason: &str) {
    let fronts = [
        ("fix", fix_with(model)),
        ("serve", serve_with(model)),
        ("lsp", lsp_with(model)),
    ];
    for (front, out) in fronts {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{front}: {stderr}");
        assert!(stderr.contains("model.safetensors"), "{front}: {stderr}");
        assert!(stderr.contains(reason), "{front}: {stderr}");
        assert!(!stderr.contains("panicked"), "{front}: {stderr}");
    }
}

#[test]
fn a_truncated_model_is_refused() {
    let w = weights();
    let model = package(&w[..w.len() - 4096], false);
    refused(model.path(), "truncated or corrupt");
}

#[test]
fn a_bit_flip_is_caught_by_the_checksums() {
    let mut w = weights();
    let (_, data) = header(&w);
    // One bit of one weight: nothing but the checksum can tell.
    w[data + 1000] ^= 0x01;
    let model = package(&w, true);
    refused(model.path(), "does not match its checksum");
}

#[test]
fn a_bit_flip_to_infinity_is_caught_without_checksums() {
    let mut w = weights();
    let (json, data) = header(&w);
    // The exponent bits of the first fp16 weight of some tensor.
    let begin = json
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, t)| *name != "__metadata__" && t["dtype"] == "F16")
        .map(|(_, t)| t["data_offsets"][0].as_u64().unwrap() as usize)
        .expect("an fp16 tensor");
    w[data + begin + 1] |= 0x7c;
    let model = package(&w, false);
    refused(model.path(), "NaN or infinite");
}

#[test]
fn weights_of_a_type_typofix_does_not_read_are_refused() {
    let w = with_header(&weights(), |json| {
        let t = &mut json["distilbert.embeddings.LayerNorm.weight"];
        let same_size = match t["dtype"].as_str().unwrap() {
            "F16" | "BF16" => "I16",
            _ => "I32",
        };
        t["dtype"] = same_size.into();
    });
    let model = package(&w, false);
    refused(model.path(), "typofix reads f32, f16 or bf16 weights");
}

#[test]
fn weights_of_the_wrong_shape_are_refused() {
    let w = with_header(&weights(), |json| {
        let t = &mut json["distilbert.transformer.layer.0.ffn.lin1.weight"];
        let mut shape = t["shape"].as_array().unwrap().clone();
        shape.reverse();
        t["shape"] = shape.into();
    });
    let model = package(&w, false);
    refused(model.path(), "has shape");
}

#[test]
fn the_shipped_model_matches_its_checksums() {
    let out = Command::new("sha256sum")
        .args(["--check", "--quiet", "SHA256SUMS"])
        .current_dir(shipped())
        .output();
    match out {
        Ok(out) => assert!(out.status.success(), "{out:?}"),
        Err(e) => eprintln!("skipped the sha256sum cross-check: {e}"),
    }
    // And typofix's own check accepts the shipped directory.
    let out = fix_with(&shipped());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "the cat\n");
}
