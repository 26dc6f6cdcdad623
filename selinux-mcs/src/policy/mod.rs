//! Policy files: `/etc/selinux/config`, container contexts, file_contexts, setrans.conf.
