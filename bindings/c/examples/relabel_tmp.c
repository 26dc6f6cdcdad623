/* Parse a context, then give a temporary directory a container's private
 * label (podman's :Z) and print what the relabel did.
 *
 *   cc relabel_tmp.c $(pkg-config --cflags --libs selinux-mcs) -o relabel_tmp
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <selinux_mcs.h>

static int fail(const char *what, int rc) {
    fprintf(stderr, "%s: %s (%d)\n", what, selinux_mcs_last_error(), rc);
    return 1;
}

int main(void) {
    selinux_mcs_context *ctx = NULL;
    int rc = selinux_mcs_context_parse("system_u:system_r:container_t:s0:c641,c186", &ctx);
    if (rc != SELINUX_MCS_OK)
        return fail("parse", rc);
    printf("canonical: %s\ntype:      %s\nlevel:     %s\n", selinux_mcs_context_str(ctx),
           selinux_mcs_context_type(ctx), selinux_mcs_context_range(ctx));

    char dir[] = "/tmp/relabel-example.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    char file[64];
    snprintf(file, sizeof file, "%s/data", dir);
    FILE *f = fopen(file, "w");
    if (f == NULL)
        return 1;
    fclose(f);

    /* The directory and everything in it get the process's pair. */
    selinux_mcs_relabel *relabel = NULL;
    selinux_mcs_report *report = NULL;
    rc = selinux_mcs_relabel_new_private(selinux_mcs_context_range(ctx), &relabel);
    if (rc == SELINUX_MCS_OK)
        rc = selinux_mcs_relabel_run(relabel, dir, &report);
    if (rc != SELINUX_MCS_OK)
        return fail("relabel", rc);
    printf("visited %llu, changed %llu, failed %llu\n",
           (unsigned long long)selinux_mcs_report_visited(report),
           (unsigned long long)selinux_mcs_report_changed(report),
           (unsigned long long)selinux_mcs_report_failed(report));
    for (size_t i = 0; i < selinux_mcs_report_failures_len(report); i++) {
        const char *path, *message;
        selinux_mcs_report_failure(report, i, &path, &message, NULL);
        fprintf(stderr, "  %s: %s\n", path, message);
    }

    char *label = NULL;
    if (selinux_mcs_label_get(file, &label) == SELINUX_MCS_OK)
        printf("%s: %s\n", file, label);
    int failed = selinux_mcs_report_failed(report) != 0;

    selinux_mcs_string_free(label);
    selinux_mcs_report_free(report);
    selinux_mcs_relabel_free(relabel);
    selinux_mcs_context_free(ctx);
    unlink(file);
    rmdir(dir);
    return failed;
}
