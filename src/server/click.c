/* click.c -- tracking redirects (GET /r/TAG): tag and cookie checks, bounded
 * and escaped header values, the click record and the landing URL (SPEC R1.2,
 * R1.3 click with a tag, R5.1 registry, R7.2 UNKNOWN_TAG).
 *
 * Safety: a tag is only [A-Za-z0-9._-] (so it can reach neither the file
 * system nor a URL as anything but itself), header values are cut to
 * CP_HEADER_VALUE_MAX bytes and JSON-escaped into valid UTF-8 without NUL,
 * and the redirect target is built from the registry alone.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "server/server.h"
#include "tags/tags.h"

bool cp_tag_is_valid(const char *p, size_t len) {
    if (len == 0 || len > CP_TAG_MAX) return false;
    if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool cp_hex128_is_valid(const char *p, size_t len) {
    if (len != CP_HEX128_LEN) return false;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return false;
    return true;
}

bool cp_hex128_random(char out[CP_HEX128_LEN + 1]) {
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k <= 0) return false; /* EINTR is impossible for 16 bytes once seeded */
        got += (size_t)k;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[CP_HEX128_LEN] = '\0';
    return true;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0; /* surrogates are not UTF-8 */
    return n;
}

size_t cp_json_escape(char *dst, size_t cap, const char *src, size_t len, size_t max_src) {
    if (cap == 0) return 0;
    size_t o = 0;
    if (len > max_src) len = max_src;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < len) {
        char tmp[8];
        size_t tl, adv;
        unsigned char c = s[i];
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            /* invalid, or a character cut by max_src: U+FFFD */
            memcpy(tmp, "\xef\xbf\xbd", 3); tl = 3; adv = 1;
        } else if (n > 1) {
            memcpy(tmp, s + i, n); tl = n; adv = n;
        } else if (c == 0) {
            tl = 0; adv = 1; /* NUL dropped: a NUL in a line is bad_encoding (R1.4b) */
        } else if (c == '"' || c == '\\') {
            tmp[0] = '\\'; tmp[1] = (char)c; tl = 2; adv = 1;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\u%04x", c); tl = 6; adv = 1;
        } else {
            tmp[0] = (char)c; tl = 1; adv = 1;
        }
        if (o + tl + 1 > cap) break;
        memcpy(dst + o, tmp, tl);
        o += tl;
        i += adv;
    }
    dst[o] = '\0';
    return o;
}

/* Appends "key":"escaped value" (with a leading comma) when the value is
 * non-empty: an empty value means absent (R1.4b). */
static size_t put_field(char *buf, size_t cap, size_t o, const char *key, const char *v, size_t len,
                        size_t max_src) {
    if (!v || len == 0 || o >= cap) return o;
    int k = snprintf(buf + o, cap - o, ",\"%s\":\"", key);
    if (k < 0 || (size_t)k >= cap - o) return cap;
    o += (size_t)k;
    o += cp_json_escape(buf + o, cap - o, v, len, max_src);
    if (o + 1 >= cap) return cap;
    buf[o++] = '"';
    return o;
}

size_t cp_click_line(char *buf, size_t cap, const cp_click *c) {
    /* R1.2 ts: RFC 3339 in UTC with milliseconds */
    time_t secs = (time_t)(c->ts_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) return 0;
    int k = snprintf(buf, cap, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"type\":\"click\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(c->ts_ms % 1000));
    if (k < 0 || (size_t)k >= cap) return 0;
    size_t o = (size_t)k;
    o = put_field(buf, cap, o, "tag", c->tag, c->tag_len, CP_TAG_MAX);
    o = put_field(buf, cap, o, "visitor", c->visitor, c->visitor ? strlen(c->visitor) : 0, CP_HEX128_LEN);
    o = put_field(buf, cap, o, "click_id", c->click_id, c->click_id ? strlen(c->click_id) : 0, CP_HEX128_LEN);
    o = put_field(buf, cap, o, "ip", c->ip, c->ip ? strlen(c->ip) : 0, 64);
    o = put_field(buf, cap, o, "ua", c->ua, c->ua_len, CP_HEADER_VALUE_MAX);
    o = put_field(buf, cap, o, "referrer", c->referrer, c->referrer_len, CP_HEADER_VALUE_MAX);
    if (o + 3 > cap) return 0;
    buf[o++] = '}';
    buf[o++] = '\n';
    buf[o] = '\0';
    return o;
}

int cp_landing_url(char *buf, size_t cap, const char *base, const char *asin, const char *tag,
                   const char *click_id) {
    if (!base || !*base) base = "https://www.amazon.com";
    bool asin_ok = asin && *asin && strlen(asin) <= 16;
    for (const char *p = asin; asin_ok && *p; p++)
        asin_ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
    int k;
    if (asin_ok) {
        k = cp_tag_url(buf, cap, base, asin, tag);
    } else {
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/') bl--;
        k = snprintf(buf, cap, "%.*s/?tag=%s", (int)bl, base, tag);
    }
    if (k < 0 || (size_t)k >= cap) return -1;
    int m = snprintf(buf + k, cap - (size_t)k, "&click_id=%s", click_id);
    if (m < 0 || (size_t)m >= cap - (size_t)k) return -1;
    return k + m;
}
