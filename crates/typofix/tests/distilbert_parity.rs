//! Our DistilBERT against Hugging Face's, on the tiny random checkpoint that
//! transformers saved in ../shared/fixtures/tiny-distilbert, with reference
//! outputs for inputs with padding.

mod common;

use candle_core::{DType, Device, Tensor};
use typofix::model::{Checkpoint, DropoutSource, Pass, CONFIG_FILE, WEIGHTS_FILE};
use typofix::Error;

use common::{fixture, max_abs_diff, reference};

#[test]
fn embeddings_hidden_states_and_logits_match_transformers_on_every_row() {
    let reference = reference();
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let model = Checkpoint::load(&fixture(), &Device::Cpu)
        .unwrap()
        .model()
        .unwrap();

    let embeddings = model
        .encoder()
        .embeddings()
        .forward(ids, Pass::Infer)
        .unwrap();
    let hidden = model.encoder().forward(ids, mask, Pass::Infer).unwrap();
    let logits = model.forward(ids, mask).unwrap();
    for (name, ours) in [
        ("embeddings", &embeddings),
        ("last_hidden", &hidden),
        ("logits", &logits),
    ] {
        let diff = max_abs_diff(ours, &reference[name]);
        eprintln!("{name}: max abs diff {diff:.2e}");
        assert!(diff <= 1e-4, "{name}: max abs diff {diff}");
    }
}

#[test]
fn the_training_path_computes_the_same_function_without_dropout() {
    let reference = reference();
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let mut checkpoint = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    checkpoint.config.dropout = 0.0;
    checkpoint.config.attention_dropout = 0.0;
    let model = checkpoint.model().unwrap();
    let dropout = DropoutSource::new(0);
    let hidden = model
        .encoder()
        .forward(ids, mask, Pass::Train(&dropout))
        .unwrap();
    let logits = model.mlm_logits(&hidden, Pass::Train(&dropout)).unwrap();
    assert!(max_abs_diff(&logits, &reference["logits"]) <= 1e-4);
}

#[test]
fn the_head_on_selected_positions_equals_the_full_logits_there() {
    let reference = reference();
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let model = Checkpoint::load(&fixture(), &Device::Cpu)
        .unwrap()
        .model()
        .unwrap();
    let hidden = model.encoder().forward(ids, mask, Pass::Infer).unwrap();
    let flat = hidden.reshape((3 * 128, 64)).unwrap();
    let picked = Tensor::new(&[0u32, 130, 260], &Device::Cpu).unwrap();
    let logits = model
        .mlm_logits(&flat.index_select(&picked, 0).unwrap(), Pass::Infer)
        .unwrap();
    let full = reference["logits"]
        .reshape((3 * 128, 1000))
        .unwrap()
        .index_select(&picked, 0)
        .unwrap();
    assert!(max_abs_diff(&logits, &full) <= 1e-4);
}

#[test]
fn save_then_reload_is_bit_identical() {
    let original = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    Checkpoint::save(dir.path(), &original.config, &original.tensors, DType::F32).unwrap();
    let reloaded = Checkpoint::load(dir.path(), &Device::Cpu).unwrap();
    assert_eq!(reloaded.config, original.config);
    assert_eq!(reloaded.tensors.len(), original.tensors.len());
    for (name, tensor) in &original.tensors {
        let a: Vec<u32> = tensor
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        let b: Vec<u32> = reloaded.tensors[name]
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert_eq!(a, b, "{name}");
    }
    // Saving again writes the very same bytes.
    let again = tempfile::tempdir().unwrap();
    Checkpoint::save(
        again.path(),
        &reloaded.config,
        &reloaded.tensors,
        DType::F32,
    )
    .unwrap();
    for file in [CONFIG_FILE, WEIGHTS_FILE] {
        assert_eq!(
            std::fs::read(dir.path().join(file)).unwrap(),
            std::fs::read(again.path().join(file)).unwrap()
        );
    }
}

/// A copy of the fixture in a temporary directory, to damage.
fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in [CONFIG_FILE, WEIGHTS_FILE] {
        std::fs::copy(fixture().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// A copy of the fixture whose config.json has `from` replaced by `to`.
fn fixture_with_config_edit(from: &str, to: &str) -> tempfile::TempDir {
    let dir = fixture_copy();
    let path = dir.path().join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "{from:?} is not in the fixture's config"
    );
    std::fs::write(&path, text.replace(from, to)).unwrap();
    dir
}

fn load_error(dir: &std::path::Path) -> String {
    match Checkpoint::load(dir, &Device::Cpu) {
        Ok(_) => panic!("a damaged checkpoint loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_truncated_weights_file_is_a_clear_error_naming_it() {
    let dir = fixture_copy();
    let weights = dir.path().join(WEIGHTS_FILE);
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("model.safetensors") && err.contains("truncated or corrupt"),
        "{err}"
    );
}

#[test]
fn a_config_that_does_not_match_the_weights_is_a_clear_error() {
    let dir = fixture_with_config_edit("\"hidden_dim\": 128", "\"hidden_dim\": 256");
    let err = load_error(dir.path());
    assert!(
        err.contains("lin1.weight has shape [128, 64], but config.json implies [256, 64]"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let dir = fixture_copy();
    std::fs::remove_file(dir.path().join(CONFIG_FILE)).unwrap();
    let err = Checkpoint::load(dir.path(), &Device::Cpu).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(p) if p.ends_with(CONFIG_FILE)),
        "{err}"
    );
}

#[test]
fn a_non_distilbert_config_is_refused() {
    let dir =
        fixture_with_config_edit("\"model_type\": \"distilbert\"", "\"model_type\": \"bert\"");
    assert!(load_error(dir.path()).contains("DistilBERT models only"));
}
