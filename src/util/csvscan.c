/* csvscan.c -- the line scan of the CSV reader (csvscan.h), one function per
 * instruction set, chosen at run time.
 *
 * The vector levels are compiled for their instruction set with
 * __attribute__((target)) only: the build takes no -march flag, so one
 * binary runs on every x86-64 and uses AVX2 or AVX-512BW where the CPU has
 * them (__builtin_cpu_supports).  All levels write the same masks; only the
 * number of bytes compared at a time differs. */
#include "util/csvscan.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define CP_SCAN_X86 1
#include <immintrin.h>
#endif

/* Ends word j: clears the bits at and past the first '\n' (nlw: the
 * newline bits), stores the word and tells whether it held a '\n'.  (nlw &
 * -nlw) - 1 has the bits below the lowest newline set, all of them when
 * there is none. */
static inline bool end_word(uint64_t d, uint64_t q, uint64_t nlw, size_t j, uint64_t *dm, uint64_t *qm,
                            uint64_t *quote_parity, size_t *nl) {
    uint64_t keep = (nlw & (0 - nlw)) - 1;
    dm[j] = d & keep;
    qm[j] = q & keep;
    *quote_parity ^= q & keep;
    if (!nlw) return false;
    *nl = j * 64 + (size_t)__builtin_ctzll(nlw);
    return true;
}

static size_t scan_scalar(const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                          uint64_t *quote_parity, bool *not_ascii, size_t *nl) {
    bool odd = false;
    size_t j = 0;
    while (j < max_words) {
        const char *c = p + 64 * j;
        uint64_t d = 0, q = 0, n = 0;
        for (int k = 0; k < 64; k++) {
            d |= (uint64_t)(c[k] == delim) << k;
            q |= (uint64_t)(c[k] == '"') << k;
            n |= (uint64_t)(c[k] == '\n') << k;
            odd |= (unsigned char)c[k] >= 0x80 || c[k] == 0;
        }
        if (end_word(d, q, n, j++, dm, qm, quote_parity, nl)) break;
    }
    if (odd) *not_ascii = true;
    return j;
}

#if defined(CP_SCAN_X86)
static size_t scan_sse2(const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                        uint64_t *quote_parity, bool *not_ascii, size_t *nl) {
    const __m128i vd = _mm_set1_epi8(delim), vq = _mm_set1_epi8('"'), vn = _mm_set1_epi8('\n');
    __m128i any_or = _mm_setzero_si128(), any_min = _mm_set1_epi8((char)0xff);
    size_t j = 0;
    while (j < max_words) {
        const char *c = p + 64 * j;
        uint64_t d = 0, q = 0, n = 0;
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(c + 16 * k));
            d |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)) << (16 * k);
            q |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq)) << (16 * k);
            n |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vn)) << (16 * k);
            any_or = _mm_or_si128(any_or, v);
            any_min = _mm_min_epu8(any_min, v);
        }
        if (end_word(d, q, n, j++, dm, qm, quote_parity, nl)) break;
    }
    if (_mm_movemask_epi8(any_or) | _mm_movemask_epi8(_mm_cmpeq_epi8(any_min, _mm_setzero_si128())))
        *not_ascii = true;
    return j;
}

__attribute__((target("avx2")))
static size_t scan_avx2(const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                        uint64_t *quote_parity, bool *not_ascii, size_t *nl) {
    const __m256i vd = _mm256_set1_epi8(delim), vq = _mm256_set1_epi8('"'), vn = _mm256_set1_epi8('\n');
    __m256i any_or = _mm256_setzero_si256(), any_min = _mm256_set1_epi8((char)0xff);
    size_t j = 0;
    while (j < max_words) {
        const char *c = p + 64 * j;
        __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)c);
        __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(c + 32));
        uint64_t d = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vd)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vd)) << 32;
        uint64_t q = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vq)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vq)) << 32;
        uint64_t n = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vn)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vn)) << 32;
        any_or = _mm256_or_si256(any_or, _mm256_or_si256(lo, hi));
        any_min = _mm256_min_epu8(any_min, _mm256_min_epu8(lo, hi));
        if (end_word(d, q, n, j++, dm, qm, quote_parity, nl)) break;
    }
    if (_mm256_movemask_epi8(any_or) | _mm256_movemask_epi8(_mm256_cmpeq_epi8(any_min, _mm256_setzero_si256())))
        *not_ascii = true;
    return j;
}

__attribute__((target("avx512f,avx512bw")))
static size_t scan_avx512(const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                          uint64_t *quote_parity, bool *not_ascii, size_t *nl) {
    const __m512i vd = _mm512_set1_epi8(delim), vq = _mm512_set1_epi8('"'), vn = _mm512_set1_epi8('\n');
    __m512i any_or = _mm512_setzero_si512(), any_min = _mm512_set1_epi8((char)0xff);
    size_t j = 0;
    while (j < max_words) {
        __m512i v = _mm512_loadu_si512((const void *)(p + 64 * j));
        uint64_t d = _mm512_cmpeq_epi8_mask(v, vd), q = _mm512_cmpeq_epi8_mask(v, vq),
                 n = _mm512_cmpeq_epi8_mask(v, vn);
        any_or = _mm512_or_si512(any_or, v);
        any_min = _mm512_min_epu8(any_min, v);
        if (end_word(d, q, n, j++, dm, qm, quote_parity, nl)) break;
    }
    if (_mm512_movepi8_mask(any_or) | _mm512_cmpeq_epi8_mask(any_min, _mm512_setzero_si512()))
        *not_ascii = true;
    return j;
}
#endif

size_t cp_csv_scan(cp_simd level, const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                   uint64_t *quote_parity, bool *not_ascii, size_t *nl) {
    *nl = SIZE_MAX;
    switch (level) {
#if defined(CP_SCAN_X86)
    case CP_SIMD_AVX512: return scan_avx512(p, max_words, delim, dm, qm, quote_parity, not_ascii, nl);
    case CP_SIMD_AVX2: return scan_avx2(p, max_words, delim, dm, qm, quote_parity, not_ascii, nl);
    case CP_SIMD_SSE2: return scan_sse2(p, max_words, delim, dm, qm, quote_parity, not_ascii, nl);
#endif
    default: return scan_scalar(p, max_words, delim, dm, qm, quote_parity, not_ascii, nl);
    }
}

/* ---- the level ------------------------------------------------------------ */

cp_simd cp_simd_supported(void) {
#if defined(CP_SCAN_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return CP_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2")) return CP_SIMD_AVX2;
    return CP_SIMD_SSE2;
#else
    return CP_SIMD_SCALAR;
#endif
}

/* -1 until the first call, then the level; a plain atomic: racing first
 * calls compute the same value. */
static _Atomic int g_level = -1;

cp_simd cp_simd_level(void) {
    int level = atomic_load_explicit(&g_level, memory_order_relaxed);
    if (level >= 0) return (cp_simd)level;
    cp_simd best = cp_simd_supported(), want = best;
    const char *env = getenv("CLICKPATH_SIMD");
    if (env) {
        if (strcmp(env, "bytes") == 0) want = CP_SIMD_BYTES;
        else if (strcmp(env, "scalar") == 0) want = CP_SIMD_SCALAR;
        else if (strcmp(env, "sse2") == 0) want = CP_SIMD_SSE2;
        else if (strcmp(env, "avx2") == 0) want = CP_SIMD_AVX2;
        else if (strcmp(env, "avx512") == 0) want = CP_SIMD_AVX512;
    }
    if (want > best) want = best;
    atomic_store_explicit(&g_level, (int)want, memory_order_relaxed);
    return want;
}

cp_simd cp_simd_force(cp_simd level) {
    cp_simd best = cp_simd_supported();
    if (level > best) level = best;
    atomic_store_explicit(&g_level, (int)level, memory_order_relaxed);
    return level;
}
