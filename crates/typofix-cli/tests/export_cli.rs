//! `typofix export …` end to end on the shared tiny DistilBERT fixture. The
//! packages are read back here with our own protobuf types; CI also checks
//! them with coremltools (scripts/check-coreml.sh).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use prost::Message;
use typofix_export::coreml::proto::{self, value, DataType};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/tiny-distilbert")
}

fn typofix() -> Command {
    Command::cargo_bin("typofix").unwrap()
}

fn export_coreml(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    typofix()
        .args(["export", "coreml", "--model"])
        .arg(fixture())
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

fn read_model(pkg: &Path) -> proto::Model {
    let bytes = std::fs::read(pkg.join("Data/com.apple.CoreML/model.mlmodel")).unwrap();
    proto::Model::decode(bytes.as_slice()).unwrap()
}

fn shape(t: &proto::ValueType) -> (i32, Vec<u64>) {
    let t = t.tensor_type.as_ref().unwrap();
    (
        t.data_type,
        t.dimensions
            .iter()
            .map(|d| d.constant.as_ref().unwrap().size)
            .collect(),
    )
}

#[test]
fn a_package_has_the_manifest_signature_metadata_and_program_core_ml_expects() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("tiny.mlpackage");
    export_coreml(&pkg, &[]).success();

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pkg.join("Manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["fileFormatVersion"], "1.0.0");
    let root = manifest["rootModelIdentifier"].as_str().unwrap();
    assert_eq!(
        manifest["itemInfoEntries"][root]["path"],
        "com.apple.CoreML/model.mlmodel"
    );
    assert_eq!(manifest["itemInfoEntries"].as_object().unwrap().len(), 2);

    let model = read_model(&pkg);
    assert_eq!(model.specification_version, 7);
    let description = model.description.as_ref().unwrap();
    let features = |fs: &[proto::FeatureDescription]| -> Vec<(String, Vec<i64>, i32)> {
        fs.iter()
            .map(|f| {
                let a = f
                    .r#type
                    .as_ref()
                    .unwrap()
                    .multi_array_type
                    .as_ref()
                    .unwrap();
                (f.name.clone(), a.shape.clone(), a.data_type)
            })
            .collect()
    };
    let int32 = proto::ArrayDataType::Int32 as i32;
    assert_eq!(
        features(&description.input),
        vec![
            ("input_ids".into(), vec![1, 128], int32),
            ("attention_mask".into(), vec![1, 128], int32)
        ]
    );
    assert_eq!(
        features(&description.output),
        vec![(
            "logits".into(),
            vec![1, 1000, 1, 128],
            proto::ArrayDataType::Float16 as i32
        )]
    );
    let metadata = description.metadata.as_ref().unwrap();
    for field in [
        &metadata.author,
        &metadata.license,
        &metadata.version_string,
        &metadata.short_description,
    ] {
        assert!(!field.is_empty());
    }
    let config: serde_json::Value =
        serde_json::from_str(&metadata.user_defined["typofix.config"]).unwrap();
    assert_eq!(
        (config["dim"].as_u64(), config["n_layers"].as_u64()),
        (Some(64), Some(2))
    );

    let program = model.ml_program.as_ref().unwrap();
    assert_eq!(program.version, 1);
    let main = &program.functions["main"];
    assert_eq!(main.opset, "CoreML6");
    let block = &main.block_specializations["CoreML6"];
    assert_eq!(block.outputs, vec!["logits".to_string()]);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for op in &block.operations {
        *counts.entry(op.r#type.as_str()).or_default() += 1;
    }
    // 2 blocks × 6 Linear + the head's 2; 2 × 4 heads × 2 contractions;
    // embeddings + 2 per block + the head's LayerNorm.
    assert_eq!(counts["conv"], 14);
    assert_eq!(counts["einsum"], 16);
    assert_eq!(counts["softmax"], 8);
    assert_eq!(counts["layer_norm"], 6);
    assert_eq!(counts["gelu"], 3);
    assert_eq!(counts["gather"], 1);
}

#[test]
fn every_weight_is_an_fp16_blob_in_weight_bin_where_its_reference_points() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("tiny.mlpackage");
    export_coreml(&pkg, &["--precision", "fp16"]).success();
    let weights = std::fs::read(pkg.join("Data/com.apple.CoreML/weights/weight.bin")).unwrap();
    let u64_at = |at: usize| u64::from_le_bytes(weights[at..at + 8].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(weights[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(4), 2, "storage version 2");

    let model = read_model(&pkg);
    let block = &model.ml_program.unwrap().functions["main"].block_specializations["CoreML6"];
    let mut blobs = 0;
    for op in block.operations.iter().filter(|op| op.r#type == "const") {
        let val = &op.attributes["val"];
        let (dtype, dims) = shape(val.r#type.as_ref().unwrap());
        let elements: u64 = dims.iter().product();
        match val.value.as_ref().unwrap() {
            value::Value::BlobFileValue(blob) => {
                blobs += 1;
                assert_eq!(blob.file_name, "@model_path/weights/weight.bin");
                let at = blob.offset as usize;
                assert_eq!(at % 64, 0);
                assert_eq!(u32_at(at), 0xDEAD_BEEF);
                assert_eq!(u32_at(at + 4), 1, "blob type Float16");
                assert_eq!(dtype, DataType::Float16 as i32);
                assert_eq!(u64_at(at + 8), elements * 2);
                assert_eq!(u64_at(at + 16), blob.offset + 64);
            }
            value::Value::ImmediateValue(_) => assert!(elements < 10, "{}", op.outputs[0].name),
        }
    }
    // Word and position embeddings, 14 conv weights and biases, 6 × 2
    // LayerNorm parameters.
    assert_eq!(blobs, 2 + 28 + 12);
    assert_eq!(u32_at(0), blobs);
}

#[test]
fn exports_are_byte_for_byte_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        dir.path().join("a.mlpackage"),
        dir.path().join("b.mlpackage"),
    );
    export_coreml(&a, &["--precision", "fp32", "--seq-len", "32"]).success();
    export_coreml(&b, &["--precision", "fp32", "--seq-len", "32"]).success();
    for file in [
        "Manifest.json",
        "Data/com.apple.CoreML/model.mlmodel",
        "Data/com.apple.CoreML/weights/weight.bin",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    let output = &read_model(&a).description.unwrap().output[0];
    let array = output
        .r#type
        .as_ref()
        .unwrap()
        .multi_array_type
        .as_ref()
        .unwrap();
    assert_eq!(array.shape, vec![1, 1000, 1, 32]);
    assert_eq!(array.data_type, proto::ArrayDataType::Float32 as i32);
}

/// Nothing but what the test made itself: no package, no staging directory.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bad_requests_are_clear_errors_that_leave_no_partial_package() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("tiny.mlpackage");
    export_coreml(&pkg, &["--seq-len", "129"])
        .code(2)
        .stderr(predicate::str::contains("1 to 128"));
    export_coreml(&dir.path().join("tiny.zip"), &[])
        .code(2)
        .stderr(predicate::str::contains(".mlpackage"));
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));

    let bert = dir.path().join("bert");
    std::fs::create_dir(&bert).unwrap();
    std::fs::copy(
        fixture().join("model.safetensors"),
        bert.join("model.safetensors"),
    )
    .unwrap();
    let config = std::fs::read_to_string(fixture().join("config.json")).unwrap();
    std::fs::write(
        bert.join("config.json"),
        config.replace("\"distilbert\"", "\"bert\""),
    )
    .unwrap();
    typofix()
        .args(["export", "coreml", "--model"])
        .arg(&bert)
        .arg("--out")
        .arg(&pkg)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("DistilBERT"));
    assert_eq!(entries(dir.path()), vec!["bert"]);
}

#[test]
fn an_existing_package_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("tiny.mlpackage");
    export_coreml(&pkg, &["--seq-len", "16"]).success();
    export_coreml(&pkg, &["--seq-len", "32"])
        .code(2)
        .stderr(predicate::str::contains("--force"));
    let seq = |pkg: &Path| read_model(pkg).description.unwrap().input[0].clone();
    let dims = |f: proto::FeatureDescription| f.r#type.unwrap().multi_array_type.unwrap().shape;
    assert_eq!(dims(seq(&pkg)), vec![1, 16], "untouched without --force");
    export_coreml(&pkg, &["--seq-len", "32", "--force"]).success();
    assert_eq!(dims(seq(&pkg)), vec![1, 32]);
    assert_eq!(entries(dir.path()), vec!["tiny.mlpackage"]);
}

#[test]
fn the_ane_export_reports_its_conversion_and_exports_again_from_its_own_layout() {
    let dir = tempfile::tempdir().unwrap();
    let ane = dir.path().join("ane");
    let out = typofix()
        .args(["export", "ane", "--json", "--model"])
        .arg(fixture())
        .arg("--out")
        .arg(&ane)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let layout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(layout["conv2d"].as_array().unwrap().len(), 14);
    assert_eq!(layout["layer_norm_order"], "bias-before-scale");
    for file in ["ane.json", "config.json", "model.safetensors"] {
        assert!(ane.join(file).is_file(), "{file}");
    }

    // From the ANE layout to Core ML, and back to Hugging Face's layout.
    let pkg = dir.path().join("from-ane.mlpackage");
    typofix()
        .args(["export", "coreml", "--model"])
        .arg(&ane)
        .arg("--out")
        .arg(&pkg)
        .assert()
        .success();
    assert_eq!(read_model(&pkg).specification_version, 7);
    let hf = dir.path().join("hf");
    typofix()
        .args(["export", "safetensors", "--model"])
        .arg(&ane)
        .arg("--out")
        .arg(&hf)
        .assert()
        .success();
    typofix()
        .args(["model", "info", "--model"])
        .arg(&hf)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 layers, dim 64"));
}
