//! MCS category pairs: `PairSpace`, the in-memory `Allocator` and the persistent `Registry`.

mod decide;
pub use decide::{decide, ConstrainedTypes, Decision, Permission, Reason};
