/* C tests of libselinux_mcs's view of the running kernel: process
 * attributes, pid and peer labels, the mode and the policy's numbers.
 *
 * With SELinux off (the project's hosts) every such call must return
 * SELINUX_MCS_ERR_DISABLED with a message saying how we can tell, and
 * leave its out-parameters NULL. With SELinux on, the answers must match
 * /proc. Bad arguments are refused first either way. The behaviour on a
 * real SELinux kernel is checked by tests/vm (check 6). */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#define CTX "system_u:system_r:container_t:s0:c1,c2"
#define DISABLED "SELinux is not enabled"

/* Bad arguments: refused before the kernel is asked, SELinux or not. */
static void test_bad_arguments(void) {
    char *out = SENTINEL;
    uint16_t idx;
    uint32_t bit;

    CHECK_ERR(selinux_mcs_thread_attr_get(SELINUX_MCS_ATTR_EXEC, NULL), SELINUX_MCS_ERR_NULL,
              "context_out");
    CHECK_ERR(selinux_mcs_thread_attr_get(6, &out), SELINUX_MCS_ERR_INVALID, "attr 6");
    assert(out == NULL);
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_thread_attr_get(-1, &out), SELINUX_MCS_ERR_INVALID, "attr -1");
    assert(out == NULL);
    CHECK_ERR(selinux_mcs_thread_attr_set(42, NULL), SELINUX_MCS_ERR_INVALID, "attr 42");
    CHECK_ERR(selinux_mcs_thread_attr_set(SELINUX_MCS_ATTR_PREV, CTX), SELINUX_MCS_ERR_INVALID,
              "read only");
    CHECK_ERR(selinux_mcs_thread_attr_set(SELINUX_MCS_ATTR_CURRENT, NULL),
              SELINUX_MCS_ERR_INVALID, "cannot be cleared");
    CHECK_ERR(selinux_mcs_thread_attr_set(SELINUX_MCS_ATTR_EXEC, "u:r:t:s0:c5.c1"),
              SELINUX_MCS_ERR_PARSE, "c5.c1");
    CHECK_ERR(selinux_mcs_thread_attr_set(SELINUX_MCS_ATTR_EXEC, "\xff"), SELINUX_MCS_ERR_UTF8,
              "context");
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_pid_attr_get(0, SELINUX_MCS_ATTR_CURRENT, &out),
              SELINUX_MCS_ERR_INVALID, "not a process id");
    assert(out == NULL);
    CHECK_ERR(selinux_mcs_pid_attr_get(1, 9, &out), SELINUX_MCS_ERR_INVALID, "attr 9");
    CHECK_ERR(selinux_mcs_pid_attr_get(1, SELINUX_MCS_ATTR_CURRENT, NULL), SELINUX_MCS_ERR_NULL,
              "context_out");
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_peer_label(-1, &out), SELINUX_MCS_ERR_INVALID, "not a file descriptor");
    assert(out == NULL);
    CHECK_ERR(selinux_mcs_peer_label(0, NULL), SELINUX_MCS_ERR_NULL, "context_out");
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_fd_label(-5, &out), SELINUX_MCS_ERR_INVALID, "-5");
    assert(out == NULL);
    CHECK_ERR(selinux_mcs_enforce_mode(NULL), SELINUX_MCS_ERR_NULL, "enforcing_out");
    CHECK_ERR(selinux_mcs_set_enforce_mode(2), SELINUX_MCS_ERR_INVALID, "enforcing is 2");
    CHECK_ERR(selinux_mcs_mls_enabled(NULL), SELINUX_MCS_ERR_NULL, "enabled_out");
    CHECK_ERR(selinux_mcs_policy_version(NULL), SELINUX_MCS_ERR_NULL, "version_out");
    CHECK_ERR(selinux_mcs_class_index(NULL, &idx), SELINUX_MCS_ERR_NULL, "class");
    CHECK_ERR(selinux_mcs_class_index("file", NULL), SELINUX_MCS_ERR_NULL, "index_out");
    CHECK_ERR(selinux_mcs_class_index("../x", &idx), SELINUX_MCS_ERR_INVALID, "not a class name");
    CHECK_ERR(selinux_mcs_permission_bit("file", NULL, &bit), SELINUX_MCS_ERR_NULL, "perm");
    CHECK_ERR(selinux_mcs_permission_bit("file", "..", &bit), SELINUX_MCS_ERR_INVALID,
              "not a permission name");
    CHECK_ERR(selinux_mcs_permission_bit("file", "read", NULL), SELINUX_MCS_ERR_NULL, "bit_out");
    CHECK_ERR(selinux_mcs_check_context(NULL), SELINUX_MCS_ERR_NULL, "context");
    CHECK_ERR(selinux_mcs_canonicalize_context(CTX, NULL), SELINUX_MCS_ERR_NULL, "canonical_out");
    CHECK_ERR(selinux_mcs_compute_create(CTX, "bad", "file", &out), SELINUX_MCS_ERR_PARSE, "bad");
    CHECK_ERR(selinux_mcs_compute_create(CTX, CTX, NULL, &out), SELINUX_MCS_ERR_NULL, "class");
    CHECK_ERR(selinux_mcs_selinuxfs_mount(NULL), SELINUX_MCS_ERR_NULL, "mount_out");
}

/* SELinux off: every kernel call says so, in one line, out-parameters NULL. */
static void test_disabled(void) {
    int sv[2];
    assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int fd = open("/proc/self/status", O_RDONLY);
    assert(fd >= 0);
    char *out = SENTINEL;
    int n = -7;
    unsigned v = 7;
    uint16_t idx = 7;
    uint32_t bit = 7;

    assert(selinux_mcs_selinux_enabled() == 0);
    assert(selinux_mcs_last_error() == NULL);
    CHECK_ERR(selinux_mcs_selinuxfs_mount(&out), SELINUX_MCS_ERR_DISABLED, DISABLED);
    assert(out == NULL);
    assert(strchr(selinux_mcs_last_error(), '\n') == NULL);
    CHECK_STR(selinux_mcs_strerror(SELINUX_MCS_ERR_DISABLED), DISABLED);

    for (int attr = SELINUX_MCS_ATTR_CURRENT; attr <= SELINUX_MCS_ATTR_PREV; attr++) {
        out = SENTINEL;
        CHECK_ERR(selinux_mcs_thread_attr_get(attr, &out), SELINUX_MCS_ERR_DISABLED, DISABLED);
        assert(out == NULL);
        out = SENTINEL;
        CHECK_ERR(selinux_mcs_pid_attr_get(getpid(), attr, &out), SELINUX_MCS_ERR_DISABLED,
                  DISABLED);
        assert(out == NULL);
        assert(selinux_mcs_last_errno() == 0);
    }
    CHECK_ERR(selinux_mcs_thread_attr_get(SELINUX_MCS_ATTR_EXEC, &out), SELINUX_MCS_ERR_DISABLED,
              "/proc/thread-self/attr/exec");
    for (int attr = SELINUX_MCS_ATTR_EXEC; attr <= SELINUX_MCS_ATTR_SOCKCREATE; attr++) {
        CHECK_ERR(selinux_mcs_thread_attr_set(attr, CTX), SELINUX_MCS_ERR_DISABLED, DISABLED);
        CHECK_ERR(selinux_mcs_thread_attr_set(attr, NULL), SELINUX_MCS_ERR_DISABLED, DISABLED);
    }
    CHECK_ERR(selinux_mcs_thread_attr_set(SELINUX_MCS_ATTR_CURRENT, CTX),
              SELINUX_MCS_ERR_DISABLED, DISABLED);
    CHECK_ERR(selinux_mcs_pid_attr_get(2147483647, SELINUX_MCS_ATTR_CURRENT, &out),
              SELINUX_MCS_ERR_DISABLED, "/proc/2147483647/attr/current");
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_peer_label(sv[0], &out), SELINUX_MCS_ERR_DISABLED, "SO_PEERSEC");
    assert(out == NULL);
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_fd_label(fd, &out), SELINUX_MCS_ERR_DISABLED, DISABLED);
    assert(out == NULL);
    CHECK_ERR(selinux_mcs_enforce_mode(&n), SELINUX_MCS_ERR_DISABLED, "/sys/fs/selinux/enforce");
    assert(n == -7);
    CHECK_ERR(selinux_mcs_set_enforce_mode(1), SELINUX_MCS_ERR_DISABLED, DISABLED);
    CHECK_ERR(selinux_mcs_mls_enabled(&n), SELINUX_MCS_ERR_DISABLED, DISABLED);
    CHECK_ERR(selinux_mcs_policy_version(&v), SELINUX_MCS_ERR_DISABLED, DISABLED);
    CHECK_ERR(selinux_mcs_class_index("file", &idx), SELINUX_MCS_ERR_DISABLED,
              "/sys/fs/selinux/class/file/index");
    CHECK_ERR(selinux_mcs_permission_bit("file", "read", &bit), SELINUX_MCS_ERR_DISABLED,
              DISABLED);
    assert(n == -7 && v == 7 && idx == 7 && bit == 7);
    CHECK_ERR(selinux_mcs_check_context(CTX), SELINUX_MCS_ERR_DISABLED, DISABLED);
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_canonicalize_context(CTX, &out), SELINUX_MCS_ERR_DISABLED, DISABLED);
    assert(out == NULL);
    out = SENTINEL;
    CHECK_ERR(selinux_mcs_compute_create(CTX, CTX, "file", &out), SELINUX_MCS_ERR_DISABLED,
              DISABLED);
    assert(out == NULL);
    close(fd);
    close(sv[0]);
    close(sv[1]);
}

/* Reads /proc/self/attr/current without the library. */
static char *raw_current(void) {
    static char buf[4096];
    int fd = open("/proc/self/attr/current", O_RDONLY);
    assert(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    assert(n > 0);
    close(fd);
    buf[n] = '\0';
    return buf;
}

/* SELinux on: the answers match /proc. */
static void test_enabled(void) {
    char *mount = NULL;
    CHECK_OK(selinux_mcs_selinuxfs_mount(&mount));
    selinux_mcs_string_free(mount);
    char *cur = NULL;
    CHECK_OK(selinux_mcs_thread_attr_get(SELINUX_MCS_ATTR_CURRENT, &cur));
    CHECK_STR(cur, raw_current());
    char *pid = NULL;
    CHECK_OK(selinux_mcs_pid_attr_get(getpid(), SELINUX_MCS_ATTR_CURRENT, &pid));
    CHECK_STR(pid, cur);
    char *exec = SENTINEL;
    CHECK_OK(selinux_mcs_thread_attr_get(SELINUX_MCS_ATTR_EXEC, &exec));
    assert(exec == NULL);
    int sv[2];
    assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    char *peer = NULL;
    CHECK_OK(selinux_mcs_peer_label(sv[0], &peer));
    CHECK_STR(peer, cur);
    int enforcing = -1;
    CHECK_OK(selinux_mcs_enforce_mode(&enforcing));
    assert(enforcing == 0 || enforcing == 1);
    uint16_t idx = 0;
    CHECK_OK(selinux_mcs_class_index("file", &idx));
    assert(idx > 0);
    selinux_mcs_string_free(peer);
    selinux_mcs_string_free(pid);
    selinux_mcs_string_free(cur);
    close(sv[0]);
    close(sv[1]);
}

int main(void) {
    test_bad_arguments();
    if (selinux_mcs_selinux_enabled()) {
        test_enabled();
    } else {
        test_disabled();
    }
    printf("test_process: ok\n");
    return 0;
}
