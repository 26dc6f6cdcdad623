//! MCS category pairs: `PairSpace`, the in-memory `Allocator` and the persistent `Registry`.
