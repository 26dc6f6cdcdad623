//! Explanations of contexts and MCS access decisions.
