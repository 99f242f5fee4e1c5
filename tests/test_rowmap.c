/* test_rowmap.c -- the one-row-per-key map behind the report stages' daily
 * tables (util/rowmap.h; ads.c, attribution.c and business.c key it by
 * (report day, ids...) for R6.2, R7.2 and R8 rows).
 *
 * The map starts with 1024 slots (at most half full) and 1024 rows, so 5000
 * keys make the slots grow four times (1024 -> 16384: 5000 * 2 > 8192) and
 * the rows three times (1024 -> 8192): enough to check that growth keeps
 * every index and row. */
#include "testutil.h"

#include "util/rowmap.h"

typedef struct test_row {
    int32_t day;      /* the key, at the head of the row (rowmap.h) */
    uint32_t k1, k2;
    uint32_t tag;
    int64_t a, b;
    char pad[12];     /* a size that is no power of two */
} test_row;

/* A row whose key is (day, id) only, as business.c's and attribution.c's. */
typedef struct pair_row {
    int32_t day;
    uint32_t id;
    int64_t v;
} pair_row;

static bool all_zero(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i]) return false;
    return true;
}

/* The same key gives the same row, created once; keys differing in any part
 * or only in the order of the parts are different rows; rows are numbered in
 * creation order. */
static void same_key_same_row(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    bool created;
    uint32_t day = (uint32_t)(int32_t)-3; /* a day before 1970, cast as the stages do */
    assert_int_equal(cp_rowmap_get(&m, day, 7, 9, &created), 0);
    assert_true(created);
    assert_int_equal(cp_rowmap_get(&m, day, 7, 9, &created), 0);
    assert_false(created);
    assert_int_equal(cp_rowmap_get(&m, 9, 7, day, &created), 1);
    assert_true(created);
    assert_int_equal(cp_rowmap_get(&m, day, 7, 0, NULL), 2);
    assert_int_equal(cp_rowmap_get(&m, day, 0, 7, NULL), 3);
    assert_int_equal(cp_rowmap_get(&m, (uint32_t)INT32_MIN, 7, 9, NULL), 4);
    assert_int_equal(cp_rowmap_get(&m, day, 7, 9, NULL), 0);
    assert_int_equal(cp_rowmap_get(&m, 9, 7, day, NULL), 1);
    assert_int_equal(m.n, 5);
    cp_rowmap_free(&m);
}

/* A new row carries its key at its head; with two key parts the third is
 * neither stored nor compared. */
static void new_row_carries_its_key(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    uint32_t i = cp_rowmap_get(&m, (uint32_t)(int32_t)-3, 7, 9, NULL);
    const test_row *r = CP_ROWMAP_AT(&m, test_row, i);
    assert_int_equal(r->day, -3);
    assert_int_equal(r->k1, 7);
    assert_int_equal(r->k2, 9);
    assert_int_equal(r->tag, 0);
    cp_rowmap_free(&m);

    cp_rowmap_init(&m, sizeof(pair_row), 2);
    assert_int_equal(cp_rowmap_get(&m, 20000, 5, 0, NULL), 0);
    assert_int_equal(cp_rowmap_get(&m, 20000, 6, 0, NULL), 1);
    assert_int_equal(cp_rowmap_get(&m, 20001, 5, 0, NULL), 2);
    assert_int_equal(cp_rowmap_get(&m, 20000, 5, 0, NULL), 0);
    const pair_row *p = CP_ROWMAP_AT(&m, pair_row, 2);
    assert_int_equal(p->day, 20001);
    assert_int_equal(p->id, 5);
    assert_int_equal(p->v, 0);
    cp_rowmap_free(&m);
}

/* A new row is all zero bytes past its key, even when the row array was
 * just grown by realloc and the rows before it are full of set bytes. */
static void new_rows_are_zeroed(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    for (uint32_t k = 0; k < 1500; k++) { /* past the first 1024 rows */
        uint32_t i = cp_rowmap_get(&m, k, 1, 2, NULL);
        assert_int_equal(i, k);
        test_row *r = CP_ROWMAP_AT(&m, test_row, i);
        assert_int_equal(r->day, (int32_t)k);
        assert_true(all_zero(&r->tag, sizeof *r - offsetof(test_row, tag)));
        memset(&r->tag, 0xAB, sizeof *r - offsetof(test_row, tag));
    }
    cp_rowmap_free(&m);
}

/* Growth of slots and rows keeps every row at its index with its contents. */
static void growth_keeps_indices_and_contents(void **state) {
    (void)state;
    enum { N = 5000 };
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    for (uint32_t k = 0; k < N; k++) {
        /* keys sharing two parts, as (day, tag) rows of one tag do */
        uint32_t i = cp_rowmap_get(&m, k / 7, 42, k % 7, NULL);
        assert_int_equal(i, k);
        test_row *r = CP_ROWMAP_AT(&m, test_row, i);
        r->a = (int64_t)k * 1000003;
        r->b = -(int64_t)k;
        r->tag = k ^ 0x5555u;
    }
    assert_int_equal(m.n, N);
    for (uint32_t k = 0; k < N; k++) {
        bool created = true;
        uint32_t i = cp_rowmap_get(&m, k / 7, 42, k % 7, &created);
        assert_int_equal(i, k);
        assert_false(created);
        const test_row *r = CP_ROWMAP_AT(&m, test_row, i);
        assert_int_equal(r->a, (int64_t)k * 1000003);
        assert_int_equal(r->b, -(int64_t)k);
        assert_int_equal(r->tag, k ^ 0x5555u);
    }
    assert_int_equal(m.n, N);
    cp_rowmap_free(&m);
}

/* Normal use never sets the oom flag nor returns CP_ROWMAP_OOM. */
static void oom_flag_untouched_in_normal_use(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    assert_false(m.oom);
    for (uint32_t k = 0; k < 3000; k++) {
        assert_int_not_equal(cp_rowmap_get(&m, k % 100, k, 0, NULL), CP_ROWMAP_OOM);
        assert_int_not_equal(cp_rowmap_get(&m, k % 100, k, 0, NULL), CP_ROWMAP_OOM);
    }
    assert_false(m.oom);
    assert_int_equal(m.n, 3000);
    cp_rowmap_free(&m);
}

/* Once set, the oom flag is sticky: no row is looked up or made. */
static void oom_flag_is_sticky(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    assert_int_equal(cp_rowmap_get(&m, 1, 2, 3, NULL), 0);
    m.oom = true; /* as after a failed allocation */
    bool created = true;
    assert_int_equal(cp_rowmap_get(&m, 1, 2, 3, &created), CP_ROWMAP_OOM);
    assert_false(created);
    assert_int_equal(cp_rowmap_get(&m, 4, 5, 6, NULL), CP_ROWMAP_OOM);
    assert_int_equal(m.n, 1);
    cp_rowmap_free(&m);
}

/* Free empties the map, which can be used again and freed twice; an unused
 * map frees without having allocated. */
static void free_leaves_an_empty_reusable_map(void **state) {
    (void)state;
    cp_rowmap m;
    cp_rowmap_init(&m, sizeof(test_row), 3);
    cp_rowmap_free(&m);
    assert_int_equal(cp_rowmap_get(&m, 1, 2, 3, NULL), 0);
    cp_rowmap_free(&m);
    assert_int_equal(m.n, 0);
    assert_null(m.rows);
    assert_int_equal(m.row_size, sizeof(test_row));
    assert_int_equal(m.n_keys, 3);
    assert_int_equal(cp_rowmap_get(&m, 1, 2, 3, NULL), 0);
    assert_int_equal(cp_rowmap_get(&m, 3, 2, 1, NULL), 1);
    cp_rowmap_free(&m);
    cp_rowmap_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_key_same_row),
        cmocka_unit_test(new_row_carries_its_key),
        cmocka_unit_test(new_rows_are_zeroed),
        cmocka_unit_test(growth_keeps_indices_and_contents),
        cmocka_unit_test(oom_flag_untouched_in_normal_use),
        cmocka_unit_test(oom_flag_is_sticky),
        cmocka_unit_test(free_leaves_an_empty_reusable_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
