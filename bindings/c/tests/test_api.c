/* C tests of libselinux_mcs without labels: status codes and errors,
 * contexts, levels, explanations, MCS decisions, the pair registry.
 * Every function is called with good input, bad input and NULL pointers.
 * Files (the registry, a setrans.conf) live in a mkdtemp() directory. */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

static char dir[] = "/tmp/selinux-mcs-c-api.XXXXXX";

static char *path_in_dir(const char *name) {
    char *p = NULL;
    assert(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert(f != NULL);
    assert(fputs(text, f) >= 0);
    assert(fclose(f) == 0);
}

static void test_version_and_errors(void) {
    const char *v = selinux_mcs_version();
    unsigned major, minor, patch;
    assert(v != NULL);
    assert(sscanf(v, "%u.%u.%u", &major, &minor, &patch) == 3);

    /* Nothing failed yet on this thread. */
    assert(selinux_mcs_last_error() == NULL);
    assert(selinux_mcs_last_errno() == 0);

    const int codes[] = {
        SELINUX_MCS_OK,        SELINUX_MCS_ERR_NULL,      SELINUX_MCS_ERR_UTF8,
        SELINUX_MCS_ERR_PARSE, SELINUX_MCS_ERR_INVALID,   SELINUX_MCS_ERR_IO,
        SELINUX_MCS_ERR_PROTECTED, SELINUX_MCS_ERR_EXHAUSTED, SELINUX_MCS_ERR_TAKEN,
        SELINUX_MCS_ERR_REGISTRY, SELINUX_MCS_ERR_POLICY, SELINUX_MCS_ERR_PANIC,
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = selinux_mcs_strerror(codes[i]);
        assert(s != NULL && strlen(s) > 0);
        assert(strcmp(s, "unknown status code") != 0);
    }
    CHECK_STR(selinux_mcs_strerror(SELINUX_MCS_OK), "success");
    CHECK_STR(selinux_mcs_strerror(12345), "unknown status code");
    CHECK_STR(selinux_mcs_strerror(-12345), "unknown status code");

    /* The message survives selinux_mcs_strerror() and the free functions,
     * and the next call clears it. */
    CHECK_ERR(selinux_mcs_context_parse(NULL, NULL), SELINUX_MCS_ERR_NULL, "NULL");
    selinux_mcs_strerror(SELINUX_MCS_ERR_NULL);
    selinux_mcs_string_free(NULL);
    assert(selinux_mcs_last_error() != NULL);
    char *canonical = NULL;
    CHECK_OK(selinux_mcs_level_canonical("s0", &canonical));
    selinux_mcs_string_free(canonical);
}

static void test_context(void) {
    selinux_mcs_context *ctx = SENTINEL;
    CHECK_OK(selinux_mcs_context_parse("system_u:system_r:svirt_lxc_net_t:s0:c641,c186", &ctx));
    assert(ctx != NULL && ctx != SENTINEL);
    CHECK_STR(selinux_mcs_context_str(ctx), "system_u:system_r:svirt_lxc_net_t:s0:c186,c641");
    CHECK_STR(selinux_mcs_context_user(ctx), "system_u");
    CHECK_STR(selinux_mcs_context_role(ctx), "system_r");
    CHECK_STR(selinux_mcs_context_type(ctx), "svirt_lxc_net_t");
    CHECK_STR(selinux_mcs_context_range(ctx), "s0:c186,c641");
    CHECK_STR(selinux_mcs_context_low(ctx), "s0:c186,c641");
    CHECK_STR(selinux_mcs_context_high(ctx), "s0:c186,c641");
    assert(selinux_mcs_last_error() == NULL);

    /* A copy at another range; the original is unchanged. */
    selinux_mcs_context *wide = SENTINEL;
    CHECK_OK(selinux_mcs_context_with_range(ctx, "s0-s0:c0.c1023", &wide));
    CHECK_STR(selinux_mcs_context_str(wide), "system_u:system_r:svirt_lxc_net_t:s0-s0:c0.c1023");
    CHECK_STR(selinux_mcs_context_range(wide), "s0-s0:c0.c1023");
    CHECK_STR(selinux_mcs_context_low(wide), "s0");
    CHECK_STR(selinux_mcs_context_high(wide), "s0:c0.c1023");
    CHECK_STR(selinux_mcs_context_str(ctx), "system_u:system_r:svirt_lxc_net_t:s0:c186,c641");
    /* s0-s0 prints s0. */
    selinux_mcs_context *single = NULL;
    CHECK_OK(selinux_mcs_context_with_range(wide, "s0-s0", &single));
    CHECK_STR(selinux_mcs_context_str(single), "system_u:system_r:svirt_lxc_net_t:s0");
    selinux_mcs_context_free(single);

    /* with_range: a high level that does not dominate the low one. */
    selinux_mcs_context *bad = SENTINEL;
    CHECK_ERR(selinux_mcs_context_with_range(ctx, "s0:c1-s0", &bad), SELINUX_MCS_ERR_PARSE,
              "\"s0:c1-s0\"");
    assert(bad == NULL);
    bad = SENTINEL;
    CHECK_ERR(selinux_mcs_context_with_range(NULL, "s0", &bad), SELINUX_MCS_ERR_NULL, "`context`");
    assert(bad == NULL);
    CHECK_ERR(selinux_mcs_context_with_range(ctx, NULL, &bad), SELINUX_MCS_ERR_NULL, "`range`");
    CHECK_ERR(selinux_mcs_context_with_range(ctx, "s0", NULL), SELINUX_MCS_ERR_NULL, "`out`");
    selinux_mcs_context_free(wide);
    selinux_mcs_context_free(ctx);

    /* No MLS field: no range, no levels, and that is not an error. */
    CHECK_OK(selinux_mcs_context_parse("system_u:object_r:etc_t", &ctx));
    CHECK_STR(selinux_mcs_context_str(ctx), "system_u:object_r:etc_t");
    assert(selinux_mcs_context_range(ctx) == NULL);
    assert(selinux_mcs_last_error() == NULL);
    assert(selinux_mcs_context_low(ctx) == NULL);
    assert(selinux_mcs_context_high(ctx) == NULL);
    assert(selinux_mcs_last_error() == NULL);
    selinux_mcs_context_free(ctx);

    /* Bad text: the error names the text and the byte offset; out is NULL. */
    ctx = SENTINEL;
    CHECK_ERR(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0:c5.c1", &ctx),
              SELINUX_MCS_ERR_PARSE,
              "category range c5.c1 at byte 38: the first category must be lower than the second");
    assert(ctx == NULL);
    CHECK_ERR(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0:c5.c1", &ctx),
              SELINUX_MCS_ERR_PARSE, "bad context \"system_u:object_r:container_file_t:s0:c5.c1\"");
    CHECK_ERR(selinux_mcs_context_parse("", &ctx), SELINUX_MCS_ERR_PARSE, NULL);
    CHECK_ERR(selinux_mcs_context_parse("user:role", &ctx), SELINUX_MCS_ERR_PARSE, NULL);
    CHECK_ERR(selinux_mcs_context_parse("u:r:t:s0-", &ctx), SELINUX_MCS_ERR_PARSE, NULL);
    CHECK_ERR(selinux_mcs_context_parse("u:r:t:s0:c01", &ctx), SELINUX_MCS_ERR_PARSE, NULL);
    CHECK_ERR(selinux_mcs_context_parse("u:r:t:s0:c1024", &ctx), SELINUX_MCS_ERR_PARSE, NULL);
    assert(ctx == NULL);
    /* Not UTF-8: the offset of the bad byte. */
    CHECK_ERR(selinux_mcs_context_parse("system_u:object_r:\xff_t:s0", &ctx), SELINUX_MCS_ERR_UTF8,
              "offset 18");
    assert(ctx == NULL);

    /* NULL pointers. */
    CHECK_ERR(selinux_mcs_context_parse(NULL, &ctx), SELINUX_MCS_ERR_NULL, "`text`");
    CHECK_ERR(selinux_mcs_context_parse("u:r:t:s0", NULL), SELINUX_MCS_ERR_NULL, "`out`");
    assert(selinux_mcs_context_str(NULL) == NULL);
    CHECK_CONTAINS(selinux_mcs_last_error(), "`context` is NULL");
    assert(selinux_mcs_context_user(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_context_role(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_context_type(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_context_range(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_context_low(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    assert(selinux_mcs_context_high(NULL) == NULL);
    assert(selinux_mcs_last_error() != NULL);
    selinux_mcs_context_free(NULL);
}

static void test_levels(void) {
    int order = 42;
    CHECK_OK(selinux_mcs_level_compare("s0:c1,c2", "s0:c1", &order));
    assert(order == SELINUX_MCS_LEVEL_DOMINATES);
    CHECK_OK(selinux_mcs_level_compare("s0", "s0:c1,c2", &order));
    assert(order == SELINUX_MCS_LEVEL_DOMINATED);
    CHECK_OK(selinux_mcs_level_compare("s0:c2,c1", "s0:c1,c2", &order));
    assert(order == SELINUX_MCS_LEVEL_EQUAL);
    CHECK_OK(selinux_mcs_level_compare("s0:c1", "s0:c2", &order));
    assert(order == SELINUX_MCS_LEVEL_INCOMPARABLE);
    CHECK_OK(selinux_mcs_level_compare("s2:c1", "s1:c1,c2", &order));
    assert(order == SELINUX_MCS_LEVEL_INCOMPARABLE);
    CHECK_OK(selinux_mcs_level_compare("s2:c0.c1023", "s1:c1,c2", &order));
    assert(order == SELINUX_MCS_LEVEL_DOMINATES);

    order = 42;
    CHECK_ERR(selinux_mcs_level_compare("s0:", "s0", &order), SELINUX_MCS_ERR_PARSE, "bad level \"s0:\"");
    CHECK_ERR(selinux_mcs_level_compare("s0", "s0:c5.c5", &order), SELINUX_MCS_ERR_PARSE, "c5.c5");
    CHECK_ERR(selinux_mcs_level_compare("s0", "\xc3(", &order), SELINUX_MCS_ERR_UTF8, "offset 0");
    assert(order == 42);
    CHECK_ERR(selinux_mcs_level_compare(NULL, "s0", &order), SELINUX_MCS_ERR_NULL, "`a`");
    CHECK_ERR(selinux_mcs_level_compare("s0", NULL, &order), SELINUX_MCS_ERR_NULL, "`b`");
    CHECK_ERR(selinux_mcs_level_compare("s0", "s0", NULL), SELINUX_MCS_ERR_NULL, "`result`");

    bool dom = false;
    CHECK_OK(selinux_mcs_level_dominates("s0:c1,c2", "s0", &dom));
    assert(dom);
    CHECK_OK(selinux_mcs_level_dominates("s0:c1,c2", "s0:c1,c2", &dom));
    assert(dom);
    CHECK_OK(selinux_mcs_level_dominates("s0:c1,c2", "s0:c3", &dom));
    assert(!dom);
    CHECK_OK(selinux_mcs_level_dominates("s0", "s0:c1", &dom));
    assert(!dom);
    CHECK_ERR(selinux_mcs_level_dominates("s0:c1,,c2", "s0", &dom), SELINUX_MCS_ERR_PARSE, "c1,,c2");
    CHECK_ERR(selinux_mcs_level_dominates(NULL, "s0", &dom), SELINUX_MCS_ERR_NULL, "`a`");
    CHECK_ERR(selinux_mcs_level_dominates("s0", NULL, &dom), SELINUX_MCS_ERR_NULL, "`b`");
    CHECK_ERR(selinux_mcs_level_dominates("s0", "s0", NULL), SELINUX_MCS_ERR_NULL, "`result`");

    char *text = SENTINEL;
    CHECK_OK(selinux_mcs_level_canonical("s0:c2,c0,c1", &text));
    CHECK_STR(text, "s0:c0.c2");
    selinux_mcs_string_free(text);
    CHECK_OK(selinux_mcs_level_canonical("s0:c5,c2", &text));
    CHECK_STR(text, "s0:c2,c5");
    selinux_mcs_string_free(text);
    CHECK_OK(selinux_mcs_level_canonical("s0:c0,c2,c3,c4,c6,c7", &text));
    CHECK_STR(text, "s0:c0,c2.c4,c6,c7");
    selinux_mcs_string_free(text);
    text = SENTINEL;
    CHECK_ERR(selinux_mcs_level_canonical("s0:c01", &text), SELINUX_MCS_ERR_PARSE, "c01");
    assert(text == NULL);
    text = SENTINEL;
    CHECK_ERR(selinux_mcs_level_canonical(NULL, &text), SELINUX_MCS_ERR_NULL, "`level`");
    assert(text == NULL);
    CHECK_ERR(selinux_mcs_level_canonical("s0", NULL), SELINUX_MCS_ERR_NULL, "`out`");
}

static void test_explain(void) {
    char *json = SENTINEL;
    CHECK_OK(selinux_mcs_explain_json("system_u:system_r:svirt_lxc_net_t:s0:c641,c186", NULL, &json));
    assert(json != NULL && json != SENTINEL);
    CHECK_CONTAINS(json, "\"context\":\"system_u:system_r:svirt_lxc_net_t:s0:c641,c186\"");
    CHECK_CONTAINS(json, "\"canonical\":\"system_u:system_r:svirt_lxc_net_t:s0:c186,c641\"");
    CHECK_CONTAINS(json, "\"user\":\"system_u\"");
    CHECK_CONTAINS(json, "\"role\":\"system_r\"");
    CHECK_CONTAINS(json, "\"type\":\"svirt_lxc_net_t\"");
    CHECK_CONTAINS(json, "\"range\":\"s0:c186,c641\"");
    CHECK_CONTAINS(json, "\"low\":{\"categories\":[\"c186\",\"c641\"],\"sensitivity\":\"s0\"}");
    CHECK_CONTAINS(json, "\"high\":{\"categories\":[\"c186\",\"c641\"],\"sensitivity\":\"s0\"}");
    CHECK_CONTAINS(json, "\"meaning\":\"");
    CHECK_CONTAINS(json, "\"translation\":null");
    assert(json[0] == '{' && json[strlen(json) - 1] == '}');
    selinux_mcs_string_free(json);

    /* No MLS field: null range and levels. */
    CHECK_OK(selinux_mcs_explain_json("system_u:object_r:etc_t", NULL, &json));
    CHECK_CONTAINS(json, "\"range\":null");
    CHECK_CONTAINS(json, "\"low\":null");
    CHECK_CONTAINS(json, "\"high\":null");
    selinux_mcs_string_free(json);

    /* Translated with a setrans.conf. */
    char *setrans = path_in_dir("setrans.conf");
    write_file(setrans, "# test translations\ns0=SystemLow\ns0:c186,c641=WebApp\n");
    CHECK_OK(selinux_mcs_explain_json("system_u:system_r:svirt_lxc_net_t:s0:c641,c186", setrans, &json));
    CHECK_CONTAINS(json, "\"translation\":\"WebApp\"");
    selinux_mcs_string_free(json);

    /* A missing or bad setrans.conf is a policy error; out is NULL. */
    char *missing = path_in_dir("no-such-setrans.conf");
    json = SENTINEL;
    CHECK_ERR(selinux_mcs_explain_json("u:r:t:s0", missing, &json), SELINUX_MCS_ERR_POLICY,
              "no-such-setrans.conf");
    assert(selinux_mcs_last_errno() == ENOENT);
    assert(json == NULL);
    write_file(setrans, "s0:c5.c1=Broken\n");
    CHECK_ERR(selinux_mcs_explain_json("u:r:t:s0", setrans, &json), SELINUX_MCS_ERR_POLICY,
              "setrans.conf:1");
    assert(selinux_mcs_last_errno() == 0);
    free(missing);
    free(setrans);

    json = SENTINEL;
    CHECK_ERR(selinux_mcs_explain_json("u:r:t:s0:c2.c1", NULL, &json), SELINUX_MCS_ERR_PARSE, "c2.c1");
    assert(json == NULL);
    CHECK_ERR(selinux_mcs_explain_json(NULL, NULL, &json), SELINUX_MCS_ERR_NULL, "`context`");
    CHECK_ERR(selinux_mcs_explain_json("u:r:t:s0", NULL, NULL), SELINUX_MCS_ERR_NULL, "`json_out`");
}

static void test_decide(void) {
    selinux_mcs_context *proc = NULL, *unconfined = NULL, *same = NULL, *other = NULL,
                        *shared = NULL, *ranged = NULL;
    CHECK_OK(selinux_mcs_context_parse("system_u:system_r:container_t:s0:c1,c2", &proc));
    CHECK_OK(selinux_mcs_context_parse("system_u:system_r:spc_t:s0", &unconfined));
    CHECK_OK(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0:c1,c2", &same));
    CHECK_OK(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0:c1,c3", &other));
    CHECK_OK(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0", &shared));
    CHECK_OK(selinux_mcs_context_parse("system_u:object_r:container_file_t:s0-s0:c1,c2", &ranged));

    bool allowed = false;
    char *reason = SENTINEL;
    CHECK_OK(selinux_mcs_decide(proc, same, "read", &allowed, &reason));
    assert(allowed);
    CHECK_CONTAINS(reason, "allowed");
    selinux_mcs_string_free(reason);

    CHECK_OK(selinux_mcs_decide(proc, other, "read", &allowed, &reason));
    assert(!allowed);
    CHECK_STR(reason, "denied: process level s0:c1,c2 does not dominate file level s0:c1,c3: "
                      "the process lacks c3");
    selinux_mcs_string_free(reason);

    /* ls works where open fails. */
    CHECK_OK(selinux_mcs_decide(proc, other, "getattr", &allowed, NULL));
    assert(allowed);
    CHECK_OK(selinux_mcs_decide(proc, other, "open", &allowed, NULL));
    assert(!allowed);
    CHECK_OK(selinux_mcs_decide(proc, shared, "write", &allowed, NULL));
    assert(allowed);
    /* s0-s0:c1,c2: readable, but not a label to create files with. */
    CHECK_OK(selinux_mcs_decide(proc, ranged, "read", &allowed, NULL));
    assert(allowed);
    CHECK_OK(selinux_mcs_decide(proc, ranged, "create", &allowed, &reason));
    assert(!allowed);
    CHECK_CONTAINS(reason, "low == high");
    selinux_mcs_string_free(reason);
    /* Unconfined types are not checked. */
    CHECK_OK(selinux_mcs_decide(unconfined, other, "relabelto", &allowed, &reason));
    assert(allowed);
    CHECK_CONTAINS(reason, "spc_t is not MCS-constrained");
    selinux_mcs_string_free(reason);

    reason = SENTINEL;
    CHECK_ERR(selinux_mcs_decide(proc, same, "fly", &allowed, &reason), SELINUX_MCS_ERR_INVALID,
              "unknown permission \"fly\": expected one of read, write");
    assert(reason == NULL);
    reason = SENTINEL;
    CHECK_ERR(selinux_mcs_decide(NULL, same, "read", &allowed, &reason), SELINUX_MCS_ERR_NULL, "`process`");
    assert(reason == NULL);
    CHECK_ERR(selinux_mcs_decide(proc, NULL, "read", &allowed, NULL), SELINUX_MCS_ERR_NULL, "`file`");
    CHECK_ERR(selinux_mcs_decide(proc, same, NULL, &allowed, NULL), SELINUX_MCS_ERR_NULL, "`permission`");
    CHECK_ERR(selinux_mcs_decide(proc, same, "read", NULL, NULL), SELINUX_MCS_ERR_NULL, "`allowed`");

    selinux_mcs_context_free(proc);
    selinux_mcs_context_free(unconfined);
    selinux_mcs_context_free(same);
    selinux_mcs_context_free(other);
    selinux_mcs_context_free(shared);
    selinux_mcs_context_free(ranged);
}

/* Whether `level` is s0:cA,cB with A < B. */
static bool is_pair(const char *level) {
    unsigned a, b;
    char end;
    return sscanf(level, "s0:c%u,c%u%c", &a, &b, &end) == 2 && a < b && b <= 1023;
}

static void test_registry(void) {
    char *db = path_in_dir("mcs.db");
    selinux_mcs_registry *reg = SENTINEL, *reg2 = NULL;
    CHECK_OK(selinux_mcs_registry_open(db, &reg));
    assert(reg != NULL && reg != SENTINEL);
    CHECK_OK(selinux_mcs_registry_open(db, &reg2));

    /* Allocation is idempotent per owner, and seen by another handle. */
    char *level = SENTINEL, *again = NULL, *got = NULL;
    CHECK_OK(selinux_mcs_registry_allocate(reg, "container:a", &level));
    assert(is_pair(level));
    CHECK_OK(selinux_mcs_registry_allocate(reg, "container:a", &again));
    CHECK_STR(again, level);
    CHECK_OK(selinux_mcs_registry_get(reg2, "container:a", &got));
    CHECK_STR(got, level);
    selinux_mcs_string_free(again);
    selinux_mcs_string_free(got);
    got = SENTINEL;
    CHECK_OK(selinux_mcs_registry_get(reg, "nobody", &got));
    assert(got == NULL);

    /* Reserve: one pair, one owner; one owner, one pair. */
    CHECK_OK(selinux_mcs_registry_reserve(reg, "s0:c2,c1", "volume:x"));
    CHECK_OK(selinux_mcs_registry_reserve(reg, "s0:c1,c2", "volume:x"));
    CHECK_ERR(selinux_mcs_registry_reserve(reg2, "s0:c1,c2", "volume:y"), SELINUX_MCS_ERR_TAKEN,
              "already taken by owner \"volume:x\"");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c3,c4", "volume:x"), SELINUX_MCS_ERR_TAKEN,
              "already holds s0:c1,c2");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, level, "volume:z"), SELINUX_MCS_ERR_TAKEN, "container:a");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c1", "volume:z"), SELINUX_MCS_ERR_INVALID,
              "is not an MCS pair");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c1022,c1023", "volume:z"), SELINUX_MCS_ERR_INVALID,
              "reserved by convention");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c", "volume:z"), SELINUX_MCS_ERR_PARSE, "\"s0:c\"");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c5,c6", ""), SELINUX_MCS_ERR_INVALID, "bad owner");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c5,c6", "a\nb"), SELINUX_MCS_ERR_INVALID, "bad owner");
    CHECK_ERR(selinux_mcs_registry_allocate(reg, "", &got), SELINUX_MCS_ERR_INVALID, "bad owner");
    CHECK_ERR(selinux_mcs_registry_allocate(reg, "\xff", &got), SELINUX_MCS_ERR_UTF8, "`owner`");

    /* List: both entries, oldest first then by owner. */
    selinux_mcs_entry_list *list = SENTINEL;
    CHECK_OK(selinux_mcs_registry_list(reg2, &list));
    assert(selinux_mcs_entry_list_len(list) == 2);
    bool seen_a = false, seen_x = false;
    for (size_t i = 0; i < 2; i++) {
        const char *owner = SENTINEL, *lvl = SENTINEL, *source = SENTINEL;
        int64_t created = 0;
        CHECK_OK(selinux_mcs_entry_list_get(list, i, &owner, &lvl, &created, &source));
        assert(created > 1600000000);
        assert(source == NULL);
        if (strcmp(owner, "container:a") == 0) {
            CHECK_STR(lvl, level);
            seen_a = true;
        } else {
            CHECK_STR(owner, "volume:x");
            CHECK_STR(lvl, "s0:c1,c2");
            seen_x = true;
        }
    }
    assert(seen_a && seen_x);
    CHECK_OK(selinux_mcs_entry_list_get(list, 0, NULL, NULL, NULL, NULL));
    const char *owner = SENTINEL;
    CHECK_ERR(selinux_mcs_entry_list_get(list, 2, &owner, NULL, NULL, NULL), SELINUX_MCS_ERR_INVALID,
              "index 2 is out of range");
    assert(owner == SENTINEL);
    CHECK_ERR(selinux_mcs_entry_list_get(NULL, 0, &owner, NULL, NULL, NULL), SELINUX_MCS_ERR_NULL, "`list`");
    assert(selinux_mcs_entry_list_len(NULL) == 0);
    CHECK_CONTAINS(selinux_mcs_last_error(), "`list` is NULL");
    selinux_mcs_entry_list_free(list);
    selinux_mcs_entry_list_free(NULL);

    /* Release by owner and by level. */
    bool released = false;
    CHECK_OK(selinux_mcs_registry_release_owner(reg, "container:a", &released));
    assert(released);
    CHECK_OK(selinux_mcs_registry_release_owner(reg, "container:a", &released));
    assert(!released);
    CHECK_OK(selinux_mcs_registry_release_owner(reg, "nobody", NULL));
    CHECK_OK(selinux_mcs_registry_release_level(reg2, "s0:c2,c1", &released));
    assert(released);
    CHECK_OK(selinux_mcs_registry_release_level(reg2, "s0:c1,c2", &released));
    assert(!released);
    CHECK_OK(selinux_mcs_registry_release_level(reg2, "s0:c7,c8", NULL));
    CHECK_ERR(selinux_mcs_registry_release_level(reg, "s0:c1,c2,c3", &released), SELINUX_MCS_ERR_INVALID,
              "is not an MCS pair");
    CHECK_ERR(selinux_mcs_registry_release_level(reg, "s0:c1,", &released), SELINUX_MCS_ERR_PARSE, NULL);
    CHECK_OK(selinux_mcs_registry_list(reg, &list));
    assert(selinux_mcs_entry_list_len(list) == 0);
    assert(selinux_mcs_last_error() == NULL);
    selinux_mcs_entry_list_free(list);

    /* NULL pointers, function by function. */
    got = SENTINEL;
    CHECK_ERR(selinux_mcs_registry_allocate(NULL, "o", &got), SELINUX_MCS_ERR_NULL, "`registry`");
    assert(got == NULL);
    CHECK_ERR(selinux_mcs_registry_allocate(reg, NULL, &got), SELINUX_MCS_ERR_NULL, "`owner`");
    CHECK_ERR(selinux_mcs_registry_allocate(reg, "o", NULL), SELINUX_MCS_ERR_NULL, "`level_out`");
    CHECK_ERR(selinux_mcs_registry_reserve(NULL, "s0:c1,c2", "o"), SELINUX_MCS_ERR_NULL, "`registry`");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, NULL, "o"), SELINUX_MCS_ERR_NULL, "`level`");
    CHECK_ERR(selinux_mcs_registry_reserve(reg, "s0:c1,c2", NULL), SELINUX_MCS_ERR_NULL, "`owner`");
    CHECK_ERR(selinux_mcs_registry_release_owner(NULL, "o", NULL), SELINUX_MCS_ERR_NULL, "`registry`");
    CHECK_ERR(selinux_mcs_registry_release_owner(reg, NULL, NULL), SELINUX_MCS_ERR_NULL, "`owner`");
    CHECK_ERR(selinux_mcs_registry_release_level(NULL, "s0:c1,c2", NULL), SELINUX_MCS_ERR_NULL, "`registry`");
    CHECK_ERR(selinux_mcs_registry_release_level(reg, NULL, NULL), SELINUX_MCS_ERR_NULL, "`level`");
    got = SENTINEL;
    CHECK_ERR(selinux_mcs_registry_get(NULL, "o", &got), SELINUX_MCS_ERR_NULL, "`registry`");
    assert(got == NULL);
    CHECK_ERR(selinux_mcs_registry_get(reg, NULL, &got), SELINUX_MCS_ERR_NULL, "`owner`");
    CHECK_ERR(selinux_mcs_registry_get(reg, "o", NULL), SELINUX_MCS_ERR_NULL, "`level_out`");
    list = SENTINEL;
    CHECK_ERR(selinux_mcs_registry_list(NULL, &list), SELINUX_MCS_ERR_NULL, "`registry`");
    assert(list == NULL);
    CHECK_ERR(selinux_mcs_registry_list(reg, NULL), SELINUX_MCS_ERR_NULL, "`out`");
    selinux_mcs_string_free(level);
    selinux_mcs_registry_free(reg);
    selinux_mcs_registry_free(reg2);
    selinux_mcs_registry_free(NULL);

    /* Opening: not a registry, a missing directory, NULLs. */
    char *notdb = path_in_dir("not-a-registry.txt");
    write_file(notdb, "hello, I am not a database\n");
    reg = SENTINEL;
    CHECK_ERR(selinux_mcs_registry_open(notdb, &reg), SELINUX_MCS_ERR_REGISTRY, "not-a-registry.txt");
    assert(reg == NULL);
    char *nodir = path_in_dir("no/such/dir/mcs.db");
    CHECK_ERR(selinux_mcs_registry_open(nodir, &reg), SELINUX_MCS_ERR_REGISTRY, "no/such/dir/mcs.db");
    assert(reg == NULL);
    CHECK_ERR(selinux_mcs_registry_open(NULL, &reg), SELINUX_MCS_ERR_NULL, "`location`");
    CHECK_ERR(selinux_mcs_registry_open(db, NULL), SELINUX_MCS_ERR_NULL, "`out`");

    /* A location is a path or an etcd:// URL: a malformed URL is invalid
     * input; this library is built without the etcd feature. */
    CHECK_ERR(selinux_mcs_registry_open("etcd://10.0.0.1:x/mcs", &reg), SELINUX_MCS_ERR_INVALID,
              "at byte 16: port \"x\"");
    assert(reg == NULL);
    CHECK_ERR(selinux_mcs_registry_open_timeout("etcd://127.0.0.1:2379/mcs", 100, &reg),
              SELINUX_MCS_ERR_REGISTRY, "no etcd support");
    assert(reg == NULL);
    CHECK_OK(selinux_mcs_registry_open_timeout(db, 100, &reg));
    selinux_mcs_registry_free(reg);

    /* The default registry, pointed into the temporary directory. */
    char *default_db = path_in_dir("default/mcs.db");
    assert(setenv("SELINUX_MCS_DB", default_db, 1) == 0);
    CHECK_OK(selinux_mcs_registry_open_default(&reg));
    CHECK_OK(selinux_mcs_registry_allocate(reg, "volume:default", &level));
    assert(is_pair(level));
    selinux_mcs_string_free(level);
    selinux_mcs_registry_free(reg);
    assert(access(default_db, F_OK) == 0);
    CHECK_ERR(selinux_mcs_registry_open_default(NULL), SELINUX_MCS_ERR_NULL, "`out`");
    assert(unsetenv("SELINUX_MCS_DB") == 0);

    free(db);
    free(notdb);
    free(nodir);
    free(default_db);
}

/* The last error is per thread; a registry handle may be shared. */
struct worker {
    selinux_mcs_registry *reg;
    int index;
    char *level;
};

static void *work(void *arg) {
    struct worker *w = arg;
    /* A failure here is not seen by the main thread, and vice versa. */
    assert(selinux_mcs_last_error() == NULL);
    CHECK_ERR(selinux_mcs_level_canonical("s0:c2.c1", &w->level), SELINUX_MCS_ERR_PARSE, "c2.c1");
    char owner[32];
    snprintf(owner, sizeof owner, "thread:%d", w->index);
    for (int i = 0; i < 20; i++) {
        char *level = NULL;
        CHECK_OK(selinux_mcs_registry_allocate(w->reg, owner, &level));
        selinux_mcs_string_free(w->level);
        w->level = level;
    }
    return NULL;
}

static void test_threads(void) {
    char *db = path_in_dir("threads.db");
    selinux_mcs_registry *reg = NULL;
    CHECK_OK(selinux_mcs_registry_open(db, &reg));
    CHECK_ERR(selinux_mcs_context_parse("main", &(selinux_mcs_context *){NULL}), SELINUX_MCS_ERR_PARSE,
              "\"main\"");
    enum { N = 4 };
    pthread_t threads[N];
    struct worker workers[N];
    for (int i = 0; i < N; i++) {
        workers[i] = (struct worker){.reg = reg, .index = i, .level = NULL};
        assert(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        assert(pthread_join(threads[i], NULL) == 0);
    }
    /* The main thread's error is still its own. */
    CHECK_CONTAINS(selinux_mcs_last_error(), "\"main\"");
    /* One pair per owner, four different pairs. */
    for (int i = 0; i < N; i++) {
        assert(is_pair(workers[i].level));
        for (int j = 0; j < i; j++) {
            assert(strcmp(workers[i].level, workers[j].level) != 0);
        }
    }
    for (int i = 0; i < N; i++) {
        selinux_mcs_string_free(workers[i].level);
    }
    selinux_mcs_entry_list *list = NULL;
    CHECK_OK(selinux_mcs_registry_list(reg, &list));
    assert(selinux_mcs_entry_list_len(list) == N);
    selinux_mcs_entry_list_free(list);
    selinux_mcs_registry_free(reg);
    free(db);
}

int main(void) {
    assert(mkdtemp(dir) != NULL);
    test_version_and_errors();
    test_context();
    test_levels();
    test_explain();
    test_decide();
    test_registry();
    test_threads();
    char *cmd = NULL;
    assert(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
    assert(system(cmd) == 0);
    free(cmd);
    printf("test_api: ok\n");
    return 0;
}
