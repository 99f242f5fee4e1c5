/* check.h -- SQLite-style boundary and invariant marks.
 *
 * CP_TESTCASE(X)  marks a boundary that tests must see both true and false
 *                 (a no-op in builds; it documents the edge in place).
 * CP_ALWAYS(X)    "can't be false": asserts in debug builds, passes X through
 * CP_NEVER(X)     "can't be true":  in release, so the defensive branch stays.
 */
#ifndef CLICKPATH_CHECK_H
#define CLICKPATH_CHECK_H

#include <assert.h>

#define CP_TESTCASE(X) ((void)0)
#ifdef NDEBUG
#define CP_ALWAYS(X) (X)
#define CP_NEVER(X) (X)
#else
#define CP_ALWAYS(X) ((X) ? 1 : (assert(0 && #X), 0))
#define CP_NEVER(X) ((X) ? (assert(0 && #X), 1) : 0)
#endif

#endif
