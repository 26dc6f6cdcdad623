//! A context's MLS range, built in place on first use.
//!
//! `std::sync::OnceLock` would do, but its initializer returns the value,
//! and the 270-byte range was copied three times on its way into the cell:
//! that made a first `range()` cost as much again as the parse. This cell
//! is filled in place.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::mls::{Level, MlsRange};

const EMPTY: u8 = 0;
const BUSY: u8 = 1;
const READY: u8 = 2;

/// A range that is either filled (by the parser, or on first use) or empty.
pub(crate) struct LazyRange {
    state: AtomicU8,
    value: UnsafeCell<MlsRange>,
}

// SAFETY: `value` is written only by `&mut self` methods, or through `&self`
// by the one thread whose compare-exchange moved `state` from EMPTY to BUSY;
// it is read through `&self` only after `state` is seen READY with Acquire,
// which the writer stores with Release after its last write. A READY cell
// never goes back to BUSY through `&self`. So no read overlaps a write.
unsafe impl Sync for LazyRange {}

// A panic in a fill leaves the cell empty (see `fill_slow`), never half
// filled, so a cell seen after a caught panic holds a whole range or none.
impl std::panic::RefUnwindSafe for LazyRange {}

impl LazyRange {
    /// An empty cell.
    pub(crate) const fn new() -> LazyRange {
        LazyRange {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MlsRange::single(Level::s0())),
        }
    }

    /// A filled cell.
    pub(crate) fn filled(range: MlsRange) -> LazyRange {
        LazyRange {
            state: AtomicU8::new(READY),
            value: UnsafeCell::new(range),
        }
    }

    /// Empties the cell (a reused context block).
    #[inline]
    pub(crate) fn clear(&mut self) {
        *self.state.get_mut() = EMPTY;
    }

    /// The range, to be written in place; the cell counts as filled.
    #[inline]
    pub(crate) fn fill_mut(&mut self) -> &mut MlsRange {
        *self.state.get_mut() = READY;
        let value = self.value.get_mut();
        *value = MlsRange::single(Level::s0());
        value
    }

    /// The range, if filled.
    #[inline]
    pub(crate) fn get(&self) -> Option<&MlsRange> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY was seen with Acquire: see `Sync` above.
            Some(unsafe { &*self.value.get() })
        } else {
            None
        }
    }

    /// The range; `fill` writes it in place when the cell is empty. `fill`
    /// starts from the range `s0`.
    #[inline]
    pub(crate) fn get_or_fill(&self, fill: impl FnOnce(&mut MlsRange)) -> &MlsRange {
        match self.get() {
            Some(range) => range,
            None => self.fill_slow(fill),
        }
    }

    #[cold]
    #[inline(never)]
    fn fill_slow(&self, fill: impl FnOnce(&mut MlsRange)) -> &MlsRange {
        // Puts the cell back to EMPTY if `fill` panics, so other threads do
        // not wait for ever.
        struct Unbusy<'a>(&'a AtomicU8);
        impl Drop for Unbusy<'_> {
            fn drop(&mut self) {
                self.0.store(EMPTY, Ordering::Release);
            }
        }
        loop {
            match self
                .state
                .compare_exchange(EMPTY, BUSY, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    let guard = Unbusy(&self.state);
                    // SAFETY: this thread moved the cell to BUSY, so no other
                    // thread reads or writes `value` until READY.
                    let value = unsafe { &mut *self.value.get() };
                    *value = MlsRange::single(Level::s0());
                    fill(value);
                    std::mem::forget(guard);
                    self.state.store(READY, Ordering::Release);
                    // SAFETY: READY, stored by this thread.
                    return unsafe { &*self.value.get() };
                }
                Err(READY) => {
                    // SAFETY: READY was seen with Acquire.
                    return unsafe { &*self.value.get() };
                }
                // Another thread is filling it: a few hundred nanoseconds.
                Err(_) => std::thread::yield_now(),
            }
        }
    }
}

impl Clone for LazyRange {
    fn clone(&self) -> LazyRange {
        match self.get() {
            Some(range) => LazyRange::filled(*range),
            None => LazyRange::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_once_and_clears() {
        let mut cell = LazyRange::new();
        assert!(cell.get().is_none());
        let high: Level = "s0:c1".parse().expect("level");
        let got = *cell.get_or_fill(|r| r.high = high);
        assert_eq!(got.high(), &high);
        // Filled: a second fill is not run.
        cell.get_or_fill(|_| panic!("filled twice"));
        assert_eq!(cell.clone().get(), Some(&got));
        cell.clear();
        assert!(cell.get().is_none());
        assert!(cell.clone().get().is_none());
        assert_eq!(cell.fill_mut(), &MlsRange::single(Level::s0()));
        assert!(cell.get().is_some());
    }

    #[test]
    fn a_panicking_fill_leaves_the_cell_empty() {
        let cell = LazyRange::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cell.get_or_fill(|_| panic!("fill fails"));
        }));
        assert!(caught.is_err());
        assert!(cell.get().is_none());
        let level: Level = "s3".parse().expect("level");
        assert_eq!(cell.get_or_fill(|r| r.low = level).low(), &level);
    }

    #[test]
    fn threads_racing_to_fill_see_one_value() {
        for _ in 0..200 {
            let cell = LazyRange::new();
            let fills = AtomicU8::new(0);
            let wide: Level = "s0:c0.c1023".parse().expect("level");
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        let r = cell.get_or_fill(|r| {
                            fills.fetch_add(1, Ordering::Relaxed);
                            r.high = wide;
                        });
                        assert_eq!(r.high().categories().len(), 1024);
                    });
                }
            });
            assert_eq!(fills.load(Ordering::Relaxed), 1);
        }
    }
}
