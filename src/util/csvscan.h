/* csvscan.h -- the byte scan under the CSV reader (ingest.c, R1.1, R1.4b):
 * 64 bytes of a line to a word, the bit masks of its delimiter and quote
 * bytes, where its line end is, and whether it is plain ASCII, in one pass.
 *
 * One small interface, several implementations (redis' ae.c): SSE2 (every
 * x86-64), AVX2 and AVX-512BW chosen at run time from what the CPU has (the
 * build needs no -march flag), and a plain loop elsewhere.  Every level
 * gives the same masks; tests force each one (cp_simd_force) and compare.
 */
#ifndef CLICKPATH_CSVSCAN_H
#define CLICKPATH_CSVSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cp_simd {
    CP_SIMD_BYTES = 0,  /* no masks: the CSV reader goes byte by byte (its
                         * csv_find_record and csv_split), the reference
                         * that tests hold the other levels to */
    CP_SIMD_SCALAR = 1, /* masks from a plain loop: any CPU */
    CP_SIMD_SSE2 = 2,   /* 16 bytes a step (x86-64 baseline) */
    CP_SIMD_AVX2 = 3,   /* 32 bytes a step */
    CP_SIMD_AVX512 = 4  /* 64 bytes a step (AVX-512BW) */
} cp_simd;

/* The level the CSV reader uses: the best this CPU and build support, at
 * most the one named by the environment variable CLICKPATH_SIMD ("bytes",
 * "scalar", "sse2", "avx2", "avx512"; read once) or by cp_simd_force().
 * Thread-safe. */
cp_simd cp_simd_level(void);
/* The best level this CPU and build support, whatever is forced. */
cp_simd cp_simd_supported(void);
/* For tests and benchmarks: makes cp_simd_level() return `level`, lowered to
 * what the CPU supports; returns the level now in force.  Runs loading at the
 * same time may use either level (the results are the same). */
cp_simd cp_simd_force(cp_simd level);

/* The scan of one line (any level but CP_SIMD_BYTES): up to max_words whole words p[0, 64 * max_words),
 * all readable, stopping after the first word that holds a '\n'.  Writes
 * dm[j] and qm[j], the delimiter and quote bits of word j (bit k is byte
 * 64j + k; bits at and past the '\n' clear), xors the quote words into
 * *quote_parity (its parity is that of the quote count) and sets *not_ascii
 * when a byte of the words read is >= 0x80 or NUL (bytes past the '\n'
 * included).  Returns the words written; *nl is the offset of the '\n' from
 * p, or SIZE_MAX when the words hold none. */
size_t cp_csv_scan(cp_simd level, const char *p, size_t max_words, char delim, uint64_t *dm, uint64_t *qm,
                   uint64_t *quote_parity, bool *not_ascii, size_t *nl);

#endif /* CLICKPATH_CSVSCAN_H */
