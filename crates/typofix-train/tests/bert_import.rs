//! `import_bert` on tiny random BERTs that transformers saved
//! (scripts/make_tiny_bert.py): the imported DistilBERT computes what
//! transformers computed, within 1e-4, on rows with padding.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use typofix::model::Pass;
use typofix_train::import::{import_bert, Head};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn reference(name: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture(name).join("reference_io.safetensors"), &Device::Cpu)
        .unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar()
        .unwrap()
}

#[test]
fn a_bert_for_masked_lm_keeps_its_head_and_its_outputs() {
    let imported = import_bert(&fixture("tiny-bert-mlm"), 0).unwrap();
    assert_eq!(imported.head, Head::Kept);
    let reference = reference("tiny-bert-mlm");
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let model = imported.checkpoint.model().unwrap();
    let hidden = model.encoder().forward(ids, mask, Pass::Infer).unwrap();
    let logits = model.forward(ids, mask).unwrap();
    for (name, ours) in [("last_hidden", &hidden), ("logits", &logits)] {
        let diff = max_abs_diff(ours, &reference[name]);
        eprintln!("BertForMaskedLM {name}: max abs diff {diff:.2e}");
        assert!(diff <= 1e-4, "{name}: max abs diff {diff}");
    }
}

#[test]
fn a_bert_model_gets_the_same_encoder_and_a_new_head() {
    let imported = import_bert(&fixture("tiny-bert"), 0).unwrap();
    assert_eq!(imported.head, Head::Initialised);
    assert!(
        imported.dropped.iter().any(|n| n.starts_with("pooler.")),
        "{:?}",
        imported.dropped
    );
    let reference = reference("tiny-bert");
    let (ids, mask) = (&reference["input_ids"], &reference["attention_mask"]);
    let model = imported.checkpoint.model().unwrap();
    let hidden = model.encoder().forward(ids, mask, Pass::Infer).unwrap();
    let diff = max_abs_diff(&hidden, &reference["last_hidden"]);
    eprintln!("BertModel last_hidden: max abs diff {diff:.2e}");
    assert!(diff <= 1e-4, "max abs diff {diff}");
    // The new head gives logits over the vocabulary.
    let logits = model.forward(ids, mask).unwrap();
    assert_eq!(logits.dims(), &[3, 32, 200]);
}

#[test]
fn a_new_head_is_the_same_for_the_same_seed() {
    let weights = |seed| {
        import_bert(&fixture("tiny-bert"), seed)
            .unwrap()
            .checkpoint
            .tensors["vocab_transform.weight"]
            .clone()
    };
    assert_eq!(max_abs_diff(&weights(3), &weights(3)), 0.0);
    assert!(max_abs_diff(&weights(3), &weights(4)) > 0.0);
}

#[test]
fn a_non_bert_checkpoint_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"model_type": "roberta", "vocab_size": 10, "hidden_size": 8,
            "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "max_position_embeddings": 8}"#,
    )
    .unwrap();
    let err = import_bert(dir.path(), 0).err().unwrap().to_string();
    assert!(err.contains("roberta"), "{err}");
}
