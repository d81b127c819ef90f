//! The thread that checks documents. The server hands it every change and
//! goes straight back to the client; the checker waits for a pause in
//! typing, checks only the paragraphs it has not seen, a few at a time,
//! and drops the work the moment a newer change arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use lsp_server::{Message, Notification};
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::{
    Diagnostic, DiagnosticSeverity, NumberOrString, PublishDiagnosticsParams, Range, Uri,
};
use serde_json::json;
use typofix::text::Unit;
use typofix::{Budget, Corrector, Edit, FixOptions};

use crate::document::Document;
use crate::prose;
use crate::settings::Settings;

/// How long typing must pause before a document is checked.
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// Paragraphs per call to the corrector, and the most time one call may
/// take, so that a newer change waits at most about that long.
const CHUNK: usize = 16;
const CHUNK_TIME: Duration = Duration::from_millis(500);

/// What the server tells the checker.
pub enum Job {
    /// A document's newest text.
    Check(Uri, Document),
    Close(Uri),
    /// New options (threshold, allowed words) and settings: everything is
    /// checked again.
    Configure(FixOptions, Settings),
}

/// A correction shown as a diagnostic, kept for its code actions.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub range: Range,
    pub original: String,
    pub replacement: String,
}

/// Each open document's corrections, as last published.
pub type Published = Arc<Mutex<HashMap<String, Vec<Found>>>>;

/// Starts the checker; it ends when `jobs`' sender is dropped.
pub fn start(
    corrector: Arc<Corrector>,
    unit: Unit,
    client: Sender<Message>,
    published: Published,
) -> (Sender<Job>, thread::JoinHandle<()>) {
    let (jobs, receiver) = crossbeam_channel::unbounded();
    let handle = thread::Builder::new()
        .name("typofix-checker".into())
        .spawn(move || {
            Checker {
                corrector,
                unit,
                client,
                published,
                jobs: receiver,
                options: FixOptions::default(),
                settings: Settings::default(),
                documents: HashMap::new(),
                dirty: Vec::new(),
                seen: HashMap::new(),
            }
            .run()
        })
        .expect("the checker thread starts");
    (jobs, handle)
}

struct Checker {
    corrector: Arc<Corrector>,
    unit: Unit,
    client: Sender<Message>,
    published: Published,
    jobs: Receiver<Job>,
    options: FixOptions,
    settings: Settings,
    documents: HashMap<String, (Uri, Document)>,
    /// Documents changed since they were last checked, oldest first.
    dirty: Vec<String>,
    /// Per document, the edits of each paragraph text already checked
    /// (offsets relative to the paragraph).
    seen: HashMap<String, HashMap<String, Vec<Edit>>>,
}

impl Checker {
    fn run(mut self) {
        loop {
            // Wait for work, then for typing to pause.
            let first = if self.dirty.is_empty() {
                match self.jobs.recv() {
                    Ok(job) => Some(job),
                    Err(_) => return,
                }
            } else {
                None
            };
            if let Some(job) = first {
                self.take(job);
            }
            loop {
                match self.jobs.recv_timeout(DEBOUNCE) {
                    Ok(job) => self.take(job),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            while let Some(key) = self.dirty.first().cloned() {
                if !self.check(&key) {
                    break; // a newer change: take it first
                }
                self.dirty.retain(|k| *k != key);
            }
        }
    }

    fn take(&mut self, job: Job) {
        match job {
            Job::Check(uri, document) => {
                let key = uri.as_str().to_string();
                if !self.settings.checks(&document.language) {
                    self.forget(&key, Some(uri));
                    return;
                }
                self.documents.insert(key.clone(), (uri, document));
                self.dirty.retain(|k| *k != key);
                self.dirty.push(key);
            }
            Job::Close(uri) => self.forget(uri.as_str(), None),
            Job::Configure(options, settings) => {
                self.options = options;
                self.settings = settings;
                self.seen.clear();
                let keys: Vec<String> = self.documents.keys().cloned().collect();
                for key in keys {
                    let (uri, document) = self.documents.remove(&key).unwrap();
                    self.take(Job::Check(uri, document));
                }
            }
        }
    }

    /// Stops tracking a document; `clear`: also clears its diagnostics.
    fn forget(&mut self, key: &str, clear: Option<Uri>) {
        self.documents.remove(key);
        self.dirty.retain(|k| k != key);
        self.seen.remove(key);
        self.published.lock().unwrap().remove(key);
        if let Some(uri) = clear {
            self.publish(uri, None, Vec::new());
        }
    }

    /// Checks a document and publishes its diagnostics; false if a newer
    /// job arrived first (what was checked by then is kept).
    fn check(&mut self, key: &str) -> bool {
        let (uri, document) = self.documents[key].clone();
        let paragraphs = prose::paragraphs(&document.text, &document.language);
        let mut seen = self.seen.remove(key).unwrap_or_default();
        let mut todo: Vec<Pending> = paragraphs
            .iter()
            .map(|p| &document.text[p.range.clone()])
            .filter(|text| !seen.contains_key(*text))
            .map(|text| Pending {
                text: text.to_string(),
                from: 0,
                edits: Vec::new(),
            })
            .collect();
        todo.dedup_by(|a, b| a.text == b.text);
        while !todo.is_empty() {
            let chunk: Vec<Pending> = todo.drain(..todo.len().min(CHUNK)).collect();
            match self.correct(chunk) {
                Ok((done, rest)) => {
                    seen.extend(done);
                    todo.splice(0..0, rest);
                }
                Err(e) => {
                    // Not worth retrying: the same text fails the same way.
                    tracing::error!("typofix could not check {}: {e}", uri.as_str());
                    self.seen.insert(key.to_string(), seen);
                    return true;
                }
            }
            if !self.jobs.is_empty() {
                self.seen.insert(key.to_string(), seen);
                return false;
            }
        }
        // Keep only the paragraphs the document still has.
        let current: std::collections::HashSet<&str> = paragraphs
            .iter()
            .map(|p| &document.text[p.range.clone()])
            .collect();
        seen.retain(|text, _| current.contains(text.as_str()));
        let found = self.found(&document, &paragraphs, &seen);
        self.seen.insert(key.to_string(), seen);
        self.publish(uri, Some(document.version), found);
        true
    }

    /// Corrects a chunk of paragraphs within [`CHUNK_TIME`]: the finished
    /// ones with their edits, and the rest from where the time ran out.
    fn correct(&self, chunk: Vec<Pending>) -> typofix::Result<(Vec<Checked>, Vec<Pending>)> {
        let texts: Vec<&str> = chunk.iter().map(|p| &p.text[p.from..]).collect();
        let timed = FixOptions {
            budget: Budget::within(CHUNK_TIME),
            ..self.options.clone()
        };
        let mut fixes = self.corrector.fix_batch(&texts, &timed)?;
        if fixes.iter().all(|f| f.unchecked == Some(0)) {
            // Not even one group fitted: take the time it needs.
            fixes = self.corrector.fix_batch(&texts, &self.options)?;
        }
        let (mut done, mut rest) = (Vec::new(), Vec::new());
        for (mut pending, fix) in chunk.into_iter().zip(fixes) {
            let from = pending.from;
            pending.edits.extend(fix.edits.into_iter().map(|mut e| {
                e.start += from;
                e.end += from;
                e
            }));
            match fix.unchecked {
                None => done.push((pending.text, pending.edits)),
                Some(at) => {
                    pending.from += at;
                    rest.push(pending);
                }
            }
        }
        Ok((done, rest))
    }

    fn found(
        &self,
        document: &Document,
        paragraphs: &[prose::Paragraph],
        seen: &HashMap<String, Vec<Edit>>,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        for p in paragraphs {
            let Some(edits) = seen.get(&document.text[p.range.clone()]) else {
                continue;
            };
            for e in edits {
                let (start, end) = (p.range.start + e.start, p.range.start + e.end);
                if p.skip.iter().any(|s| s.start < end && start < s.end) {
                    continue;
                }
                found.push(Found {
                    range: document.range(start, end, self.unit),
                    original: e.original.clone(),
                    replacement: e.replacement.clone(),
                });
            }
        }
        found
    }

    fn publish(&self, uri: Uri, version: Option<i32>, found: Vec<Found>) {
        let diagnostics = found.iter().map(diagnostic).collect();
        self.published
            .lock()
            .unwrap()
            .insert(uri.as_str().to_string(), found);
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let note = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
        // A closed connection: the server is shutting down.
        let _ = self.client.send(note.into());
    }
}

/// A paragraph's text, and its edits.
type Checked = (String, Vec<Edit>);

/// A paragraph being checked, perhaps in parts when it is long.
struct Pending {
    text: String,
    /// Where its unchecked part begins.
    from: usize,
    /// The edits of the part before `from`.
    edits: Vec<Edit>,
}

pub fn diagnostic(found: &Found) -> Diagnostic {
    Diagnostic {
        range: found.range,
        severity: Some(DiagnosticSeverity::INFORMATION),
        code: Some(NumberOrString::String("typo".into())),
        source: Some("typofix".into()),
        message: format!("{} → {}", found.original, found.replacement),
        data: Some(json!({ "replacement": found.replacement })),
        ..Diagnostic::default()
    }
}
