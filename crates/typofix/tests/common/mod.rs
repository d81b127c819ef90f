//! What the model tests share: the tiny checkpoint that transformers saved
//! in ../shared/fixtures/tiny-distilbert, and its reference outputs.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};

pub fn fixture() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/tiny-distilbert"
    ));
    assert!(
        dir.exists(),
        "{} is missing: the tests need ../shared beside the checkout",
        dir.display()
    );
    dir
}

/// `input_ids`, `attention_mask` [3, 128] (rows with 128, 37 and 5 real
/// tokens), `embeddings`, `last_hidden` [3, 128, 64], `logits` [3, 128, 1000].
pub fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture().join("reference_io.safetensors"), &Device::Cpu)
        .unwrap()
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}
