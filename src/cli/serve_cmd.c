/* serve_cmd.c -- `clickpath serve`: runs the collector (src/server/) until
 * SIGTERM or SIGINT, then drains: every request already received is logged
 * and answered, the active segment is closed and compressed.
 *
 * Exit statuses: 0 stopped by a signal, 2 usage error (bad option, bad
 * registry, DIR locked by another collector), 3 cannot listen or write.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server.h"

static const char help_serve[] =
"Usage: clickpath serve --data DIR [OPTIONS]\n"
"\n"
"Collects live events and tracking-link clicks into a durable log that\n"
"'clickpath report DIR' reads (docs/collector.md).\n"
"\n"
"  --listen ADDR:PORT    address to listen on (default 127.0.0.1:8080; port 0 = any)\n"
"  --data DIR            segment directory (created when missing; one collector per DIR)\n"
"  --registry FILE       tag registry (R5.1) for GET /r/TAG redirects\n"
"  --token-file FILE     require 'Authorization: Bearer TOKEN' on POST /events\n"
"  --token TOKEN         the same, given inline (visible in ps; prefer --token-file)\n"
"  --landing-base URL    marketplace origin of landing URLs (default https://www.amazon.com)\n"
"  --max-body BYTES      largest POST body, K/M suffix allowed (default 16M; larger: 413)\n"
"  --segment-size BYTES  rotate segments at this size (default 64M)\n"
"  --segment-age SECS    rotate a non-empty segment this old (default 3600)\n"
"  --no-compress         keep closed segments as plain .jsonl (default: zstd)\n"
"  --threads N           HTTP worker threads (default: online cores)\n"
"  --timeout SECS        close idle or slow connections after this (default 10)\n"
"  --cookie-secure       mark the visitor cookie Secure (behind HTTPS)\n"
"  --port-file FILE      write the port it listens on to FILE once ready\n"
"\n"
"Routes: GET /r/TAG, POST /events, GET /healthz, GET /metrics.\n";

static void to_stderr(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "%s\n", msg);
}

/* BYTES with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-') return false;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') { shift = 10; end++; }
    else if (*end == 'M' || *end == 'm') { shift = 20; end++; }
    else if (*end == 'G' || *end == 'g') { shift = 30; end++; }
    if (*end != '\0' || v == 0 || v > (UINT64_MAX >> shift)) return false;
    *out = (uint64_t)v << shift;
    return true;
}

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "clickpath serve: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'clickpath serve --help'.\n");
    return 2;
}

static char *read_token_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char b[1024];
    size_t n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[n] = '\0';
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ')) b[--n] = '\0';
    return n ? strdup(b) : NULL;
}

int cp_cli_serve(int argc, char **argv) {
    enum { O_LISTEN = 256, O_DATA, O_REGISTRY, O_TOKEN, O_TOKEN_FILE, O_BASE, O_MAX_BODY, O_SEG_SIZE,
           O_SEG_AGE, O_NO_COMPRESS, O_THREADS, O_TIMEOUT, O_COOKIE_SECURE, O_PORT_FILE, O_HELP };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN}, {"data", required_argument, NULL, O_DATA},
        {"registry", required_argument, NULL, O_REGISTRY}, {"token", required_argument, NULL, O_TOKEN},
        {"token-file", required_argument, NULL, O_TOKEN_FILE}, {"landing-base", required_argument, NULL, O_BASE},
        {"max-body", required_argument, NULL, O_MAX_BODY}, {"segment-size", required_argument, NULL, O_SEG_SIZE},
        {"segment-age", required_argument, NULL, O_SEG_AGE}, {"no-compress", no_argument, NULL, O_NO_COMPRESS},
        {"threads", required_argument, NULL, O_THREADS}, {"timeout", required_argument, NULL, O_TIMEOUT},
        {"cookie-secure", no_argument, NULL, O_COOKIE_SECURE}, {"port-file", required_argument, NULL, O_PORT_FILE},
        {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0}};
    cp_server_options o = {0};
    const char *port_file = NULL;
    char *token = NULL;
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: o.listen = optarg; break;
        case O_DATA: o.data_dir = optarg; break;
        case O_REGISTRY: o.registry_path = optarg; break;
        case O_TOKEN: o.token = optarg; break;
        case O_TOKEN_FILE:
            free(token);
            token = read_token_file(optarg);
            if (!token) return usage("--token-file %s: cannot read a token from it", optarg);
            o.token = token;
            break;
        case O_BASE:
            if (strncmp(optarg, "https://", 8) != 0 && strncmp(optarg, "http://", 7) != 0)
                return usage("--landing-base %s: expected an http(s):// origin", optarg);
            o.landing_base = optarg;
            break;
        case O_MAX_BODY:
            if (!parse_size(optarg, &v) || v > (1ull << 31)) return usage("--max-body %s: expected a size up to 2G", optarg);
            o.max_body_bytes = (size_t)v;
            break;
        case O_SEG_SIZE:
            if (!parse_size(optarg, &v)) return usage("--segment-size %s: expected a size such as 64M", optarg);
            o.log.segment_bytes = v;
            break;
        case O_SEG_AGE:
            if (!parse_size(optarg, &v) || v > 86400 * 365) return usage("--segment-age %s: expected seconds", optarg);
            o.log.segment_seconds = (uint32_t)v;
            break;
        case O_NO_COMPRESS: o.log.no_compress = true; break;
        case O_THREADS:
            if (!parse_size(optarg, &v) || v > 256) return usage("--threads %s: expected 1..256", optarg);
            o.threads = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (!parse_size(optarg, &v) || v > 3600) return usage("--timeout %s: expected 1..3600 seconds", optarg);
            o.timeout_s = (unsigned)v;
            break;
        case O_COOKIE_SECURE: o.cookie_secure = true; break;
        case O_PORT_FILE: port_file = optarg; break;
        case O_HELP: fputs(help_serve, stdout); free(token); return 0;
        default: free(token); return usage("%s", "unknown option");
        }
    }
    if (optind < argc) { free(token); return usage("unexpected argument '%s'", argv[optind]); }
    if (!o.data_dir) { free(token); return usage("%s", "--data DIR is required"); }
    o.msg = to_stderr;

    /* Signals are taken by sigwait() below: block them before any thread
     * starts, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    cp_error err = {0};
    cp_server *s = cp_server_start(&o, &err);
    if (!s) {
        fprintf(stderr, "clickpath %s\n", err.msg);
        free(token);
        return err.code == CP_EUSAGE ? 2 : 3;
    }
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", cp_server_port(s)) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
            fprintf(stderr, "clickpath serve: cannot write --port-file %s\n", port_file);
            cp_server_stop(s);
            free(token);
            return 3;
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "clickpath serve: %s: draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    cp_server_stop(s);
    fprintf(stderr, "clickpath serve: stopped\n");
    free(token);
    return 0;
}
