//! typofix for Python. A thin layer over [`typofix::Corrector`]: it turns
//! byte offsets into Python string indices (code points), options into
//! keyword arguments, and the library's errors into `typofix.TypofixError`;
//! the model runs with the GIL released. The types are described for
//! Python in `typofix.pyi`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use rayon::ThreadPool;
use typofix::text::{Offsets, Unit};
use typofix::{Budget, ErrorKind, FixOptions};

create_exception!(
    typofix,
    TypofixError,
    PyException,
    "Raised when typofix cannot load a model or correct a text; the message says why."
);

fn raise(e: typofix::Error) -> PyErr {
    TypofixError::new_err(e.to_string())
}

/// The threads the model runs on. Rayon's global pool does not survive
/// `fork()`: in the child its threads are gone, and the first model call
/// would wait for them forever, and `multiprocessing` forks by default on
/// Linux before Python 3.14. So calls run on a pool of this process's own,
/// made again by a process that finds its parent's.
fn pool() -> PyResult<Arc<ThreadPool>> {
    static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);
    // Taken with the GIL held, so that no fork can happen while it is.
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    match pool.as_ref() {
        Some((owner, threads)) if *owner == pid => Ok(threads.clone()),
        inherited => {
            // A parent's pool cannot be dropped here: its threads, which
            // dropping would wait on, do not exist in this process.
            if let Some((_, threads)) = inherited {
                std::mem::forget(threads.clone());
            }
            let threads = Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .thread_name(|n| format!("typofix-{n}"))
                    .build()
                    .map_err(|e| TypofixError::new_err(format!("cannot start threads: {e}")))?,
            );
            *pool = Some((pid, threads.clone()));
            Ok(threads)
        }
    }
}

/// The process that first ran the model, or 0. Candle keeps thread pools
/// of its own, made on the model's first run, which do not survive `fork()`
/// either and cannot be made again: a process forked after its parent ran
/// the model would hang in its first call, so it is refused instead.
static MODEL_RAN_IN: AtomicU32 = AtomicU32::new(0);

/// Runs the model with the GIL released, on this process's threads.
fn run_model<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> typofix::Result<T> + Send,
) -> PyResult<T> {
    let pid = std::process::id();
    match MODEL_RAN_IN.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {}
        Err(first) if first == pid => {}
        Err(_) => {
            return Err(TypofixError::new_err(
                "this process was forked from one that had already run typofix's model, \
                 whose threads do not survive fork(); run the model only in the workers, \
                 or start them with multiprocessing's 'spawn' or 'forkserver' method",
            ))
        }
    }
    run(py, work)
}

/// Runs `work` with the GIL released, on this process's threads.
fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> typofix::Result<T> + Send) -> PyResult<T> {
    let threads = pool()?;
    py.detach(|| threads.install(work)).map_err(raise)
}

/// One correction. `start` and `end` index the input string, as Python
/// slices do: `text[edit.start:edit.end] == edit.original`.
#[pyclass(module = "typofix", frozen, eq, get_all, from_py_object)]
#[derive(Clone, PartialEq)]
struct Edit {
    start: usize,
    end: usize,
    original: String,
    replacement: String,
    /// keyboard, drop, double, transpose, space, confusion or misspelling.
    kind: &'static str,
    confidence: f32,
}

#[pymethods]
impl Edit {
    #[new]
    fn new(
        start: usize,
        end: usize,
        original: String,
        replacement: String,
        kind: &str,
        confidence: f32,
    ) -> PyResult<Edit> {
        let kind = kind
            .parse::<ErrorKind>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?
            .name();
        Ok(Edit {
            start,
            end,
            original,
            replacement,
            kind,
            confidence,
        })
    }

    /// Pickles as its fields, so that edits can come back from worker
    /// processes.
    fn __getnewargs__(&self) -> (usize, usize, String, String, &'static str, f32) {
        (
            self.start,
            self.end,
            self.original.clone(),
            self.replacement.clone(),
            self.kind,
            self.confidence,
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "Edit(start={}, end={}, original={:?}, replacement={:?}, kind={:?}, confidence={:.3})",
            self.start, self.end, self.original, self.replacement, self.kind, self.confidence
        )
    }
}

/// A corrected text.
#[pyclass(module = "typofix", frozen, eq, get_all)]
#[derive(PartialEq)]
struct Fix {
    text: String,
    edits: Vec<Edit>,
    /// Where the time budget ran out (an index into the input): from there
    /// on the text was not checked and is as it was. None: all was checked.
    unchecked: Option<usize>,
}

#[pymethods]
impl Fix {
    #[new]
    #[pyo3(signature = (text, edits, unchecked=None))]
    fn new(text: String, edits: Vec<Edit>, unchecked: Option<usize>) -> Fix {
        Fix {
            text,
            edits,
            unchecked,
        }
    }

    #[getter]
    fn changed(&self) -> bool {
        !self.edits.is_empty()
    }

    fn __getnewargs__(&self) -> (String, Vec<Edit>, Option<usize>) {
        (self.text.clone(), self.edits.clone(), self.unchecked)
    }

    fn __repr__(&self) -> String {
        let edits: Vec<String> = self.edits.iter().map(Edit::__repr__).collect();
        format!(
            "Fix(text={:?}, edits=[{}], unchecked={})",
            self.text,
            edits.join(", "),
            self.unchecked
                .map_or_else(|| "None".to_string(), |at| at.to_string())
        )
    }
}

impl Fix {
    /// `fix` of `input`, with its byte offsets turned into code points.
    fn of(input: &str, fix: typofix::Fix) -> Fix {
        let mut offsets = Offsets::new(input, Unit::CodePoint);
        let edits = fix
            .edits
            .into_iter()
            .map(|e| Edit {
                start: offsets.at(e.start),
                end: offsets.at(e.end),
                original: e.original,
                replacement: e.replacement,
                kind: e.kind.name(),
                confidence: e.confidence,
            })
            .collect();
        Fix {
            text: fix.text,
            edits,
            unchecked: fix.unchecked.map(|at| offsets.at(at)),
        }
    }
}

/// A typo corrector. `Corrector()` is the model built into typofix;
/// `Corrector.load(path)` reads one made by `typofix model package`.
///
/// One corrector can be shared by many threads: it holds no state between
/// calls, and it releases the GIL while it works.
#[pyclass(module = "typofix", frozen)]
struct Corrector {
    inner: Arc<typofix::Corrector>,
    /// The directory it was loaded from; None for the built-in model.
    path: Option<PathBuf>,
}

#[pymethods]
impl Corrector {
    #[new]
    fn builtin(py: Python<'_>) -> PyResult<Corrector> {
        let inner = run(py, typofix::Corrector::builtin)?;
        Ok(Corrector {
            inner: Arc::new(inner),
            path: None,
        })
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Corrector> {
        let inner = run(py, || typofix::Corrector::load(&path))?;
        Ok(Corrector {
            inner: Arc::new(inner),
            path: Some(path),
        })
    }

    #[pyo3(signature = (text, *, threshold=None, allow=None, timeout=None))]
    fn fix(
        &self,
        py: Python<'_>,
        text: &str,
        threshold: Option<f64>,
        allow: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Fix> {
        let options = options(threshold, allow, timeout)?;
        let fix = run_model(py, || self.inner.fix_with(text, &options))?;
        Ok(Fix::of(text, fix))
    }

    /// Corrects several texts together, which is several times faster than
    /// one at a time: their sentences share the model's batches.
    #[pyo3(signature = (texts, *, threshold=None, allow=None, timeout=None))]
    fn fix_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        threshold: Option<f64>,
        allow: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Vec<Fix>> {
        let options = options(threshold, allow, timeout)?;
        let fixes = run_model(py, || {
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            self.inner.fix_batch(&texts, &options)
        })?;
        Ok(texts
            .iter()
            .zip(fixes)
            .map(|(text, fix)| Fix::of(text, fix))
            .collect())
    }

    /// The edits `fix` would make, without the corrected text.
    #[pyo3(signature = (text, *, threshold=None, allow=None, timeout=None))]
    fn check(
        &self,
        py: Python<'_>,
        text: &str,
        threshold: Option<f64>,
        allow: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Vec<Edit>> {
        Ok(self.fix(py, text, threshold, allow, timeout)?.edits)
    }

    /// Pickles as the way to make it again (the built-in model, or a load
    /// from the same path), so that a corrector can be sent to worker
    /// processes: each loads its own copy, in about a second.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let class = py.get_type::<Corrector>();
        match &slf.get().path {
            None => (class, ()).into_pyobject(py),
            Some(path) => (class.getattr("load")?, (path.clone(),)).into_pyobject(py),
        }
    }

    fn __repr__(&self) -> String {
        match &self.path {
            None => "Corrector()".to_string(),
            Some(path) => format!("Corrector.load({:?})", path.display().to_string()),
        }
    }
}

fn options(
    threshold: Option<f64>,
    allow: Option<&Bound<'_, PyAny>>,
    timeout: Option<f64>,
) -> PyResult<FixOptions> {
    if threshold.is_some_and(|t| !t.is_finite()) {
        return Err(PyValueError::new_err("threshold must be a finite number"));
    }
    let budget = match timeout {
        None => Budget::default(),
        Some(seconds) => Budget::within(Duration::try_from_secs_f64(seconds).map_err(|_| {
            PyValueError::new_err(format!(
                "timeout must be a number of seconds, zero or more (got {seconds})"
            ))
        })?),
    };
    Ok(FixOptions {
        threshold,
        budget,
        ..FixOptions::default()
    }
    .allow_words(allowed(allow)?))
}

/// The words of `allow`: any iterable of strings, but not one string,
/// whose letters would each become a word.
fn allowed(allow: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(allow) = allow else {
        return Ok(Vec::new());
    };
    if allow.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "allow takes a list of words, not one string: allow=[\"kubectl\"]",
        ));
    }
    allow.try_iter()?.map(|word| word?.extract()).collect()
}

#[pymodule(name = "typofix")]
mod module {
    #[pymodule_export]
    use super::{Corrector, Edit, Fix, TypofixError};

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
