/* Parse a context, give a temporary directory that container's private
 * label (podman's :Z), and print what the relabel did.
 *   cc relabel_tmp.c $(pkg-config --cflags --libs selinux-mcs) -o relabel_tmp */
#define _XOPEN_SOURCE 700
#include <selinux_mcs.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TRY(call)                                                                  \
    do {                                                                           \
        if ((call) != SELINUX_MCS_OK) {                                            \
            fprintf(stderr, "%s: %s\n", #call, selinux_mcs_last_error());          \
            return 1;                                                              \
        }                                                                          \
    } while (0)

int main(void) {
    /* Any category order in, the kernel's canonical text out. */
    selinux_mcs_context *ctx;
    TRY(selinux_mcs_context_parse("system_u:system_r:container_t:s0:c641,c186", &ctx));
    printf("%s: type %s, level %s\n", selinux_mcs_context_str(ctx),
           selinux_mcs_context_type(ctx), selinux_mcs_context_range(ctx));

    char dir[] = "/tmp/relabel-example.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 1;
    selinux_mcs_relabel *relabel;
    selinux_mcs_report *report;
    char *label;
    TRY(selinux_mcs_relabel_new_private(selinux_mcs_context_range(ctx), &relabel));
    TRY(selinux_mcs_relabel_run(relabel, dir, &report));
    TRY(selinux_mcs_label_get(dir, &label));
    printf("%s: %s (changed %llu, failed %llu)\n", dir, label,
           (unsigned long long)selinux_mcs_report_changed(report),
           (unsigned long long)selinux_mcs_report_failed(report));

    selinux_mcs_string_free(label);
    selinux_mcs_report_free(report);
    selinux_mcs_relabel_free(relabel);
    selinux_mcs_context_free(ctx);
    rmdir(dir);
    return 0;
}
