//! A work budget per call, so that one hostile text cannot hold a thread:
//! a deadline, or a most number of model inputs. When it runs out, the
//! corrector stops looking and returns what it has checked so far, with
//! [`Fix::unchecked`](super::Fix::unchecked) saying where it stopped.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::Error;

/// How much work one call may do; the default is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    /// No model input starts after this instant.
    pub deadline: Option<Instant>,
    /// Most inputs (sequences) run through the model.
    pub max_inputs: Option<u64>,
}

impl Budget {
    /// A deadline `time` from now.
    pub fn within(time: Duration) -> Budget {
        Budget {
            deadline: Instant::now().checked_add(time),
            max_inputs: None,
        }
    }

    /// At most `inputs` model inputs.
    pub fn inputs(inputs: u64) -> Budget {
        Budget {
            deadline: None,
            max_inputs: Some(inputs),
        }
    }
}

/// Why a stage stopped: the budget ran out, or something failed.
#[derive(Debug)]
pub(super) enum Halt {
    Spent,
    Failed(Error),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Halt {
        Halt::Failed(e)
    }
}

impl From<candle_core::Error> for Halt {
    fn from(e: candle_core::Error) -> Halt {
        Halt::Failed(e.into())
    }
}

/// A budget being spent, within one call.
pub(super) struct Meter {
    budget: Budget,
    used: Cell<u64>,
    /// When the first batch was charged: the time since, over the inputs
    /// charged, is what an input costs here, with the work around the model.
    began: Cell<Option<Instant>>,
}

impl Meter {
    pub fn new(budget: Budget) -> Meter {
        Meter {
            budget,
            used: Cell::new(0),
            began: Cell::new(None),
        }
    }

    /// Asks for `inputs` more model inputs: a batch runs whole or not at
    /// all, so the model never runs past the limit. Against a deadline, a
    /// batch that would end after it (at the pace so far) does not start:
    /// a batch of long inputs takes most of a second on a small machine.
    pub fn charge(&self, inputs: usize) -> Result<(), Halt> {
        let used = self.used.get() + inputs as u64;
        if self.budget.max_inputs.is_some_and(|most| used > most) {
            return Err(Halt::Spent);
        }
        if let Some(deadline) = self.budget.deadline {
            let now = Instant::now();
            let began = self.began.get().unwrap_or(now);
            self.began.set(Some(began));
            let done = self.used.get();
            let pace = (now - began)
                .checked_div(done.max(1) as u32)
                .unwrap_or_default();
            if now + pace * inputs as u32 >= deadline {
                return Err(Halt::Spent);
            }
        }
        self.used.set(used);
        Ok(())
    }

    /// Model inputs run so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_refuses_the_batch_that_would_pass_the_limit() {
        let meter = Meter::new(Budget::inputs(10));
        assert!(meter.charge(6).is_ok());
        assert!(matches!(meter.charge(5), Err(Halt::Spent)));
        assert!(meter.charge(4).is_ok(), "a smaller batch still fits");
        assert_eq!(meter.used(), 10);
    }

    #[test]
    fn a_meter_refuses_a_batch_that_would_end_after_the_deadline() {
        let meter = Meter::new(Budget::within(Duration::from_secs(1)));
        assert!(meter.charge(10).is_ok(), "no pace known yet");
        std::thread::sleep(Duration::from_millis(100));
        // 10 ms an input: 10 more end before the deadline, 100 would not.
        assert!(matches!(meter.charge(100), Err(Halt::Spent)));
        assert!(meter.charge(10).is_ok());
    }

    #[test]
    fn a_meter_refuses_everything_after_the_deadline() {
        let meter = Meter::new(Budget::within(Duration::ZERO));
        assert!(matches!(meter.charge(1), Err(Halt::Spent)));
        assert!(Meter::new(Budget::default()).charge(usize::MAX / 2).is_ok());
    }
}
