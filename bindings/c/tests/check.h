/* Assertion helpers for the C tests of libselinux_mcs. */
#ifndef SELINUX_MCS_TEST_CHECK_H
#define SELINUX_MCS_TEST_CHECK_H

/* The tests are assertions: never compile them away. */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selinux_mcs.h"

/* Runs a call that must succeed; on failure prints the library's message
 * before the assertion fails. */
#define CHECK_OK(call)                                                        \
    do {                                                                      \
        int check_rc_ = (call);                                               \
        if (check_rc_ != SELINUX_MCS_OK) {                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s): %s\n", __FILE__,     \
                    __LINE__, #call, check_rc_,                               \
                    selinux_mcs_strerror(check_rc_),                          \
                    selinux_mcs_last_error() ? selinux_mcs_last_error()       \
                                             : "(no message)");               \
        }                                                                     \
        assert(check_rc_ == SELINUX_MCS_OK);                                  \
        assert(selinux_mcs_last_error() == NULL);                             \
        assert(selinux_mcs_last_errno() == 0);                                \
    } while (0)

/* Runs a call that must fail with `code`, leaving a message that contains
 * `needle` (NULL: any message). */
#define CHECK_ERR(call, code, needle)                                         \
    do {                                                                      \
        int check_rc_ = (call);                                               \
        const char *check_msg_ = selinux_mcs_last_error();                    \
        const char *check_n_ = (needle);                                      \
        if (check_rc_ != (code) || check_msg_ == NULL ||                      \
            (check_n_ != NULL && strstr(check_msg_, check_n_) == NULL)) {     \
            fprintf(stderr,                                                   \
                    "%s:%d: %s returned %d, expected %d; message: %s; "       \
                    "expected it to contain: %s\n",                           \
                    __FILE__, __LINE__, #call, check_rc_, (int)(code),        \
                    check_msg_ ? check_msg_ : "(none)",                       \
                    check_n_ ? check_n_ : "(anything)");                      \
        }                                                                     \
        assert(check_rc_ == (code));                                          \
        assert(check_msg_ != NULL);                                           \
        assert(check_n_ == NULL || strstr(check_msg_, check_n_) != NULL);     \
    } while (0)

/* Asserts two strings are equal, printing both when they are not. */
#define CHECK_STR(actual, expected)                                           \
    do {                                                                      \
        const char *check_a_ = (actual);                                      \
        const char *check_e_ = (expected);                                    \
        if (check_a_ == NULL || strcmp(check_a_, check_e_) != 0) {            \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n",         \
                    __FILE__, __LINE__, #actual,                              \
                    check_a_ ? check_a_ : "(NULL)", check_e_);                \
        }                                                                     \
        assert(check_a_ != NULL && strcmp(check_a_, check_e_) == 0);          \
    } while (0)

/* Asserts `haystack` contains `needle`. */
#define CHECK_CONTAINS(haystack, needle)                                      \
    do {                                                                      \
        const char *check_h_ = (haystack);                                    \
        if (check_h_ == NULL || strstr(check_h_, (needle)) == NULL) {         \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected it to contain "    \
                            "\"%s\"\n",                                       \
                    __FILE__, __LINE__, #haystack,                            \
                    check_h_ ? check_h_ : "(NULL)", (needle));                \
        }                                                                     \
        assert(check_h_ != NULL && strstr(check_h_, (needle)) != NULL);       \
    } while (0)

/* A non-NULL pointer that is not a valid object: out-parameters start with
 * it so that the tests see the library set them to NULL on failure. */
#define SENTINEL ((void *)0x1)

#endif
