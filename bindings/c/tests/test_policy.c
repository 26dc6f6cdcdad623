/* C tests of libselinux_mcs's binary policy functions: access decisions
 * (selinux_mcs_compute_av) and AVC records explained (selinux_mcs_why), on
 * the committed MLS fixture tests/data/policydb/mls.33 (run-tests.sh runs
 * from the repository's root; $SELINUX_MCS_TEST_POLICY overrides the
 * path). Every function is called with good input, bad input and NULL. */
#define _GNU_SOURCE
#include "check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define CONTAINER "system_u:system_r:container_t:s0:c1,c2"
#define OWN_FILE "system_u:object_r:container_file_t:s0:c1,c2"
#define OTHER_FILE "system_u:object_r:container_file_t:s0:c1,c3"

static const char *fixture(void) {
    const char *env = getenv("SELINUX_MCS_TEST_POLICY");
    return env ? env : "tests/data/policydb/mls.33";
}

static uint32_t bit(const selinux_mcs_policy *p, const char *tclass, const char *perm) {
    uint32_t mask = 0;
    CHECK_OK(selinux_mcs_policy_permission(p, tclass, perm, &mask));
    assert(mask != 0 && (mask & (mask - 1)) == 0);
    return mask;
}

static void test_open(void) {
    selinux_mcs_policy *p = (selinux_mcs_policy *)1;
    CHECK_ERR(selinux_mcs_policy_open("/nonexistent/policy.33", &p), SELINUX_MCS_ERR_POLICY,
              "/nonexistent/policy.33");
    assert(p == NULL);
    CHECK_ERR(selinux_mcs_policy_open("tests/data/policydb/mls.conf", &p),
              SELINUX_MCS_ERR_POLICY, "malformed policy at byte 0");
    assert(p == NULL);
    CHECK_ERR(selinux_mcs_policy_open(fixture(), NULL), SELINUX_MCS_ERR_NULL, "out");
    /* NULL: the system's policy, which this host may not have; either way
     * no crash, and a handle or a message. */
    int rc = selinux_mcs_policy_open(NULL, &p);
    assert(rc == SELINUX_MCS_OK || rc == SELINUX_MCS_ERR_POLICY);
    assert((rc == SELINUX_MCS_OK) == (p != NULL));
    selinux_mcs_policy_free(p);
    selinux_mcs_policy_free(NULL);
}

static void test_permission(const selinux_mcs_policy *p) {
    uint32_t mask = 7;
    assert(bit(p, "file", "read") != bit(p, "file", "write"));
    CHECK_ERR(selinux_mcs_policy_permission(p, "socket", "read", &mask), SELINUX_MCS_ERR_INVALID,
              "unknown class socket");
    CHECK_ERR(selinux_mcs_policy_permission(p, "file", "fly", &mask), SELINUX_MCS_ERR_INVALID,
              "class file has no permission fly");
    CHECK_ERR(selinux_mcs_policy_permission(NULL, "file", "read", &mask), SELINUX_MCS_ERR_NULL,
              "policy");
    CHECK_ERR(selinux_mcs_policy_permission(p, NULL, "read", &mask), SELINUX_MCS_ERR_NULL,
              "tclass");
    CHECK_ERR(selinux_mcs_policy_permission(p, "file", NULL, &mask), SELINUX_MCS_ERR_NULL,
              "perm");
    CHECK_ERR(selinux_mcs_policy_permission(p, "file", "read", NULL), SELINUX_MCS_ERR_NULL,
              "mask_out");
}

static void test_compute_av(const selinux_mcs_policy *p) {
    uint32_t allowed = 0, auditallow = 0, auditdeny = 0;
    bool permissive = true;
    uint32_t read = bit(p, "file", "read"), write = bit(p, "file", "write");

    /* MCS: its own pair yes, another container's no. */
    CHECK_OK(selinux_mcs_compute_av(p, CONTAINER, OWN_FILE, "file", &allowed, &auditallow,
                                    &auditdeny, &permissive));
    assert(allowed & read && allowed & write);
    assert(!permissive);
    CHECK_OK(selinux_mcs_compute_av(p, CONTAINER, OTHER_FILE, "file", &allowed, NULL, NULL, NULL));
    assert(!(allowed & read));

    /* dontaudit container_t file_t:file write; auditallow init_t exec_t:file execute. */
    CHECK_OK(selinux_mcs_compute_av(p, CONTAINER, "system_u:object_r:file_t:s0", "file",
                                    &allowed, NULL, &auditdeny, NULL));
    assert(!(allowed & write) && !(auditdeny & write) && (auditdeny & read));
    CHECK_OK(selinux_mcs_compute_av(p, "system_u:system_r:init_t:s0",
                                    "system_u:object_r:exec_t:s0", "file", &allowed, &auditallow,
                                    NULL, NULL));
    uint32_t execute = bit(p, "file", "execute");
    assert((allowed & execute) && (auditallow & execute));

    /* A permissive domain. */
    CHECK_OK(selinux_mcs_compute_av(p, "system_u:system_r:child_t:s0", OWN_FILE, "file",
                                    &allowed, NULL, NULL, &permissive));
    assert(permissive);

    CHECK_ERR(selinux_mcs_compute_av(p, "system_u:system_r:nope_t:s0", OWN_FILE, "file",
                                     &allowed, NULL, NULL, NULL),
              SELINUX_MCS_ERR_INVALID, "unknown type nope_t");
    CHECK_ERR(selinux_mcs_compute_av(p, CONTAINER, "system_u:object_r:x_t:s0:c5.c1", "file",
                                     &allowed, NULL, NULL, NULL),
              SELINUX_MCS_ERR_PARSE, "c5.c1");
    CHECK_ERR(selinux_mcs_compute_av(p, CONTAINER, OWN_FILE, "socket", &allowed, NULL, NULL,
                                     NULL),
              SELINUX_MCS_ERR_INVALID, "unknown class socket");
    CHECK_ERR(selinux_mcs_compute_av(NULL, CONTAINER, OWN_FILE, "file", &allowed, NULL, NULL,
                                     NULL),
              SELINUX_MCS_ERR_NULL, "policy");
    CHECK_ERR(selinux_mcs_compute_av(p, NULL, OWN_FILE, "file", &allowed, NULL, NULL, NULL),
              SELINUX_MCS_ERR_NULL, "scon");
    CHECK_ERR(selinux_mcs_compute_av(p, CONTAINER, NULL, "file", &allowed, NULL, NULL, NULL),
              SELINUX_MCS_ERR_NULL, "tcon");
    CHECK_ERR(selinux_mcs_compute_av(p, CONTAINER, OWN_FILE, NULL, &allowed, NULL, NULL, NULL),
              SELINUX_MCS_ERR_NULL, "tclass");
    CHECK_ERR(selinux_mcs_compute_av(p, CONTAINER, OWN_FILE, "file", NULL, NULL, NULL, NULL),
              SELINUX_MCS_ERR_NULL, "allowed");
}

static void test_set_boolean(selinux_mcs_policy *p) {
    uint32_t allowed = 0, write = bit(p, "file", "write");
    const char *user = "user_u:user_r:user_t:s0", *file = "system_u:object_r:file_t:s0";
    CHECK_OK(selinux_mcs_compute_av(p, user, file, "file", &allowed, NULL, NULL, NULL));
    assert(!(allowed & write));
    CHECK_OK(selinux_mcs_policy_set_boolean(p, "allow_write", true));
    CHECK_OK(selinux_mcs_compute_av(p, user, file, "file", &allowed, NULL, NULL, NULL));
    assert(allowed & write);
    CHECK_OK(selinux_mcs_policy_set_boolean(p, "allow_write", false));
    CHECK_OK(selinux_mcs_compute_av(p, user, file, "file", &allowed, NULL, NULL, NULL));
    assert(!(allowed & write));
    CHECK_ERR(selinux_mcs_policy_set_boolean(p, "allow_wrte", true), SELINUX_MCS_ERR_INVALID,
              "unknown boolean allow_wrte");
    CHECK_ERR(selinux_mcs_policy_set_boolean(NULL, "allow_write", true), SELINUX_MCS_ERR_NULL,
              "policy");
    CHECK_ERR(selinux_mcs_policy_set_boolean(p, NULL, true), SELINUX_MCS_ERR_NULL, "name");
}

static void test_why(const selinux_mcs_policy *p) {
    const char *mcs =
        "type=AVC msg=audit(1701597600.123:456): avc:  denied  { read } for  pid=4242 "
        "comm=\"cat\" name=\"data\" dev=\"sda1\" ino=1234 scontext=" CONTAINER
        " tcontext=" OTHER_FILE " tclass=file permissive=0";
    char *json = (char *)1;
    CHECK_OK(selinux_mcs_why(p, mcs, &json));
    assert(strstr(json, "\"verdict\":\"mcs\"") != NULL);
    assert(strstr(json, "\"missing_categories\":[\"c3\"]") != NULL);
    assert(strstr(json, "relabel apply --private --level s0:c1,c2") != NULL);
    selinux_mcs_string_free(json);

    /* With its event's PATH record, and twice: one group. */
    char *event = NULL;
    assert(asprintf(&event,
                    "type=PATH msg=audit(1701597600.123:456): item=0 name=\"/srv/vol/data\"\n"
                    "%s\n%s\n",
                    mcs, mcs) > 0);
    CHECK_OK(selinux_mcs_why(p, event, &json));
    assert(strstr(json, "\"count\":2") != NULL);
    assert(strstr(json, "--level s0:c1,c2 /srv/vol/data") != NULL);
    selinux_mcs_string_free(json);
    free(event);

    CHECK_OK(selinux_mcs_why(p,
                             "avc:  denied  { write } for  pid=1 scontext=user_u:user_r:user_t:s0 "
                             "tcontext=system_u:object_r:exec_t:s0 tclass=file",
                             &json));
    assert(strstr(json, "\"allow_rule\":\"allow user_t exec_t:file write;\"") != NULL);
    assert(strstr(json, "\"verdict\":\"type-enforcement\"") != NULL);
    selinux_mcs_string_free(json);

    CHECK_ERR(selinux_mcs_why(p, "avc:  denied  read", &json), SELINUX_MCS_ERR_PARSE,
              "line 1, byte 14: expected \"{\" after \"denied\", found \"read\"");
    assert(json == NULL);
    CHECK_ERR(selinux_mcs_why(p, "type=SYSCALL msg=audit(1.0:1): arch=c000003e", &json),
              SELINUX_MCS_ERR_PARSE, "no AVC record");
    char *two = NULL;
    assert(asprintf(&two, "%s\navc:  denied  { write } for scontext=" CONTAINER
                          " tcontext=" OWN_FILE " tclass=file",
                    mcs) > 0);
    CHECK_ERR(selinux_mcs_why(p, two, &json), SELINUX_MCS_ERR_INVALID, "2 different AVC records");
    free(two);
    CHECK_ERR(selinux_mcs_why(p,
                              "avc:  denied  { read } for scontext=system_u:system_r:nope_t:s0 "
                              "tcontext=" OWN_FILE " tclass=file",
                              &json),
              SELINUX_MCS_ERR_INVALID, "unknown type nope_t");
    CHECK_ERR(selinux_mcs_why(NULL, mcs, &json), SELINUX_MCS_ERR_NULL, "policy");
    CHECK_ERR(selinux_mcs_why(p, NULL, &json), SELINUX_MCS_ERR_NULL, "record");
    CHECK_ERR(selinux_mcs_why(p, mcs, NULL), SELINUX_MCS_ERR_NULL, "json_out");
    CHECK_ERR(selinux_mcs_why(p, "avc: denied { read } for comm=\xff", &json),
              SELINUX_MCS_ERR_UTF8, "record");
}

/* Several threads share one handle (and its decision cache). */
static void *decide_many(void *arg) {
    const selinux_mcs_policy *p = arg;
    char tcon[64];
    for (int i = 0; i < 200; i++) {
        uint32_t allowed = 0;
        snprintf(tcon, sizeof tcon, "system_u:object_r:container_file_t:s0:c%d", i % 32);
        if (selinux_mcs_compute_av(p, CONTAINER, tcon, "file", &allowed, NULL, NULL, NULL) != 0)
            return (void *)1;
        /* c1 and c2 are the container's; s0 with no category too. */
        bool mine = (i % 32) == 1 || (i % 32) == 2;
        if (((allowed & bit(p, "file", "read")) != 0) != mine)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(const selinux_mcs_policy *p) {
    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        assert(pthread_create(&threads[i], NULL, decide_many, (void *)p) == 0);
    for (int i = 0; i < 4; i++) {
        void *result = NULL;
        assert(pthread_join(threads[i], &result) == 0);
        assert(result == NULL);
    }
}

int main(void) {
    test_open();
    selinux_mcs_policy *p = NULL;
    CHECK_OK(selinux_mcs_policy_open(fixture(), &p));
    test_permission(p);
    test_compute_av(p);
    test_set_boolean(p);
    test_why(p);
    test_threads(p);
    selinux_mcs_policy_free(p);
    printf("test_policy: ok\n");
    return 0;
}
