//! Runnable examples of `selinux-mcs`: `cargo run -p selinux-mcs-examples --example NAME`.
