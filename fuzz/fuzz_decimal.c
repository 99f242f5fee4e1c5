/* fuzz_decimal.c -- fuzz target for decimals and integers (R1.4b, R1.5) and
 * the R8 number formats of util/values.c.
 *
 * Aborts when a property fails:
 *  - cp_parse_decimal_micros agrees with a slow reference written apart
 *    (arbitrary digits in __int128 with saturation);
 *  - cp_fmt_money then cp_parse_decimal_micros gives back the value (for
 *    |value| <= 10^12 units);
 *  - cp_parse_int accepts exactly -?[0-9]+ with |v| <= 10^9, and its
 *    decimal text parses back;
 *  - cp_fmt_ratio(num, den) is num/den rounded half to even to 10^-6: read
 *    back as R micro-units, |R*den - num*10^6| <= |den|/2, with R even on a
 *    tie; never "-0.000000";
 *  - cp_fmt_double6 never writes "-0.000000" and always fits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/values.h"

#define MICROS_MAX INT64_C(1000000000000000000) /* 10^12 units */

static int is_dig(char c) { return c >= '0' && c <= '9'; }

/* Reference: -?D*(.D*)? with >= 1 digit; returns 1 and *out if valid. */
static int ref_decimal(const char *p, size_t n, int64_t *out) {
    size_t i = 0;
    int neg = 0, digits = 0;
    const __int128 cap = (__int128)1 << 100;
    __int128 units = 0, frac = 0;
    if (i < n && p[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < n && is_dig(p[i]); i++, digits++)
        if (units < cap)
            units = units * 10 + (p[i] - '0');
    if (i < n && p[i] == '.') {
        int k = 0;
        for (i++; i < n && is_dig(p[i]); i++, k++, digits++) {
            if (k < 6)
                frac = frac * 10 + (p[i] - '0');
            else if (p[i] != '0')
                return 0;
        }
        for (; k < 6; k++)
            frac *= 10;
    }
    if (i != n || digits == 0)
        return 0;
    __int128 micros = units * 1000000 + frac;
    if (micros > MICROS_MAX)
        return 0;
    *out = (int64_t)(neg ? -micros : micros);
    return 1;
}

/* Money text parses back to the value while it is within +-10^12 units. */
static void check_money(int64_t v) {
    char buf[48];
    size_t n = cp_fmt_money(buf, v);
    const char *dot = strchr(buf, '.');
    size_t n_dec = dot ? n - (size_t)(dot - buf) - 1 : 0;
    /* R8: two to six decimals, no trailing zero past the second. */
    if (n != strlen(buf) || !dot || n_dec < 2 || n_dec > 6 || (n_dec > 2 && buf[n - 1] == '0'))
        abort();
    if (v > MICROS_MAX || v < -MICROS_MAX)
        return;
    int64_t back = 0;
    if (!cp_parse_decimal_micros(buf, n, &back) || back != v)
        abort();
}

static size_t put_int(char *b, int64_t v) {
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + a % 10);
        a /= 10;
    } while (a);
    if (v < 0)
        b[k++] = '-';
    while (n)
        b[k++] = tmp[--n];
    return k;
}

static void check_ratio(int64_t num, int64_t den) {
    char buf[48];
    size_t n = cp_fmt_ratio(buf, num, den);
    if (den == 0) {
        if (n != 0 || buf[0] != '\0')
            abort();
        return;
    }
    if (n != strlen(buf) || n < 8 || buf[n - 7] != '.' || strcmp(buf, "-0.000000") == 0)
        abort();
    /* Read it back exactly (the integer part can exceed 10^12). */
    size_t i = 0;
    int neg = buf[0] == '-';
    if (neg)
        i++;
    __int128 r = 0;
    for (; i < n; i++)
        if (buf[i] != '.')
            r = r * 10 + (buf[i] - '0');
    if (neg)
        r = -r;
    __int128 diff = r * den - (__int128)num * 1000000;
    __int128 ad = diff < 0 ? -diff : diff, aden = den < 0 ? -(__int128)den : den;
    if (2 * ad > aden || (2 * ad == aden && (r & 1)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    int64_t got = INT64_C(0x5a5a5a5a), want = 0;
    int ok = cp_parse_decimal_micros(p, size, &got);
    int ref_ok = ref_decimal(p, size, &want);
    if (ok != ref_ok || (ok && got != want) || (!ok && got != INT64_C(0x5a5a5a5a)))
        abort();
    if (ok)
        check_money(got);

    int64_t iv;
    if (cp_parse_int(p, size, &iv)) {
        if (iv > 1000000000 || iv < -1000000000)
            abort();
        for (size_t i = (size && p[0] == '-'); i < size; i++)
            if (!is_dig(p[i]))
                abort();
        char b[24];
        size_t n = put_int(b, iv);
        int64_t back;
        if (!cp_parse_int(b, n, &back) || back != iv)
            abort();
    }

    if (size >= 16) {
        int64_t num, den;
        memcpy(&num, data, 8);
        memcpy(&den, data + 8, 8);
        check_ratio(num, den);
        check_ratio(num % 10000000, den % 10000000); /* ties are likelier */
        check_money(num);
        double d;
        memcpy(&d, data, 8);
        char buf[48];
        size_t n = cp_fmt_double6(buf, d);
        if (n >= 48 || n != strlen(buf) || strcmp(buf, "-0.000000") == 0)
            abort();
    }
    return 0;
}
