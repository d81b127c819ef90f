//! The fused engine against Hugging Face's DistilBERT (the reference
//! outputs that transformers saved for the tiny checkpoint in
//! ../shared/fixtures/tiny-distilbert) and against the standard engine.

mod common;

use candle_core::{Device, Tensor, D};
use typofix::model::{Checkpoint, Engine, FusedMaskedLm, MaskedLm};

use common::{fixture, reference};

/// The reference rows' token ids, without their padding.
fn sequences(reference: &std::collections::HashMap<String, Tensor>) -> Vec<Vec<u32>> {
    let ids = reference["input_ids"].to_vec2::<i64>().unwrap();
    let mask = reference["attention_mask"].to_vec2::<i64>().unwrap();
    ids.iter()
        .zip(&mask)
        .map(|(ids, mask)| {
            let len = mask.iter().filter(|&&m| m == 1).count();
            ids[..len].iter().map(|&i| i as u32).collect()
        })
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn fused() -> FusedMaskedLm {
    FusedMaskedLm::from_checkpoint(&Checkpoint::load(&fixture(), &Device::Cpu).unwrap()).unwrap()
}

#[test]
fn hidden_states_and_logits_match_transformers_on_every_real_token() {
    let reference = reference();
    let seqs = sequences(&reference);
    assert_eq!(seqs.iter().map(Vec::len).collect::<Vec<_>>(), [128, 37, 5]);
    let model = fused();
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let hidden = model.encode(&refs).unwrap();
    let logits = model.logits(&hidden.rows);
    let want_hidden = reference["last_hidden"].to_vec3::<f32>().unwrap();
    let want_logits = reference["logits"].to_vec3::<f32>().unwrap();
    let (d, v) = (64, 1000);
    for (n, seq) in hidden.seqs.iter().enumerate() {
        for (p, t) in seq.clone().enumerate() {
            let h = max_diff(&hidden.rows[t * d..][..d], &want_hidden[n][p]);
            let l = max_diff(&logits[t * v..][..v], &want_logits[n][p]);
            assert!(
                h <= 1e-4 && l <= 1e-4,
                "row {n}, token {p}: {h:.2e}, {l:.2e}"
            );
        }
    }
}

#[test]
fn a_sequence_has_the_same_states_alone_as_beside_others() {
    let reference = reference();
    let seqs = sequences(&reference);
    let model = fused();
    let together = model
        .encode(&[&seqs[0][..], &seqs[1][..], &seqs[2][..]])
        .unwrap();
    let alone = model.encode(&[&seqs[1][..]]).unwrap();
    let d = together.dim;
    let mine = together.seqs[1].clone();
    assert!(max_diff(&together.rows[mine.start * d..mine.end * d], &alone.rows) <= 1e-5);
    assert_eq!(
        together.row(1, 3),
        &together.rows[(128 + 3) * d..(128 + 4) * d]
    );
}

#[test]
fn log_probs_equal_the_standard_engines_log_softmax() {
    let checkpoint = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    let standard = checkpoint.model().unwrap();
    let fused = MaskedLm::from_checkpoint(&checkpoint, Engine::Fused).unwrap();
    let rows = Tensor::randn(0f32, 1.0, (7, 64), &Device::Cpu).unwrap();
    let want = candle_nn::ops::log_softmax(
        &standard
            .mlm_logits(&rows, typofix::model::Pass::Infer)
            .unwrap(),
        D::Minus1,
    )
    .unwrap()
    .flatten_all()
    .unwrap()
    .to_vec1::<f32>()
    .unwrap();
    let got = fused
        .log_probs(&rows.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .unwrap();
    assert!(max_diff(&got, &want) <= 1e-4);
}

#[test]
fn every_engine_encodes_ragged_sequences_alike() {
    let reference = reference();
    let seqs = sequences(&reference);
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let checkpoint = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    let fused = MaskedLm::from_checkpoint(&checkpoint, Engine::Fused)
        .unwrap()
        .encode(&refs)
        .unwrap();
    for engine in [Engine::Standard, Engine::Ane] {
        let other = MaskedLm::from_checkpoint(&checkpoint, engine)
            .unwrap()
            .encode(&refs)
            .unwrap();
        assert_eq!(other.seqs, fused.seqs);
        let diff = max_diff(&other.rows, &fused.rows);
        assert!(diff <= 1e-4, "{engine}: {diff:.2e}");
    }
}

#[test]
fn a_token_outside_the_vocabulary_or_a_sequence_too_long_is_an_error() {
    let model = fused();
    let err = model.encode(&[&[101, 5000, 102]]).unwrap_err();
    assert!(
        err.to_string().contains("outside the model's vocabulary"),
        "{err}"
    );
    let long = vec![1u32; 129];
    let err = model.encode(&[&long]).unwrap_err();
    assert!(
        err.to_string()
            .contains("longer than the model's 128 positions"),
        "{err}"
    );
}

#[test]
fn the_int8_and_bf16_engines_stay_near_f32() {
    // Their rounding moves hidden states (LayerNorm'd, of order 1) by a
    // few hundredths; a wrong kernel, layout or scale moves them by whole
    // units.
    let reference = reference();
    let seqs = sequences(&reference);
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let checkpoint = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    let encode = |engine| {
        MaskedLm::from_checkpoint(&checkpoint, engine)
            .unwrap()
            .encode(&refs)
            .unwrap()
    };
    let f32 = encode(Engine::Fused);
    // Measured: int8 8.0e-2 at most and 1.5e-2 on average, bf16 2.2e-2
    // and 3.7e-3.
    for (engine, most, average) in [(Engine::Int8, 0.15, 0.03), (Engine::Bf16, 0.05, 0.01)] {
        let other = encode(engine);
        assert_eq!(other.seqs, f32.seqs);
        let diff = max_diff(&other.rows, &f32.rows);
        let mean = other
            .rows
            .iter()
            .zip(&f32.rows)
            .map(|(a, b)| (a - b).abs())
            .sum::<f32>()
            / f32.rows.len() as f32;
        assert!(
            diff <= most && mean <= average,
            "{engine}: {diff:.2e}, {mean:.2e}"
        );
    }
}

#[test]
fn the_int8_and_bf16_heads_give_nearly_f32_log_probabilities() {
    // Both run the head's projector in bf16: on the same hidden rows, their
    // log-probabilities stay within about a tenth of f32's (measured: 5.7e-2
    // at most), where a wrong layout or kernel moves them by whole units.
    let checkpoint = Checkpoint::load(&fixture(), &Device::Cpu).unwrap();
    let rows: Vec<f32> = (0..7 * 64)
        .map(|i| (i * 37 % 101) as f32 / 50.0 - 1.0)
        .collect();
    let log_probs = |engine| {
        MaskedLm::from_checkpoint(&checkpoint, engine)
            .unwrap()
            .log_probs(&rows)
            .unwrap()
    };
    let f32 = log_probs(Engine::Fused);
    for engine in [Engine::Int8, Engine::Bf16] {
        let diff = max_diff(&log_probs(engine), &f32);
        assert!(diff <= 0.15, "{engine}: {diff:.2e}");
    }
}
