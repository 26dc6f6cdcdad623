//! The registry's writer lock: an `flock(2)` on `<db>-lock`, taken around
//! each write transaction.
//!
//! SQLite alone would be correct: its own lock serializes writers and the
//! busy handler makes the others poll. But polling hands the lock over late
//! (a waiter notices the release only when its sleep ends), and with four
//! processes allocating at once that halved throughput in our benchmark. A
//! process blocked in `flock` is woken by the kernel the moment the holder
//! lets go. The lock is released by the kernel when its holder dies, even by
//! SIGKILL.
//!
//! A blocking `flock` has no timeout, so a contended wait runs in a helper
//! thread and the caller gives up after [`WAIT`]: a stopped or hung holder
//! yields an error, never a hang.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rustix::fs::{flock, FlockOperation};

use super::McsError;

/// How long a writer waits for another to finish.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub(crate) struct WriteLock {
    file: Arc<File>,
    path: PathBuf,
}

/// Holds the lock until dropped.
#[derive(Debug)]
pub(crate) struct Held<'a>(&'a WriteLock);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // Unlocking an flock we hold cannot fail in a way we could act on;
        // closing the file would release it anyway.
        let _ = flock(&*self.0.file, FlockOperation::Unlock);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Acquired,
    Failed(rustix::io::Errno),
    Abandoned,
}

impl WriteLock {
    /// Opens (creating if needed) `<db>-lock` next to the database; refuses
    /// anything but a regular file there (`O_NONBLOCK`, so never blocks).
    pub(crate) fn open(db: &Path) -> Result<WriteLock, McsError> {
        let mut path = db.as_os_str().to_owned();
        path.push("-lock");
        let path = PathBuf::from(path);
        let io_err = |call, source| McsError::Io {
            path: path.clone(),
            call,
            source,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path)
            .map_err(|e| io_err("open", e))?;
        let meta = file.metadata().map_err(|e| io_err("fstat", e))?;
        if !meta.is_file() {
            let found = crate::policy::describe(&meta);
            return Err(io_err(
                "open",
                io::Error::other(format!("{found}, not a regular file")),
            ));
        }
        Ok(WriteLock {
            file: Arc::new(file),
            path,
        })
    }

    fn io_err(&self, e: rustix::io::Errno) -> McsError {
        McsError::Io {
            path: self.path.clone(),
            call: "flock",
            source: io::Error::from(e),
        }
    }

    /// Takes the lock: at once when free (`flock(LOCK_EX | LOCK_NB)`), else
    /// waits up to `wait` for a helper thread's blocking `flock(LOCK_EX)`.
    pub(crate) fn lock(&self, wait: Duration) -> Result<Held<'_>, McsError> {
        match flock(&*self.file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(Held(self)),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(self.io_err(e)),
        }
        let shared = Arc::new((Mutex::new(State::Waiting), Condvar::new()));
        let (file, theirs) = (Arc::clone(&self.file), Arc::clone(&shared));
        std::thread::Builder::new()
            .name("selinux-mcs-lock".into())
            .spawn(move || {
                let got = loop {
                    match flock(&*file, FlockOperation::LockExclusive) {
                        Err(e) if e == rustix::io::Errno::INTR => continue,
                        other => break other,
                    }
                };
                let (state, cv) = &*theirs;
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                match (got, *state) {
                    // The caller gave up: let go at once.
                    (Ok(()), State::Abandoned) => {
                        let _ = flock(&*file, FlockOperation::Unlock);
                    }
                    (Ok(()), _) => *state = State::Acquired,
                    (Err(e), _) => *state = State::Failed(e),
                }
                cv.notify_one();
            })
            .map_err(|source| McsError::Io {
                path: self.path.clone(),
                call: "pthread_create",
                source,
            })?;
        let (state, cv) = &*shared;
        let guard = state.lock().unwrap_or_else(|p| p.into_inner());
        let (mut state, _) = cv
            .wait_timeout_while(guard, wait, |s| *s == State::Waiting)
            .unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Acquired => Ok(Held(self)),
            State::Failed(e) => Err(self.io_err(e)),
            State::Waiting | State::Abandoned => {
                *state = State::Abandoned;
                Err(McsError::Busy {
                    path: self.path.clone(),
                    waited: wait,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_makes_others_wait_then_time_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("mcs.db");
        let a = WriteLock::open(&db).expect("open");
        let b = WriteLock::open(&db).expect("open");
        let held = a.lock(WAIT).expect("free");
        let err = b.lock(Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, McsError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("mcs.db-lock"), "{err}");
        drop(held);
        // The abandoned helper thread may hold it for a moment: wait for it.
        let again = b.lock(WAIT).expect("released");
        drop(again);
        // Handed over while waiting.
        let held = a.lock(WAIT).expect("free");
        let t = std::thread::spawn(move || b.lock(WAIT).map(drop).is_ok());
        std::thread::sleep(Duration::from_millis(20));
        drop(held);
        assert!(t.join().expect("join"));
    }
}
