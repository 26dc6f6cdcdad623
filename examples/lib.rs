//! Runnable examples of `selinux-mcs`:
//!
//! ```sh
//! cargo run -p selinux-mcs-examples --example explain -- system_u:system_r:svirt_lxc_net_t:s0:c641,c186
//! cargo run -p selinux-mcs-examples --example container_labels
//! cargo run -p selinux-mcs-examples --example relabel_volume
//! cargo run -p selinux-mcs-examples --example check_access -- \
//!     system_u:system_r:container_t:s0:c1,c2 system_u:object_r:container_file_t:s0:c1,c3
//! ```
//!
//! Every example that writes labels or a registry does so only inside a
//! temporary directory it creates and removes.
