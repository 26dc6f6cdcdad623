#!/usr/bin/env python3
"""Writes the test fixture etc/selinux/default/contexts/files/file_contexts.

Laid out like Debian's selinux-policy-default (refpolicy compiled by
semodule): generic rules first, more specific later, so that "the last
matching rule wins" picks the most specific. The rules are written for the
tests: a hand-written core (system directories, container storage, rules
that exercise every part of the winning-rule semantics) and per-service
blocks generated from a list of daemons, as refpolicy modules add them.

    python3 tests/data/policy/gen_file_contexts.py > \
        tests/data/policy/etc/selinux/default/contexts/files/file_contexts
"""

S = "system_u:object_r:{}:s0"

CORE_GENERIC = [
    ("/.*", None, "default_t"),
    ("/[^/]+", "--", "etc_runtime_t"),
    ("/a?quota\\.(user|group)", "--", "quota_db_t"),
    ("/sys(/.*)?", None, "sysfs_t"),
    ("/proc(/.*)?", None, None),
    ("/mnt(/[^/]*)", "-l", "mnt_t"),
    ("/mnt(/[^/]*)?", "-d", "mnt_t"),
    ("/dev/.*", None, "device_t"),
    ("/etc/.*", None, "etc_t"),
    ("/opt/.*", None, "usr_t"),
    ("/run/.*", None, None),
    ("/srv/.*", None, "var_t"),
    ("/tmp/.*", None, None),
    ("/usr/.*", None, "usr_t"),
    ("/var/.*", None, "var_t"),
    ("/opt/.*\\.so", None, "lib_t"),
    ("/usr/.*\\.cgi", "--", "httpd_sys_script_exec_t"),
    ("/dev/[0-9].*", "-c", "usb_device_t"),
    ("/mnt/[^/]*/.*", None, None),
    ("/usr/(.*/)?man", "-d", "man_t"),
    ("/dev/.*tty[^/]*", "-c", "tty_device_t"),
    ("/usr/(.*/)?man/.*", None, "man_t"),
    ("/dev/(misc/)?psaux", "-c", "mouse_device_t"),
    ("/usr/(.*/)?lib(/.*)?", None, "lib_t"),
    ("/usr/(.*/)?bin(/.*)?", None, "bin_t"),
    ("/usr/(.*/)?sbin(/.*)?", None, "bin_t"),
    ("/usr/(.*/)?doc(/.*)?", None, "usr_t"),
    ("/usr/lib/.*\\.so(\\.[^/]*)*", "--", "lib_t"),
    ("/usr/lib/.*\\.so\\.[0-9]+", "--", "lib_t"),
    ("/usr/share/.*\\.so(\\.[^/]*)*", "--", "lib_t"),
]

CORE_SPECIFIC = [
    ("/", "-d", "root_t"),
    ("/bin", None, "bin_t"),
    ("/boot(/.*)?", None, "boot_t"),
    ("/dev", "-d", "device_t"),
    ("/etc", "-d", "etc_t"),
    ("/home", "-d", "home_root_t"),
    ("/home/[^/]+", "-d", "user_home_dir_t"),
    ("/lib", None, "lib_t"),
    ("/lib64", None, "lib_t"),
    ("/lost\\+found", "-d", "lost_found_t"),
    ("/lost\\+found/.*", None, None),
    ("/media(/[^/]*)?", "-d", "mnt_t"),
    ("/opt", "-d", "usr_t"),
    ("/root(/.*)?", None, "admin_home_t"),
    ("/run", "-d", "var_run_t"),
    ("/run", "-l", "var_run_t"),
    ("/sbin", None, "bin_t"),
    ("/srv", "-d", "var_t"),
    ("/tmp", "-d", "tmp_t"),
    ("/tmp/\\.X11-unix(/.*)?", None, "xserver_tmp_t"),
    ("/usr", "-d", "usr_t"),
    ("/usr/bin(/.*)?", None, "bin_t"),
    ("/usr/sbin(/.*)?", None, "bin_t"),
    ("/usr/lib(/.*)?", None, "lib_t"),
    ("/usr/lib/ld-[^/]*\\.so(\\.[^/]*)*", "--", "ld_so_t"),
    ("/usr/lib/systemd/system(/.*)?", None, "systemd_unit_t"),
    ("/usr/lib/systemd/systemd", "--", "init_exec_t"),
    ("/usr/share(/.*)?", None, "usr_t"),
    ("/usr/share/doc(/.*)?", None, "usr_t"),
    ("/usr/src(/.*)?", None, "src_t"),
    ("/var", "-d", "var_t"),
    ("/var/cache(/.*)?", None, "var_t"),
    ("/var/lib(/.*)?", None, "var_lib_t"),
    ("/var/lock", "-l", "var_lock_t"),
    ("/var/log(/.*)?", None, "var_log_t"),
    ("/var/log/lastlog", "--", "lastlog_t"),
    ("/var/log/wtmp.*", "--", "wtmp_t"),
    ("/var/run", "-l", "var_run_t"),
    ("/var/spool(/.*)?", None, "var_spool_t"),
    ("/var/tmp", "-d", "tmp_t"),
    ("/var/tmp/.*", None, None),
    ("/var/tmp/vi\\.recover", "-d", "tmp_t"),
    ("/etc/shadow.*", "--", "shadow_t"),
    ("/etc/gshadow.*", "--", "shadow_t"),
    ("/etc/passwd[-\\+]?", "--", "passwd_file_t"),
    ("/etc/group[-\\+]?", "--", "passwd_file_t"),
    ("/etc/ld\\.so\\.cache", "--", "ld_so_cache_t"),
    ("/etc/ld\\.so\\.preload", "--", "ld_so_cache_t"),
    ("/etc/resolv\\.conf.*", "--", "net_conf_t"),
    ("/etc/hosts", "--", "net_conf_t"),
    ("/etc/hosts\\.deny.*", "--", "etc_t"),
    ("/etc/machine-id", "--", "machineid_t"),
    ("/etc/localtime", None, "locale_t"),
    ("/etc/selinux(/.*)?", None, "selinux_config_t"),
    ("/etc/selinux/([^/]*/)?contexts(/.*)?", None, "default_context_t"),
    ("/etc/selinux/([^/]*/)?contexts/files(/.*)?", None, "file_context_t"),
    ("/etc/selinux/([^/]*/)?policy(/.*)?", None, "policy_config_t"),
    ("/etc/selinux/([^/]*/)?setrans\\.conf", "--", "selinux_config_t"),
    ("/etc/ssh/primes", "--", "etc_t"),
    ("/etc/ssh/ssh_host.*_key", "--", "sshd_key_t"),
    ("/etc/ssh/ssh_host.*_key\\.pub", "--", "etc_t"),
    ("/dev/null", "-c", "null_device_t"),
    ("/dev/zero", "-c", "zero_device_t"),
    ("/dev/full", "-c", "null_device_t"),
    ("/dev/random", "-c", "random_device_t"),
    ("/dev/urandom", "-c", "urandom_device_t"),
    ("/dev/console", "-c", "console_device_t"),
    ("/dev/kmsg", "-c", "kmsg_device_t"),
    ("/dev/tty", "-c", "devtty_t"),
    ("/dev/tty[0-9]*", "-c", "tty_device_t"),
    ("/dev/pts(/.*)?", None, None),
    ("/dev/ptmx", "-c", "ptmx_t"),
    ("/dev/shm(/.*)?", None, None),
    ("/dev/hugepages", "-d", "hugetlbfs_t"),
    ("/dev/mqueue(/.*)?", None, None),
    ("/dev/[shmxv]d[^/]*", "-b", "fixed_disk_device_t"),
    ("/dev/nvme.*", "-b", "fixed_disk_device_t"),
    ("/dev/nvme.*", "-c", "fixed_disk_device_t"),
    ("/dev/loop[0-9]*", "-b", "fixed_disk_device_t"),
    ("/dev/log", "-s", "devlog_t"),
    ("/dev/initctl", "-p", "initctl_t"),
    ("/dev/fuse", "-c", "fuse_device_t"),
    ("/dev/kvm", "-c", "kvm_device_t"),
    ("/dev/net/tun", "-c", "tun_tap_device_t"),
    ("/run/initctl", "-p", "initctl_t"),
    ("/run/systemd/journal/socket", "-s", "devlog_t"),
    ("/run/systemd/journal/dev-log", "-s", "devlog_t"),
    ("/run/utmp", "--", "initrc_runtime_t"),
    ("/run/lock(/.*)?", None, "var_lock_t"),
    ("/run/user(/.*)?", None, None),
    ("/run/user", "-d", "user_runtime_root_t"),
    # container storage and engines (container-selinux's container.fc)
    ("/var/lib/containers(/.*)?", None, "container_var_lib_t"),
    ("/var/lib/containers/storage/overlay(/.*)?", None, "container_ro_file_t"),
    ("/var/lib/containers/storage/overlay-images(/.*)?", None, "container_ro_file_t"),
    ("/var/lib/containers/storage/overlay-layers(/.*)?", None, "container_ro_file_t"),
    ("/var/lib/containers/storage/volumes/[^/]*/.*", None, "container_file_t"),
    ("/var/lib/containers/storage/overlay2?(/.*)?", "-d", "container_ro_file_t"),
    ("/var/lib/docker(/.*)?", None, "container_var_lib_t"),
    ("/var/lib/docker/.*/config\\.env", "--", "container_ro_file_t"),
    ("/var/lib/docker/containers/.*/hosts", "--", "container_ro_file_t"),
    ("/var/lib/docker/overlay2?(/.*)?", None, "container_ro_file_t"),
    ("/var/lib/docker/volumes/[^/]*/_data(/.*)?", None, "container_file_t"),
    ("/var/lib/kubelet(/.*)?", None, "container_var_lib_t"),
    ("/var/lib/kubelet/pods(/.*)?", None, "container_file_t"),
    ("/var/log/containers(/.*)?", None, "container_log_t"),
    ("/var/log/pods(/.*)?", None, "container_log_t"),
    ("/run/containers(/.*)?", None, "container_var_run_t"),
    ("/run/docker(/.*)?", None, "container_var_run_t"),
    ("/run/docker\\.sock", "-s", "container_var_run_t"),
    ("/run/podman(/.*)?", None, "container_var_run_t"),
    ("/run/crun(/.*)?", None, "container_var_run_t"),
    ("/run/runc(/.*)?", None, "container_var_run_t"),
    ("/usr/bin/podman", "--", "container_runtime_exec_t"),
    ("/usr/bin/docker.*", "--", "container_runtime_exec_t"),
    ("/usr/bin/containerd.*", "--", "container_runtime_exec_t"),
    ("/usr/bin/crun", "--", "container_runtime_exec_t"),
    ("/usr/bin/runc", "--", "container_runtime_exec_t"),
    ("/usr/sbin/runc", "--", "container_runtime_exec_t"),
    ("/usr/bin/buildah", "--", "container_runtime_exec_t"),
    ("/usr/bin/conmon", "--", "conmon_exec_t"),
    ("/usr/libexec/podman/conmon", "--", "conmon_exec_t"),
    ("/usr/lib/systemd/system/docker.*", "--", "container_unit_file_t"),
    ("/usr/lib/systemd/system/podman.*", "--", "container_unit_file_t"),
    ("/etc/containers(/.*)?", None, "container_config_t"),
    ("/etc/docker(/.*)?", None, "container_config_t"),
    ("/srv/containers(/.*)?", None, "container_file_t"),
    ("/home/[^/]+/\\.local/share/containers(/.*)?", None, "container_home_t"),
    ("/home/[^/]+/\\.local/share/containers/storage/overlay(/.*)?", None, "container_ro_file_t"),
    ("/home/[^/]+/\\.local/share/containers/storage/volumes/[^/]*/.*", None, "container_file_t"),
    ("/var/lib/libvirt(/.*)?", None, "virt_var_lib_t"),
    ("/var/lib/libvirt/images(/.*)?", None, "virt_image_t"),
]

# (name, has_conf_dir, has_lib, has_log, has_run, binary_dir)
SERVICES = """
acpid apache2 atd auditd avahi-daemon bind chronyd cron cups dbus dhcpd
dnsmasq exim4 fail2ban haproxy ifupdown irqbalance keepalived lighttpd
lldpd memcached mysqld named nginx nscd ntpd openvpn postfix postgresql
rabbitmq redis rsyncd rsyslogd samba saslauthd slapd smartd snmpd squid
sshd sssd stunnel tftpd tor unbound varnishd vsftpd zabbix
""".split()


def typename(svc):
    return svc.replace("-", "_").replace("2", "").rstrip("d") or svc


def main():
    out = []
    emit = lambda regex, kind, t: out.append(
        "\t".join([regex] + ([kind] if kind else []) + [S.format(t) if t else "<<none>>"])
    )
    for r in CORE_GENERIC:
        emit(*r)
    for svc in SERVICES:
        t = typename(svc)
        esc = svc.replace(".", "\\.").replace("+", "\\+")
        emit(f"/etc/{esc}(/.*)?", None, f"{t}_conf_t")
        emit(f"/etc/rc\\.d/init\\.d/{esc}", "--", f"{t}_initrc_exec_t")
        emit(f"/usr/sbin/{esc}", "--", f"{t}_exec_t")
        emit(f"/usr/lib/systemd/system/{esc}.*", "--", f"{t}_unit_t")
        emit(f"/var/lib/{esc}(/.*)?", None, f"{t}_var_lib_t")
        emit(f"/var/log/{esc}(/.*)?", None, f"{t}_log_t")
        emit(f"/var/log/{esc}\\.log.*", "--", f"{t}_log_t")
        emit(f"/run/{esc}(/.*)?", None, f"{t}_runtime_t")
        emit(f"/run/{esc}\\.pid", "--", f"{t}_runtime_t")
        emit(f"/var/cache/{esc}(/.*)?", None, f"{t}_cache_t")
    for r in CORE_SPECIFIC:
        emit(*r)
    print("\n".join(out))


main()
