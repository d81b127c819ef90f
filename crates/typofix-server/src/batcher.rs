//! Inference off the async executor: a bounded queue in front of a fixed
//! pool of worker threads. Each worker takes the jobs that arrive within a
//! short window (up to a number of texts) and corrects them in one
//! `Corrector::fix_batch` call, so texts from concurrent requests share the
//! model's batches and throughput grows with load.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use tokio::sync::oneshot;
use typofix::{Budget, Corrector, Fix, FixOptions};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// How the pool is sized.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub workers: usize,
    /// Most texts corrected in one call.
    pub max_batch: usize,
    /// Jobs waiting at most; one more is refused (429).
    pub queue: usize,
    /// How long a worker waits for more jobs after the first.
    pub window: Duration,
}

type Reply = Result<Vec<Fix>, ApiError>;

struct Job {
    texts: Vec<String>,
    options: FixOptions,
    deadline: Instant,
    reply: oneshot::Sender<Reply>,
}

/// The queue and its workers.
pub struct Batcher {
    sender: Option<Sender<Job>>,
    capacity: usize,
    workers: Vec<JoinHandle<()>>,
}

impl Batcher {
    pub fn start(
        corrector: Arc<Corrector>,
        config: &BatchConfig,
        metrics: Arc<Metrics>,
    ) -> Batcher {
        let (sender, receiver) = crossbeam_channel::bounded(config.queue);
        let workers = (0..config.workers.max(1))
            .map(|i| {
                let (receiver, corrector, metrics) =
                    (receiver.clone(), corrector.clone(), metrics.clone());
                let (max_batch, window) = (config.max_batch.max(1), config.window);
                std::thread::Builder::new()
                    .name(format!("typofix-worker-{i}"))
                    .spawn(move || work(&receiver, &corrector, max_batch, window, &metrics))
                    .expect("a worker thread starts")
            })
            .collect();
        Batcher {
            sender: Some(sender),
            capacity: config.queue,
            workers,
        }
    }

    /// Queues `texts`; the receiver gets their fixes, or an error.
    pub fn submit(
        &self,
        texts: Vec<String>,
        options: FixOptions,
        deadline: Instant,
    ) -> Result<oneshot::Receiver<Reply>, ApiError> {
        let (reply, receiver) = oneshot::channel();
        let job = Job {
            texts,
            options,
            deadline,
            reply,
        };
        let sender = self.sender.as_ref().ok_or(ApiError::Unavailable)?;
        match sender.try_send(job) {
            Ok(()) => Ok(receiver),
            Err(TrySendError::Full(_)) => Err(ApiError::QueueFull(self.capacity)),
            Err(TrySendError::Disconnected(_)) => Err(ApiError::Unavailable),
        }
    }

    pub fn queue_depth(&self) -> usize {
        self.sender.as_ref().map_or(0, Sender::len)
    }

    /// Lets the workers finish what is queued, then joins them.
    pub fn shutdown(mut self) {
        self.sender = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// Options compared by value, so that jobs with the same ones share a call.
fn options_key(options: &FixOptions) -> (Option<u64>, BTreeSet<String>) {
    (
        options.threshold.map(f64::to_bits),
        options.allow.iter().cloned().collect(),
    )
}

fn work(
    receiver: &Receiver<Job>,
    corrector: &Corrector,
    max_batch: usize,
    window: Duration,
    metrics: &Metrics,
) {
    while let Ok(first) = receiver.recv() {
        let mut texts = first.texts.len();
        let mut jobs = vec![first];
        let until = Instant::now() + window;
        while texts < max_batch {
            match receiver.recv_deadline(until) {
                Ok(job) => {
                    texts += job.texts.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let now = Instant::now();
        let (live, expired): (Vec<Job>, Vec<Job>) = jobs
            .into_iter()
            .partition(|j| j.deadline > now && !j.reply.is_closed());
        for job in expired {
            // The handler has answered 504 already, or is about to.
            let _ = job.reply.send(Err(ApiError::Unavailable));
        }
        let mut groups: Vec<(_, Vec<Job>)> = Vec::new();
        for job in live {
            let key = options_key(&job.options);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) => group.push(job),
                None => groups.push((key, vec![job])),
            }
        }
        for (_, group) in groups {
            run_group(corrector, group, metrics);
        }
    }
}

fn run_group(corrector: &Corrector, group: Vec<Job>, metrics: &Metrics) {
    let texts: Vec<&str> = group
        .iter()
        .flat_map(|j| j.texts.iter().map(String::as_str))
        .collect();
    metrics.observe_batch(texts.len());
    // The work stops at the earliest deadline of the group's jobs (they
    // arrived within one batching window of each other), and each job gets
    // what was checked by then.
    let options = FixOptions {
        budget: Budget {
            deadline: group.iter().map(|j| j.deadline).min(),
            ..group[0].options.budget
        },
        ..group[0].options.clone()
    };
    let options = &options;
    // The corrector does not panic on any input (proptests check it); if a
    // bug makes it, this request fails and the worker lives on.
    let result = catch_unwind(AssertUnwindSafe(|| corrector.fix_batch(&texts, options)));
    let fixes = match result {
        Ok(Ok(fixes)) => fixes,
        Ok(Err(e)) => return fail_all(group, &e.to_string()),
        Err(_) => return fail_all(group, "the corrector panicked; this is a bug"),
    };
    let mut fixes = fixes.into_iter();
    for job in group {
        let mine: Vec<Fix> = fixes.by_ref().take(job.texts.len()).collect();
        let _ = job.reply.send(Ok(mine));
    }
}

fn fail_all(group: Vec<Job>, message: &str) {
    tracing::error!(message, "correction failed");
    for job in group {
        let _ = job.reply.send(Err(ApiError::Internal(message.to_string())));
    }
}
