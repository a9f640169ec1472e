/*
 * Minimal unit-test harness: each CHECK prints "PASS: ..." or "FAIL: ..." on
 * its own line (tests/run-all.sh counts them) and unit_done() exits non-zero
 * when anything failed.
 */
#ifndef FRAMEFS_UNIT_H
#define FRAMEFS_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_failed, unit_passed;

#define CHECK(cond, ...) do {                                           \
        if (cond) { unit_passed++; printf("PASS: " __VA_ARGS__); }      \
        else { unit_failed++; printf("FAIL: " __VA_ARGS__);             \
               printf("  (%s:%d: %s)", __FILE__, __LINE__, #cond); }     \
        printf("\n");                                                   \
    } while (0)

static inline int unit_done(void)
{
    fflush(stdout);
    return unit_failed ? 1 : 0;
}

#endif
