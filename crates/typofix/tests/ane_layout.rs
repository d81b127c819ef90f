//! The ANE layout: converting a checkpoint to BC1S form, and running that
//! form on CPU, against Hugging Face's outputs for the tiny checkpoint.

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use typofix::model::{AneCheckpoint, Checkpoint, Config, ANE_LAYOUT_FILE};

use common::{fixture, max_abs_diff, reference};

fn tiny() -> Checkpoint {
    Checkpoint::load(&fixture(), &Device::Cpu).unwrap()
}

/// (B, V, 1, S) → (B, S, V), the reference's layout.
fn from_bc1s(t: &Tensor) -> Tensor {
    t.squeeze(2).unwrap().transpose(1, 2).unwrap()
}

#[test]
fn the_ane_form_gives_transformers_logits_within_1e4_on_every_row_padding_included() {
    let reference = reference();
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let model = AneCheckpoint::from_standard(&tiny())
        .unwrap()
        .model()
        .unwrap();

    let hidden = model.encode(ids, mask).unwrap();
    assert_eq!(hidden.dims(), &[3, 64, 1, 128], "BC1S");
    let logits = model.forward(ids, mask).unwrap();
    assert_eq!(logits.dims(), &[3, 1000, 1, 128], "BC1S");
    for (name, ours) in [("last_hidden", &hidden), ("logits", &logits)] {
        let diff = max_abs_diff(&from_bc1s(ours), &reference[name]);
        eprintln!("ANE form, {name}: max abs diff {diff:.2e}");
        assert!(diff <= 1e-4, "{name}: max abs diff {diff}");
    }
}

#[test]
fn every_linear_becomes_a_1x1_conv_including_the_heads_two() {
    let ane = AneCheckpoint::from_standard(&tiny()).unwrap();
    // Six per block, plus vocab_transform and vocab_projector.
    assert_eq!(ane.layout.conv2d.len(), 6 * 2 + 2);
    for name in &ane.layout.conv2d {
        assert_eq!(ane.tensors[name].rank(), 4, "{name}");
        assert_eq!(&ane.tensors[name].dims()[2..], &[1, 1], "{name}");
    }
    assert!(ane
        .layout
        .conv2d
        .iter()
        .any(|n| n == "vocab_transform.weight"));
    assert!(ane
        .layout
        .conv2d
        .iter()
        .any(|n| n == "vocab_projector.weight"));

    let mut six_layers = tiny().config;
    six_layers.n_layers = 6;
    let six = AneCheckpoint::from_standard(&random_checkpoint(&six_layers)).unwrap();
    assert_eq!(six.layout.conv2d.len(), 38, "distilbert-base has 38");
}

#[test]
fn the_tied_projector_is_copied_and_layer_norm_biases_follow_apples_order() {
    let standard = tiny();
    let ane = AneCheckpoint::from_standard(&standard).unwrap();
    let embeddings = &standard.tensors["distilbert.embeddings.word_embeddings.weight"];
    let projector = ane.tensors["vocab_projector.weight"]
        .squeeze(3)
        .unwrap()
        .squeeze(2)
        .unwrap();
    assert_eq!(max_abs_diff(&projector, embeddings), 0.0);
    // 2 per block, the embeddings' and the head's.
    assert_eq!(ane.layout.layer_norms.len(), 2 * 2 + 2);
    for ln in &ane.layout.layer_norms {
        let (w, b) = (format!("{ln}.weight"), format!("{ln}.bias"));
        // (x̂ + b') · w = x̂ · w + b  ⇔  b' = b / w.
        let restored = (&ane.tensors[&b] * &ane.tensors[&w]).unwrap();
        assert!(
            max_abs_diff(&restored, &standard.tensors[&b]) < 1e-6,
            "{ln}"
        );
    }
}

#[test]
fn a_converted_checkpoint_is_saved_reloaded_and_converted_back_without_loss() {
    let standard = tiny();
    let ane = AneCheckpoint::from_standard(&standard).unwrap();
    let dir = tempfile::tempdir().unwrap();
    ane.save(dir.path()).unwrap();
    assert!(AneCheckpoint::is_ane_dir(dir.path()));
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(ANE_LAYOUT_FILE)).unwrap()).unwrap();
    assert_eq!(layout["activations"], "BC1S");
    assert_eq!(layout["layer_norm_eps"], 1e-7);

    let reloaded = AneCheckpoint::load(dir.path(), &Device::Cpu).unwrap();
    assert_eq!(reloaded.layout, ane.layout);
    for (name, t) in &ane.tensors {
        assert_eq!(max_abs_diff(&reloaded.tensors[name], t), 0.0, "{name}");
    }
    let back = reloaded.to_standard().unwrap();
    for (name, t) in &standard.tensors {
        assert!(max_abs_diff(&back.tensors[name], t) < 1e-6, "{name}");
    }
}

#[test]
fn a_layer_norm_with_a_zero_weight_cannot_be_converted_and_says_why() {
    let mut standard = tiny();
    let name = "distilbert.transformer.layer.1.sa_layer_norm.weight";
    let mut w = standard.tensors[name].to_vec1::<f32>().unwrap();
    w[7] = 0.0;
    standard
        .tensors
        .insert(name.into(), Tensor::new(w, &Device::Cpu).unwrap());
    let err = AneCheckpoint::from_standard(&standard)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sa_layer_norm") && err.contains("channel 7"),
        "{err}"
    );
}

#[test]
fn a_damaged_ane_checkpoint_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    AneCheckpoint::from_standard(&tiny())
        .unwrap()
        .save(dir.path())
        .unwrap();
    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = AneCheckpoint::load(dir.path(), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.safetensors") && err.contains("truncated"),
        "{err}"
    );
}

/// A checkpoint of `cfg`'s shape with random weights (and LayerNorm
/// weights away from zero).
fn random_checkpoint(cfg: &Config) -> Checkpoint {
    let tensors: HashMap<String, Tensor> = typofix::model::expected_shapes(cfg)
        .into_iter()
        .map(|(name, shape)| {
            let t = Tensor::rand(0.5f32, 1.5, shape, &Device::Cpu)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            (name, t)
        })
        .collect();
    Checkpoint {
        config: cfg.clone(),
        tensors,
    }
}
