//! Training checkpoints on disk.
//!
//! ```text
//! OUT/metrics.jsonl
//! OUT/checkpoints/latest                  name of the newest checkpoint
//! OUT/checkpoints/step-00001000/          config.json, model.safetensors,
//!                                         tokenizer files, optimizer.safetensors,
//!                                         state.json
//! OUT/model/                              the final model
//! ```
//!
//! A checkpoint is written into a temporary directory and renamed, and only
//! then does `latest` (itself written atomically) point to it: a run killed
//! at any moment leaves the previous checkpoint intact.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

use super::{AdamW, TrainOptions};
use typofix::atomic::AtomicFile;
use typofix::model::{Checkpoint, Config};
use typofix::tokenizer::Tokenizer;
use typofix::Error;

pub const CHECKPOINTS_DIR: &str = "checkpoints";
pub const FINAL_DIR: &str = "model";
pub const METRICS_FILE: &str = "metrics.jsonl";
const LATEST: &str = "latest";
const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const STATE_FILE: &str = "state.json";

#[derive(Serialize, Deserialize)]
struct State {
    step: u64,
    optimizer_steps: u64,
    options: TrainOptions,
}

/// The newest checkpoint under `out`, if any.
pub fn latest_checkpoint(out: &Path) -> Result<Option<PathBuf>, Error> {
    let pointer = out.join(CHECKPOINTS_DIR).join(LATEST);
    let name = match std::fs::read_to_string(&pointer) {
        Ok(name) => name,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&pointer, e)),
    };
    let dir = out.join(CHECKPOINTS_DIR).join(name.trim());
    if !dir.is_dir() {
        return Err(Error::InvalidData {
            path: pointer,
            reason: format!("points to {}, which does not exist", dir.display()),
        });
    }
    Ok(Some(dir))
}

pub(super) fn save(
    out: &Path,
    step: u64,
    config: &Config,
    weights: &HashMap<String, Tensor>,
    tokenizer: &Tokenizer,
    optimizer: &AdamW,
    options: &TrainOptions,
) -> Result<PathBuf, Error> {
    let root = out.join(CHECKPOINTS_DIR);
    let name = format!("step-{step:08}");
    let dir = root.join(&name);
    let temp = root.join(format!(".{name}.tmp"));
    for stale in [&temp, &dir] {
        if stale.exists() {
            std::fs::remove_dir_all(stale).map_err(|e| Error::io(stale, e))?;
        }
    }
    Checkpoint::save(&temp, config, weights, DType::F32)?;
    tokenizer.save(&temp, config.max_position_embeddings)?;
    let opt_path = temp.join(OPTIMIZER_FILE);
    candle_core::safetensors::save(&optimizer.state(), &opt_path).map_err(|e| {
        Error::InvalidModel {
            path: opt_path.clone(),
            reason: format!("cannot save the optimizer state: {e}"),
        }
    })?;
    let state_path = temp.join(STATE_FILE);
    let mut file = AtomicFile::create(&state_path)?;
    let state = State {
        step,
        optimizer_steps: optimizer.steps(),
        options: options.clone(),
    };
    serde_json::to_writer_pretty(&mut file, &state)
        .map_err(|e| Error::io(&state_path, e.into()))?;
    file.commit()?;
    std::fs::rename(&temp, &dir).map_err(|e| Error::io(&dir, e))?;

    let mut latest = AtomicFile::create(&root.join(LATEST))?;
    latest
        .write_all(name.as_bytes())
        .map_err(|e| Error::io(&root.join(LATEST), e))?;
    latest.commit()?;
    prune(&root, options.keep_checkpoints.max(1))?;
    Ok(dir)
}

/// Removes all but the newest `keep` checkpoints.
fn prune(root: &Path, keep: usize) -> Result<(), Error> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| Error::io(root, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("step-"))
        .collect();
    names.sort();
    for old in names.iter().rev().skip(keep) {
        let path = root.join(old);
        std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Restores weights and optimizer state from `dir`; returns its step.
pub(super) fn load(
    dir: &Path,
    options: &TrainOptions,
    varmap: &VarMap,
    optimizer: &mut AdamW,
) -> Result<u64, Error> {
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| Error::io(&state_path, e))?;
    let state: State = serde_json::from_str(&text).map_err(|e| Error::InvalidData {
        path: state_path.clone(),
        reason: format!("not a training state: {e}"),
    })?;
    let (a, b) = (&state.options, options);
    if (a.seed, a.grad_accum, a.schedule, a.weight_decay, a.clip)
        != (b.seed, b.grad_accum, b.schedule, b.weight_decay, b.clip)
    {
        return Err(Error::InvalidArgument(format!(
            "{} was trained with other options (seed, batches per step, schedule, weight decay or clipping); \
             resume with the same options, or start afresh in another --out directory",
            dir.display()
        )));
    }
    let device = varmap
        .all_vars()
        .first()
        .map_or(Device::Cpu, |v| v.device().clone());
    let checkpoint = Checkpoint::load(dir, &device)?;
    {
        let data = varmap.data().lock().expect("not poisoned");
        for (name, var) in data.iter() {
            let saved = checkpoint
                .tensors
                .get(name)
                .ok_or_else(|| Error::InvalidModel {
                    path: dir.to_owned(),
                    reason: format!("the checkpoint lacks {name}"),
                })?;
            var.set(saved)?;
        }
    }
    let opt_path = dir.join(OPTIMIZER_FILE);
    let moments =
        candle_core::safetensors::load(&opt_path, &device).map_err(|e| Error::InvalidModel {
            path: opt_path.clone(),
            reason: format!("not a readable optimizer state ({e})"),
        })?;
    optimizer
        .restore(&moments, state.optimizer_steps)
        .map_err(|reason| Error::InvalidModel {
            path: opt_path,
            reason,
        })?;
    Ok(state.step)
}

/// Drops metric lines logged after `step`, which the resumed run logs again.
pub(super) fn truncate_metrics(path: &Path, step: u64) -> Result<(), Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut file = AtomicFile::create(path)?;
    for line in text.lines() {
        let logged = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v["step"].as_u64());
        if logged.is_some_and(|s| s <= step) {
            writeln!(file, "{line}").map_err(|e| Error::io(path, e))?;
        }
    }
    file.commit()
}
