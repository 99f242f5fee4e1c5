/* memtouch.c -- what fresh memory costs on this machine (bench/memtouch.sh).
 *
 * A run of clickpath touches every page of its store once: 0.8 GB at 10M
 * events, 7.4 GB at 100M.  On bare metal the kernel zeroes a 4 KiB page in
 * well under a microsecond; in a virtual machine a page the host has not
 * backed yet (or took back, with free page reporting) costs the host's own
 * fault as well.  This program maps SIZE MiB of anonymous memory and gives
 * it pages in one of three ways, printing seconds and seconds per GiB:
 *
 *   fault     write one byte per 4 KiB page (a page fault each)
 *   populate  madvise(MADV_POPULATE_WRITE) on the whole range (Linux 5.14)
 *   huge      madvise(MADV_HUGEPAGE), then write one byte per 4 KiB
 *
 *   memtouch SIZE_MIB MODE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: memtouch SIZE_MIB fault|populate|huge\n");
        return 2;
    }
    size_t n = (size_t)strtoull(argv[1], NULL, 10) << 20;
    const char *mode = argv[2];
    double t0 = now();
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("memtouch: mmap");
        return 1;
    }
    if (strcmp(mode, "populate") == 0) {
#ifdef MADV_POPULATE_WRITE
        if (madvise(p, n, MADV_POPULATE_WRITE) != 0) {
            perror("memtouch: MADV_POPULATE_WRITE");
            return 1;
        }
#else
        fprintf(stderr, "memtouch: MADV_POPULATE_WRITE not in this libc's headers\n");
        return 1;
#endif
    } else if (strcmp(mode, "huge") == 0) {
        if (madvise(p, n, MADV_HUGEPAGE) != 0) perror("memtouch: MADV_HUGEPAGE");
    } else if (strcmp(mode, "fault") != 0) {
        fprintf(stderr, "memtouch: unknown mode %s\n", mode);
        return 2;
    }
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    double s = now() - t0;
    printf("%s %zu MiB: %.3f s, %.3f s per GiB\n", mode, n >> 20, s, s / ((double)n / (1 << 30)));
    munmap(p, n);
    return 0;
}
