/* bots.c -- the bot list of SPEC R3.1.1: case-insensitive substrings (the
 * built-in list, or --bot-list FILE with one substring per line) and the
 * JSON pattern list of the crawler-user-agents project, whose patterns are
 * regular expressions.
 *
 * A pattern that is a literal once its escapes (`\/`, `\.`) are undone is
 * matched as a substring.  The others are translated from their PCRE
 * dialect to POSIX ERE (`\d` -> `[0-9]`, `\s` -> `[[:space:]]`, `[\s\S]` ->
 * `.`, `\/` -> `/`) and compiled with regcomp(REG_EXTENDED | REG_ICASE);
 * a pattern that still does not compile is kept as a literal substring and
 * counted (n_fallback).
 *
 * Matching lower-cases the user agent once into a stack buffer and looks up
 * literals by the two bytes at each position (a CSR index over 65536 keys),
 * so the cost is one pass over the user agent, not one pass per pattern. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen.h" /* cp_builtin_bot_list */
#include "quality/quality.h"

static void fill_err(cp_error *err, cp_result code, const char *path, uint64_t line,
                     const char *msg) {
    if (!err) return;
    err->code = code;
    err->file = path;
    err->line = line;
    err->field = NULL;
    if (line)
        snprintf(err->msg, sizeof err->msg, "%s:%llu: %s", path ? path : "-",
                 (unsigned long long)line, msg);
    else
        snprintf(err->msg, sizeof err->msg, "%s: %s", path ? path : "-", msg);
}

static unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* A growing list of literals and regex sources while a list is read. */
typedef struct builder {
    char *lit; size_t lit_len, lit_cap;
    uint32_t *off, *len; size_t n, cap;
    regex_t *re; size_t n_re, re_cap;
    size_t n_fallback, n_patterns;
    bool oom;
} builder;

static void add_literal(builder *b, const char *s, size_t len) {
    if (b->oom || len == 0) return;
    if (len > UINT32_MAX / 2 || b->lit_len + len + 1 > UINT32_MAX) { b->oom = true; return; }
    if (b->lit_len + len + 1 > b->lit_cap) {
        size_t nc = b->lit_cap ? b->lit_cap : 4096;
        while (nc < b->lit_len + len + 1) nc *= 2;
        char *np = realloc(b->lit, nc);
        if (!np) { b->oom = true; return; }
        b->lit = np;
        b->lit_cap = nc;
    }
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        uint32_t *no = realloc(b->off, nc * sizeof *no);
        if (!no) { b->oom = true; return; }
        b->off = no;
        uint32_t *nl = realloc(b->len, nc * sizeof *nl);
        if (!nl) { b->oom = true; return; }
        b->len = nl;
        b->cap = nc;
    }
    b->off[b->n] = (uint32_t)b->lit_len;
    b->len[b->n] = (uint32_t)len;
    for (size_t i = 0; i < len; i++) b->lit[b->lit_len + i] = (char)lower((unsigned char)s[i]);
    b->lit[b->lit_len + len] = '\0';
    b->lit_len += len + 1;
    b->n++;
}

/* ---- PCRE-ish pattern -> literal or POSIX ERE --------------------------- */

static bool is_meta(char c) {
    return strchr("[](){}|*+?^$.", c) != NULL && c != '\0';
}

/* Undoes `\X` escapes of punctuation.  Returns false when the pattern holds
 * an unescaped metacharacter or a letter escape (\d, \s ...): a regex. */
static bool pattern_literal(const char *p, size_t len, char *out, size_t *out_len) {
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '\\') {
            if (i + 1 >= len) return false;
            char d = p[++i];
            if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9'))
                return false;
            out[k++] = d;
        } else if (is_meta(c)) {
            return false;
        } else {
            out[k++] = c;
        }
    }
    *out_len = k;
    return true;
}

/* Unescapes everything (`\X` -> X): the literal fallback of a pattern that
 * cannot be compiled. */
static size_t pattern_unescape(const char *p, size_t len, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len) i++;
        out[k++] = p[i];
    }
    return k;
}

/* Translates to POSIX ERE into out (cap >= 12 * len + 1).  Returns false for
 * a construct it does not translate. */
static bool pattern_to_ere(const char *p, size_t len, char *out) {
    size_t k = 0;
    bool in_br = false, prev_quant = false;
    /* glibc's regcomp copies the tree once per repetition: stacked
     * quantifiers ("a++++") and intervals ("(a{255}){255}") make it use
     * memory without bound.  None of the crawler-user-agents patterns needs
     * either, so such a pattern is not translated (literal fallback). */
    if (len > 1024) return false;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!in_br) {
            bool quant = c == '*' || c == '+' || c == '?';
            if (c == '{' || (quant && prev_quant)) return false;
            prev_quant = quant;
        }
        if (!in_br && c == '[') {
            /* [\s\S] and [\S\s]: any character. */
            if (len - i >= 6 &&
                (memcmp(p + i, "[\\s\\S]", 6) == 0 || memcmp(p + i, "[\\S\\s]", 6) == 0)) {
                out[k++] = '.';
                i += 5;
                continue;
            }
            in_br = true;
            out[k++] = c;
            if (i + 1 < len && p[i + 1] == '^') out[k++] = p[++i];
            if (i + 1 < len && p[i + 1] == ']') out[k++] = p[++i];
            continue;
        }
        if (in_br && c == ']') { in_br = false; out[k++] = c; continue; }
        if (c != '\\') { out[k++] = c; continue; }
        if (i + 1 >= len) return false;
        char d = p[++i];
        const char *rep = NULL;
        if (!in_br) {
            switch (d) {
            case 'd': rep = "[0-9]"; break;
            case 'D': rep = "[^0-9]"; break;
            case 's': rep = "[[:space:]]"; break;
            case 'S': rep = "[^[:space:]]"; break;
            case 'w': rep = "[[:alnum:]_]"; break;
            case 'W': rep = "[^[:alnum:]_]"; break;
            default: break;
            }
        } else {
            switch (d) {
            case 'd': rep = "0-9"; break;
            case 's': rep = "[:space:]"; break;
            case 'w': rep = "[:alnum:]_"; break;
            default: break;
            }
        }
        if (rep) {
            size_t rl = strlen(rep);
            memcpy(out + k, rep, rl);
            k += rl;
            continue;
        }
        if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9'))
            return false; /* \b, \1, \D in brackets ...: not translated */
        if (in_br) {
            /* Inside POSIX brackets a backslash is literal: drop it.  A `]`
             * or `-` would change the bracket's meaning. */
            if (d == ']' || d == '-' || d == '^') return false;
            out[k++] = d;
        } else if (is_meta(d) || d == '\\') {
            out[k++] = '\\';
            out[k++] = d;
        } else {
            out[k++] = d;
        }
    }
    if (in_br) return false;
    out[k] = '\0';
    return true;
}

static void add_regex_pattern(builder *b, const char *p, size_t len) {
    if (b->oom || len == 0) return;
    b->n_patterns++;
    char *tmp = malloc(12 * len + 1);
    if (!tmp) { b->oom = true; return; }
    size_t lit_len;
    if (pattern_literal(p, len, tmp, &lit_len)) {
        add_literal(b, tmp, lit_len);
        free(tmp);
        return;
    }
    if (b->n_re == b->re_cap) {
        size_t nc = b->re_cap ? b->re_cap * 2 : 32;
        regex_t *nr = realloc(b->re, nc * sizeof *nr);
        if (!nr) { free(tmp); b->oom = true; return; }
        b->re = nr;
        b->re_cap = nc;
    }
    if (pattern_to_ere(p, len, tmp) &&
        regcomp(&b->re[b->n_re], tmp, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0) {
        b->n_re++;
    } else {
        b->n_fallback++;
        add_literal(b, tmp, pattern_unescape(p, len, tmp));
    }
    free(tmp);
}

static void builder_free(builder *b) {
    free(b->lit);
    free(b->off);
    free(b->len);
    for (size_t i = 0; i < b->n_re; i++) regfree(&b->re[i]);
    free(b->re);
    memset(b, 0, sizeof *b);
}

static uint32_t key2(const char *s) {
    return (uint32_t)(unsigned char)s[0] << 8 | (unsigned char)s[1];
}

/* Moves the builder into bl and builds the two-byte index. */
static cp_result builder_finish(builder *b, cp_botlist *bl, const char *path, cp_error *err) {
    memset(bl, 0, sizeof *bl);
    if (b->oom) goto oom;
    bl->bucket_start = calloc(65537, sizeof *bl->bucket_start);
    bl->bucket = malloc((b->n ? b->n : 1) * sizeof *bl->bucket);
    bl->short_lits = malloc((b->n ? b->n : 1) * sizeof *bl->short_lits);
    if (!bl->bucket_start || !bl->bucket || !bl->short_lits) goto oom;
    for (size_t i = 0; i < b->n; i++)
        if (b->len[i] >= 2) bl->bucket_start[key2(b->lit + b->off[i]) + 1]++;
    for (size_t k = 0; k < 65536; k++) bl->bucket_start[k + 1] += bl->bucket_start[k];
    {
        uint32_t *fill = malloc(65536 * sizeof *fill);
        if (!fill) goto oom;
        memcpy(fill, bl->bucket_start, 65536 * sizeof *fill);
        for (size_t i = 0; i < b->n; i++) {
            if (b->len[i] >= 2) bl->bucket[fill[key2(b->lit + b->off[i])]++] = (uint32_t)i;
            else bl->short_lits[bl->n_short++] = (uint32_t)i;
        }
        free(fill);
    }
    bl->lit = b->lit;
    bl->lit_off = b->off;
    bl->lit_len = b->len;
    bl->n_lit = b->n;
    bl->re = b->re;
    bl->n_re = b->n_re;
    bl->n_fallback = b->n_fallback;
    bl->n_patterns = b->n_patterns;
    memset(b, 0, sizeof *b);
    return CP_OK;
oom:
    free(bl->bucket_start);
    free(bl->bucket);
    free(bl->short_lits);
    memset(bl, 0, sizeof *bl);
    builder_free(b);
    fill_err(err, CP_ENOMEM, path, 0, "out of memory");
    return CP_ENOMEM;
}

cp_result cp_botlist_builtin(cp_botlist *bl, cp_error *err) {
    builder b = {0};
    for (size_t i = 0; cp_builtin_bot_list[i]; i++) {
        add_literal(&b, cp_builtin_bot_list[i], strlen(cp_builtin_bot_list[i]));
        b.n_patterns++;
    }
    return builder_finish(&b, bl, "(built-in bot list)", err);
}

/* ---- JSON: only the "pattern" strings are read --------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a JSON string starting after its opening quote at *pp; writes the
 * UTF-8 bytes into out (capacity >= remaining input) and moves *pp past the
 * closing quote.  Returns false on a bad escape or a missing quote. */
static bool json_string(const char **pp, const char *end, char *out, size_t *out_len) {
    const char *p = *pp;
    size_t k = 0;
    while (p < end) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"') { *pp = p; *out_len = k; return true; }
        if (c == '\n') return false; /* raw newline inside a string */
        if (c < 0x20) return false;
        if (c != '\\') { out[k++] = (char)c; continue; }
        if (p >= end) return false;
        char e = *p++;
        switch (e) {
        case '"': case '\\': case '/': out[k++] = e; break;
        case 'b': out[k++] = '\b'; break;
        case 'f': out[k++] = '\f'; break;
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case 'u': {
            if (end - p < 4) return false;
            unsigned v = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexval(p[i]);
                if (h < 0) return false;
                v = v << 4 | (unsigned)h;
            }
            p += 4;
            /* Surrogates are written as their own 3-byte forms: a user-agent
             * pattern with astral characters never matches anyway. */
            if (v < 0x80) out[k++] = (char)v;
            else if (v < 0x800) { out[k++] = (char)(0xc0 | v >> 6); out[k++] = (char)(0x80 | (v & 0x3f)); }
            else { out[k++] = (char)(0xe0 | v >> 12); out[k++] = (char)(0x80 | ((v >> 6) & 0x3f)); out[k++] = (char)(0x80 | (v & 0x3f)); }
            break;
        }
        default: return false;
        }
    }
    return false;
}

static cp_result parse_json(builder *b, const char *data, size_t len, const char *path,
                            cp_error *err) {
    /* A \uXXXX escape (6 bytes) decodes to at most 3: the output is never
     * longer than the input. */
    char *buf = malloc(len + 1);
    if (!buf) { fill_err(err, CP_ENOMEM, path, 0, "out of memory"); return CP_ENOMEM; }
    const char *p = data, *end = data + len;
    uint64_t line = 1;
    while (p < end) {
        char c = *p;
        if (c == '\n') { line++; p++; continue; }
        if (c != '"') { p++; continue; }
        p++;
        size_t klen;
        if (!json_string(&p, end, buf, &klen)) goto bad;
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) q++;
        if (q >= end || *q != ':') continue; /* a value, not a key */
        if (klen != 7 || memcmp(buf, "pattern", 7) != 0) continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) {
            if (*q == '\n') line++;
            q++;
        }
        if (q >= end || *q != '"') {
            free(buf);
            fill_err(err, CP_EUSAGE, path, line, "\"pattern\" is not a string");
            return CP_EUSAGE;
        }
        p = q + 1;
        size_t vlen;
        if (!json_string(&p, end, buf, &vlen)) goto bad;
        add_regex_pattern(b, buf, vlen);
    }
    free(buf);
    if (b->n_patterns == 0) {
        fill_err(err, CP_EUSAGE, path, 0, "JSON bot list holds no \"pattern\" strings");
        return CP_EUSAGE;
    }
    return CP_OK;
bad:
    free(buf);
    fill_err(err, CP_EUSAGE, path, line, "bad JSON string");
    return CP_EUSAGE;
}

static cp_result parse_lines(builder *b, const char *data, size_t len, const char *path,
                             cp_error *err) {
    const char *p = data, *end = data + len;
    uint64_t line = 0;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        if (le > s && le[-1] == '\r') le--;
        if (le == s || *s == '#') continue;
        if (memchr(s, '\0', (size_t)(le - s))) {
            fill_err(err, CP_EUSAGE, path, line, "NUL byte in bot list");
            return CP_EUSAGE;
        }
        add_literal(b, s, (size_t)(le - s));
        b->n_patterns++;
    }
    return CP_OK;
}

cp_result cp_botlist_parse(cp_botlist *bl, const char *data, size_t len,
                           const char *path, cp_error *err) {
    memset(bl, 0, sizeof *bl);
    builder b = {0};
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) i = 3;
    size_t j = i;
    while (j < len && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n')) j++;
    cp_result rc = (j < len && data[j] == '[')
        ? parse_json(&b, data + i, len - i, path, err)
        : parse_lines(&b, data + i, len - i, path, err);
    if (rc != CP_OK) { builder_free(&b); return rc; }
    return builder_finish(&b, bl, path, err);
}

cp_result cp_botlist_load(cp_botlist *bl, const char *path, cp_error *err) {
    memset(bl, 0, sizeof *bl);
    char *data;
    size_t len;
    cp_result rc = cp_quality_read_file(path, &data, &len, err);
    if (rc != CP_OK) return rc;
    rc = cp_botlist_parse(bl, data, len, path, err);
    free(data);
    return rc;
}

bool cp_botlist_match(const cp_botlist *bl, const char *ua, size_t len) {
    if (len == 0) return false;
    char stack[1024];
    char *low = len <= sizeof stack - 1 ? stack : malloc(len + 1);
    if (!low) return false;
    for (size_t i = 0; i < len; i++) low[i] = (char)lower((unsigned char)ua[i]);
    low[len] = '\0';
    bool hit = false;
    for (size_t s = 0; s < bl->n_short && !hit; s++)
        hit = memchr(low, bl->lit[bl->lit_off[bl->short_lits[s]]], len) != NULL;
    for (size_t i = 0; i + 1 < len && !hit; i++) {
        uint32_t k = key2(low + i);
        for (uint32_t j = bl->bucket_start[k]; j < bl->bucket_start[k + 1]; j++) {
            uint32_t li = bl->bucket[j];
            uint32_t ll = bl->lit_len[li];
            if (ll <= len - i && memcmp(low + i, bl->lit + bl->lit_off[li], ll) == 0) {
                hit = true;
                break;
            }
        }
    }
    if (!hit && bl->n_re) {
        /* regexec needs a NUL-terminated string: the lower-cased copy is one
         * (REG_ICASE makes the case irrelevant). */
        const regex_t *re = bl->re;
        for (size_t r = 0; r < bl->n_re && !hit; r++)
            hit = regexec(&re[r], low, 0, NULL, 0) == 0;
    }
    if (low != stack) free(low);
    return hit;
}

void cp_botlist_free(cp_botlist *bl) {
    free(bl->lit);
    free(bl->lit_off);
    free(bl->lit_len);
    free(bl->bucket);
    free(bl->bucket_start);
    free(bl->short_lits);
    regex_t *re = bl->re;
    for (size_t i = 0; i < bl->n_re; i++) regfree(&re[i]);
    free(bl->re);
    memset(bl, 0, sizeof *bl);
}
