//! Labels on files: the `security.selinux` xattr, the relabel walker, protected paths.
