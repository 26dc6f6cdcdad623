/* C tests of libselinux_mcs labels: read and write security.selinux, relabel
 * trees, reports. Everything labeled lives in a mkdtemp() directory.
 *
 * Without security.selinux xattrs on that filesystem the test skips (exit
 * 77), unless SELINUX_MCS_REQUIRE_XATTR=1, when it fails. The part that
 * needs a read-only tmpfs mounted inside the tree skips when mounting is
 * not permitted. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define FILE_T "system_u:object_r:container_file_t"

static char dir[] = "/tmp/selinux-mcs-c-label.XXXXXX";

static char *path_in_dir(const char *name) {
    char *p = NULL;
    assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void touch(const char *path) {
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert(fd >= 0);
    assert(write(fd, "x", 1) == 1);
    assert(close(fd) == 0);
}

/* The label of `path` (the caller frees it), or NULL when it has none. */
static char *label_of(const char *path) {
    char *ctx = SENTINEL;
    int rc = selinux_mcs_label_get(path, &ctx);
    if (rc == SELINUX_MCS_ERR_IO && selinux_mcs_last_errno() == ENODATA) {
        assert(ctx == NULL);
        return NULL;
    }
    CHECK_OK(rc);
    return ctx;
}

static void check_label(const char *path, const char *expected) {
    char *ctx = label_of(path);
    CHECK_STR(ctx, expected);
    selinux_mcs_string_free(ctx);
}

/* Whether this filesystem takes security.selinux labels. */
static bool xattrs_work(void) {
    char *probe = path_in_dir(".probe");
    touch(probe);
    int rc = selinux_mcs_label_set(probe, "system_u:object_r:probe_t:s0");
    int err = selinux_mcs_last_errno();
    assert(unlink(probe) == 0);
    free(probe);
    if (rc == SELINUX_MCS_OK) {
        return true;
    }
    const char *required = getenv("SELINUX_MCS_REQUIRE_XATTR");
    fprintf(stderr, "test_label: %s has no security.selinux xattrs: %s\n", dir,
            selinux_mcs_last_error());
    assert(rc == SELINUX_MCS_ERR_IO && (err == ENOTSUP || err == EOPNOTSUPP));
    assert(required == NULL || strcmp(required, "1") != 0);
    return false;
}

static void test_get_set(void) {
    char *file = path_in_dir("file");
    char *link = path_in_dir("link");
    char *missing = path_in_dir("missing");
    touch(file);
    assert(symlink("file", link) == 0);

    /* A fresh file has no label, unless SELinux labels it on creation. */
    if (access("/sys/fs/selinux/enforce", F_OK) != 0) {
        char *ctx = SENTINEL;
        CHECK_ERR(selinux_mcs_label_get(file, &ctx), SELINUX_MCS_ERR_IO, "no label");
        assert(selinux_mcs_last_errno() == ENODATA);
        assert(ctx == NULL);
    }

    /* Written canonically, with the NUL libselinux writes. */
    CHECK_OK(selinux_mcs_label_set(file, FILE_T ":s0:c5,c2"));
    check_label(file, FILE_T ":s0:c2,c5");
    char raw[128] = {0};
    ssize_t n = lgetxattr(file, "security.selinux", raw, sizeof raw);
    assert(n == (ssize_t)strlen(FILE_T ":s0:c2,c5") + 1);
    assert(raw[n - 1] == '\0');

    /* A symlink is labeled itself, never followed. */
    CHECK_OK(selinux_mcs_label_set(link, FILE_T ":s0:c7,c8"));
    check_label(link, FILE_T ":s0:c7,c8");
    check_label(file, FILE_T ":s0:c2,c5");

    /* A bad context writes nothing. */
    CHECK_ERR(selinux_mcs_label_set(file, FILE_T ":s0:c2.c1"), SELINUX_MCS_ERR_PARSE, "c2.c1");
    check_label(file, FILE_T ":s0:c2,c5");
    CHECK_ERR(selinux_mcs_label_set(file, "\xfe"), SELINUX_MCS_ERR_UTF8, "`context`");

    /* A stored label that does not parse: the error keeps the raw text. */
    const char garbage[] = "not a context";
    assert(lsetxattr(file, "security.selinux", garbage, sizeof garbage, 0) == 0);
    char *ctx = SENTINEL;
    CHECK_ERR(selinux_mcs_label_get(file, &ctx), SELINUX_MCS_ERR_PARSE, "\"not a context");
    assert(ctx == NULL);

    /* Missing files. */
    CHECK_ERR(selinux_mcs_label_get(missing, &ctx), SELINUX_MCS_ERR_IO, "lgetxattr");
    assert(selinux_mcs_last_errno() == ENOENT);
    CHECK_ERR(selinux_mcs_label_set(missing, FILE_T ":s0"), SELINUX_MCS_ERR_IO, "lsetxattr");
    assert(selinux_mcs_last_errno() == ENOENT);

    /* NULL pointers. */
    ctx = SENTINEL;
    CHECK_ERR(selinux_mcs_label_get(NULL, &ctx), SELINUX_MCS_ERR_NULL, "`path`");
    assert(ctx == NULL);
    CHECK_ERR(selinux_mcs_label_get(file, NULL), SELINUX_MCS_ERR_NULL, "`context_out`");
    CHECK_ERR(selinux_mcs_label_set(NULL, FILE_T ":s0"), SELINUX_MCS_ERR_NULL, "`path`");
    CHECK_ERR(selinux_mcs_label_set(file, NULL), SELINUX_MCS_ERR_NULL, "`context`");

    assert(unlink(link) == 0);
    assert(unlink(file) == 0);
    free(file);
    free(link);
    free(missing);
}

struct tree {
    char *root, *a, *sub, *b, *escape;
};

/* root/{a, sub/{b, escape -> /etc/passwd}} */
static struct tree make_tree(void) {
    struct tree t;
    t.root = path_in_dir("tree");
    assert(asprintf(&t.a, "%s/a", t.root) > 0);
    assert(asprintf(&t.sub, "%s/sub", t.root) > 0);
    assert(asprintf(&t.b, "%s/b", t.sub) > 0);
    assert(asprintf(&t.escape, "%s/escape", t.sub) > 0);
    assert(mkdir(t.root, 0755) == 0);
    assert(mkdir(t.sub, 0755) == 0);
    touch(t.a);
    touch(t.b);
    assert(symlink("/etc/passwd", t.escape) == 0);
    return t;
}

static void free_tree(struct tree *t) {
    free(t->root);
    free(t->a);
    free(t->sub);
    free(t->b);
    free(t->escape);
}

static void check_counts(const selinux_mcs_report *r, uint64_t visited, uint64_t changed,
                         uint64_t unchanged, uint64_t failed) {
    if (selinux_mcs_report_visited(r) != visited || selinux_mcs_report_changed(r) != changed ||
        selinux_mcs_report_unchanged(r) != unchanged || selinux_mcs_report_failed(r) != failed) {
        char *json = NULL;
        CHECK_OK(selinux_mcs_report_json(r, &json));
        fprintf(stderr, "report %s, expected visited %llu changed %llu unchanged %llu failed %llu\n",
                json, (unsigned long long)visited, (unsigned long long)changed,
                (unsigned long long)unchanged, (unsigned long long)failed);
        selinux_mcs_string_free(json);
    }
    assert(selinux_mcs_report_visited(r) == visited);
    assert(selinux_mcs_report_changed(r) == changed);
    assert(selinux_mcs_report_unchanged(r) == unchanged);
    assert(selinux_mcs_report_failed(r) == failed);
    assert(selinux_mcs_last_error() == NULL);
}

static void test_relabel(void) {
    struct tree t = make_tree();
    char *passwd_before = label_of("/etc/passwd");

    /* Private (:Z), two threads. */
    selinux_mcs_relabel *rl = SENTINEL;
    CHECK_OK(selinux_mcs_relabel_new_private("s0:c2,c1", &rl));
    assert(rl != NULL && rl != SENTINEL);
    CHECK_OK(selinux_mcs_relabel_set_threads(rl, 2));
    selinux_mcs_report *report = SENTINEL;
    CHECK_OK(selinux_mcs_relabel_run(rl, t.root, &report));
    assert(report != NULL && report != SENTINEL);
    check_counts(report, 5, 5, 0, 0);
    assert(!selinux_mcs_report_stopped(report));
    assert(selinux_mcs_report_failures_len(report) == 0);
    const char *fpath = SENTINEL;
    CHECK_ERR(selinux_mcs_report_failure(report, 0, &fpath, NULL, NULL), SELINUX_MCS_ERR_INVALID,
              "index 0 is out of range");
    assert(fpath == SENTINEL);
    char *json = SENTINEL;
    CHECK_OK(selinux_mcs_report_json(report, &json));
    CHECK_STR(json, "{\"visited\":5,\"changed\":5,\"unchanged\":0,\"failed\":0,\"failures\":[],"
                    "\"skipped_mounts\":0,\"mount_points\":[],\"hardlinked\":0,\"hardlinks\":[],"
                    "\"customized\":0,\"customized_paths\":[]}");
    selinux_mcs_string_free(json);
    selinux_mcs_report_free(report);
    const char *all[] = {t.root, t.a, t.sub, t.b, t.escape};
    for (size_t i = 0; i < 5; i++) {
        check_label(all[i], FILE_T ":s0:c1,c2");
    }
    /* The symlink was labeled, not followed. */
    char *passwd_after = label_of("/etc/passwd");
    assert((passwd_before == NULL) == (passwd_after == NULL));
    if (passwd_before != NULL) {
        CHECK_STR(passwd_after, passwd_before);
    }
    selinux_mcs_string_free(passwd_after);

    /* Again: nothing to write. */
    CHECK_OK(selinux_mcs_relabel_run(rl, t.root, &report));
    check_counts(report, 5, 0, 5, 0);
    selinux_mcs_report_free(report);
    selinux_mcs_relabel_free(rl);

    /* Shared (:z) as a dry run: counted, not written. */
    CHECK_OK(selinux_mcs_relabel_new_shared(&rl));
    CHECK_OK(selinux_mcs_relabel_set_dry_run(rl, true));
    CHECK_OK(selinux_mcs_relabel_run(rl, t.root, &report));
    check_counts(report, 5, 5, 0, 0);
    selinux_mcs_report_free(report);
    check_label(t.b, FILE_T ":s0:c1,c2");
    /* Shared with another file context, for real, one thread. */
    CHECK_OK(selinux_mcs_relabel_set_dry_run(rl, false));
    CHECK_OK(selinux_mcs_relabel_set_threads(rl, 1));
    CHECK_OK(selinux_mcs_relabel_set_file_context(rl, "system_u:object_r:svirt_sandbox_file_t:s0:c9"));
    CHECK_ERR(selinux_mcs_relabel_set_file_context(rl, "system_u:object_r"), SELINUX_MCS_ERR_PARSE,
              "system_u:object_r");
    CHECK_OK(selinux_mcs_relabel_run(rl, t.root, &report));
    check_counts(report, 5, 5, 0, 0);
    selinux_mcs_report_free(report);
    check_label(t.b, "system_u:object_r:svirt_sandbox_file_t:s0");
    selinux_mcs_relabel_free(rl);

    /* An exact context, excluding sub/: only the root and a. */
    CHECK_OK(selinux_mcs_relabel_new_context(FILE_T ":s0:c3,c4", &rl));
    CHECK_OK(selinux_mcs_relabel_add_exclude(rl, t.sub));
    CHECK_OK(selinux_mcs_relabel_set_one_file_system(rl, true));
    CHECK_OK(selinux_mcs_relabel_set_force(rl, false));
    CHECK_OK(selinux_mcs_relabel_set_stop_on_first_error(rl, false));
    CHECK_OK(selinux_mcs_relabel_set_max_failures(rl, 100));
    CHECK_OK(selinux_mcs_relabel_run(rl, t.root, &report));
    check_counts(report, 2, 2, 0, 0);
    selinux_mcs_report_free(report);
    check_label(t.a, FILE_T ":s0:c3,c4");
    check_label(t.b, "system_u:object_r:svirt_sandbox_file_t:s0");

    /* A symlink root is followed by default (a is already labeled), and
     * labeled itself, alone, without dereferencing. */
    char *rootlink = path_in_dir("rootlink");
    assert(symlink("tree/a", rootlink) == 0);
    CHECK_OK(selinux_mcs_relabel_set_max_failures(rl, 100));
    CHECK_OK(selinux_mcs_relabel_run(rl, rootlink, &report));
    check_counts(report, 1, 0, 1, 0);
    selinux_mcs_report_free(report);
    CHECK_OK(selinux_mcs_relabel_set_dereference(rl, false));
    CHECK_OK(selinux_mcs_relabel_set_skip_hardlinks(rl, false));
    CHECK_OK(selinux_mcs_relabel_run(rl, rootlink, &report));
    check_counts(report, 1, 1, 0, 0);
    selinux_mcs_report_free(report);
    check_label(rootlink, FILE_T ":s0:c3,c4");
    assert(unlink(rootlink) == 0);
    free(rootlink);
    /* A symlink root that resolves to a protected path is refused. */
    report = SENTINEL;
    CHECK_ERR(selinux_mcs_relabel_run(rl, t.escape, &report), SELINUX_MCS_ERR_PROTECTED, "/etc/passwd");
    assert(report == NULL);
    check_label(t.escape, "system_u:object_r:svirt_sandbox_file_t:s0");
    selinux_mcs_relabel_free(rl);

    /* Protected roots are refused before anything is read (dry runs, so
     * that even a broken check could write nothing). */
    CHECK_OK(selinux_mcs_relabel_new_shared(&rl));
    CHECK_OK(selinux_mcs_relabel_set_dry_run(rl, true));
    const char *protected_roots[] = {"/", "/usr", "/usr//", "/etc/../usr", "/var/lib", "/tmp"};
    for (size_t i = 0; i < sizeof protected_roots / sizeof protected_roots[0]; i++) {
        report = SENTINEL;
        CHECK_ERR(selinux_mcs_relabel_run(rl, protected_roots[i], &report), SELINUX_MCS_ERR_PROTECTED, NULL);
        assert(report == NULL);
    }
    CHECK_ERR(selinux_mcs_relabel_run(rl, "/usr/share", &report), SELINUX_MCS_ERR_PROTECTED,
              "without force");
    /* A missing root. */
    char *missing = path_in_dir("missing");
    CHECK_ERR(selinux_mcs_relabel_run(rl, missing, &report), SELINUX_MCS_ERR_IO, "missing");
    assert(selinux_mcs_last_errno() == ENOENT);
    free(missing);

    /* NULL pointers and bad input, function by function. */
    CHECK_ERR(selinux_mcs_relabel_run(NULL, t.root, &report), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_run(rl, NULL, &report), SELINUX_MCS_ERR_NULL, "`path`");
    CHECK_ERR(selinux_mcs_relabel_run(rl, t.root, NULL), SELINUX_MCS_ERR_NULL, "`report_out`");
    CHECK_ERR(selinux_mcs_relabel_set_dry_run(NULL, true), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_threads(NULL, 1), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_one_file_system(NULL, true), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_force(NULL, true), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_stop_on_first_error(NULL, true), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_max_failures(NULL, 1), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_file_context(NULL, FILE_T ":s0"), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_set_file_context(rl, NULL), SELINUX_MCS_ERR_NULL, "`context`");
    CHECK_ERR(selinux_mcs_relabel_add_exclude(NULL, "/x"), SELINUX_MCS_ERR_NULL, "`relabel`");
    CHECK_ERR(selinux_mcs_relabel_add_exclude(rl, NULL), SELINUX_MCS_ERR_NULL, "`path`");
    selinux_mcs_relabel_free(rl);
    selinux_mcs_relabel_free(NULL);

    selinux_mcs_relabel *none = SENTINEL;
    CHECK_ERR(selinux_mcs_relabel_new_context("bad", &none), SELINUX_MCS_ERR_PARSE, "\"bad\"");
    assert(none == NULL);
    none = SENTINEL;
    CHECK_ERR(selinux_mcs_relabel_new_context(NULL, &none), SELINUX_MCS_ERR_NULL, "`context`");
    assert(none == NULL);
    CHECK_ERR(selinux_mcs_relabel_new_context(FILE_T ":s0", NULL), SELINUX_MCS_ERR_NULL, "`out`");
    none = SENTINEL;
    CHECK_ERR(selinux_mcs_relabel_new_private("s0:c1.c0", &none), SELINUX_MCS_ERR_PARSE, "c1.c0");
    assert(none == NULL);
    CHECK_ERR(selinux_mcs_relabel_new_private(NULL, &none), SELINUX_MCS_ERR_NULL, "`level`");
    CHECK_ERR(selinux_mcs_relabel_new_private("s0", NULL), SELINUX_MCS_ERR_NULL, "`out`");
    CHECK_ERR(selinux_mcs_relabel_new_shared(NULL), SELINUX_MCS_ERR_NULL, "`out`");

    /* Report accessors with a NULL report. */
    assert(selinux_mcs_report_visited(NULL) == 0);
    CHECK_CONTAINS(selinux_mcs_last_error(), "`report` is NULL");
    assert(selinux_mcs_report_changed(NULL) == 0);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_report_unchanged(NULL) == 0);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_report_failed(NULL) == 0);
    assert(selinux_mcs_last_error() != NULL);
    assert(!selinux_mcs_report_stopped(NULL));
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_report_failures_len(NULL) == 0);
    assert(selinux_mcs_last_error() != NULL);
    CHECK_ERR(selinux_mcs_report_failure(NULL, 0, NULL, NULL, NULL), SELINUX_MCS_ERR_NULL, "`report`");
    json = SENTINEL;
    CHECK_ERR(selinux_mcs_report_json(NULL, &json), SELINUX_MCS_ERR_NULL, "`report`");
    assert(json == NULL);
    selinux_mcs_report_free(NULL);

    selinux_mcs_string_free(passwd_before);
    free_tree(&t);
}

/* Failures inside a tree: a read-only tmpfs mounted at sub/ro. */
static void test_failures(void) {
    char *root = path_in_dir("failing");
    char *file = path_in_dir("failing/file");
    char *ro = path_in_dir("failing/ro");
    assert(mkdir(root, 0755) == 0);
    assert(mkdir(ro, 0755) == 0);
    touch(file);
    if (mount("none", ro, "tmpfs", MS_RDONLY, NULL) != 0) {
        fprintf(stderr, "test_label: skipping failures: cannot mount a tmpfs (%s)\n", strerror(errno));
        assert(rmdir(ro) == 0);
        assert(unlink(file) == 0);
        assert(rmdir(root) == 0);
        free(root);
        free(file);
        free(ro);
        return;
    }

    selinux_mcs_relabel *rl = NULL;
    selinux_mcs_report *report = NULL;
    CHECK_OK(selinux_mcs_relabel_new_private("s0:c5,c6", &rl));
    CHECK_OK(selinux_mcs_relabel_set_threads(rl, 1));

    /* One filesystem (the default): the mount point is left alone. */
    CHECK_OK(selinux_mcs_relabel_run(rl, root, &report));
    check_counts(report, 2, 2, 0, 0);
    selinux_mcs_report_free(report);

    /* Into the read-only mount: its root fails with EROFS, recorded. */
    CHECK_OK(selinux_mcs_relabel_set_one_file_system(rl, false));
    CHECK_OK(selinux_mcs_relabel_run(rl, root, &report));
    check_counts(report, 3, 0, 2, 1);
    assert(!selinux_mcs_report_stopped(report));
    assert(selinux_mcs_report_failures_len(report) == 1);
    const char *fpath = NULL, *message = NULL;
    int err = 0;
    CHECK_OK(selinux_mcs_report_failure(report, 0, &fpath, &message, &err));
    CHECK_STR(fpath, ro);
    CHECK_CONTAINS(message, "read-only");
    assert(err == EROFS);
    CHECK_OK(selinux_mcs_report_failure(report, 0, NULL, NULL, NULL));
    char *json = NULL;
    CHECK_OK(selinux_mcs_report_json(report, &json));
    CHECK_CONTAINS(json, "\"failed\":1,\"failures\":[{\"path\":\"");
    CHECK_CONTAINS(json, "failing/ro\",\"error\":\"");
    selinux_mcs_string_free(json);
    selinux_mcs_report_free(report);

    /* Failures beyond the maximum are counted, not kept. */
    CHECK_OK(selinux_mcs_relabel_set_max_failures(rl, 0));
    CHECK_OK(selinux_mcs_relabel_run(rl, root, &report));
    assert(selinux_mcs_report_failed(report) == 1);
    assert(selinux_mcs_report_failures_len(report) == 0);
    selinux_mcs_report_free(report);

    /* Stop at the first failure: the root is left as it was. */
    CHECK_OK(selinux_mcs_relabel_set_stop_on_first_error(rl, true));
    CHECK_OK(selinux_mcs_relabel_set_force(rl, true));
    CHECK_OK(selinux_mcs_relabel_run(rl, root, &report));
    assert(selinux_mcs_report_stopped(report));
    assert(selinux_mcs_report_failed(report) == 1);
    selinux_mcs_report_free(report);
    selinux_mcs_relabel_free(rl);

    assert(umount(ro) == 0);
    assert(rmdir(ro) == 0);
    assert(unlink(file) == 0);
    assert(rmdir(root) == 0);
    free(root);
    free(file);
    free(ro);
}

int main(void) {
    assert(mkdtemp(dir) != NULL);
    bool ok = xattrs_work();
    if (ok) {
        test_get_set();
        test_relabel();
        test_failures();
    }
    char *cmd = NULL;
    assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    assert(system(cmd) == 0);
    free(cmd);
    if (!ok) {
        printf("test_label: skipped (no security.selinux xattrs)\n");
        return 77;
    }
    printf("test_label: ok\n");
    return 0;
}
