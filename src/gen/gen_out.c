/* gen_out.c -- the generator's buffered file writer and its user-agent
 * tables (R3.1.1 bot matching on the generator's side). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "gen/gen_internal.h"

/* Real browser strings.  None may contain a bot-list substring: watch for
 * "bot", "preview", "monitor", "electron", "splash", "ruby", "java/"... */
const char *const cp_gen_human_uas[] = {
    /* desktop: indexes 0..5 */
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    /* mobile: indexes 6..11 */
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    NULL
};

const char *const cp_gen_bot_uas[] = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)",
    "curl/8.4.0",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Scrapy/2.11.0 (+https://scrapy.org)",
    "Go-http-client/1.1",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    NULL
};

bool cp_gen_ua_is_bot(const char *ua) {
    char low[512];
    size_t n = strlen(ua);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)ua[i]);
    low[n] = '\0';
    for (const char *const *p = cp_builtin_bot_list; *p; p++)
        if (strstr(low, *p))
            return true;
    return false;
}

bool gen_out_open(gen_out *o, const char *dir, const char *name, size_t cap) {
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    o->buf = malloc(cap);
    if (!o->buf) {
        o->failed = true;
        o->errno_saved = ENOMEM;
        return false;
    }
    o->cap = cap;
    o->f = fopen(o->path, "wb");
    if (!o->f) {
        o->failed = true;
        o->errno_saved = errno;
        return false;
    }
    return true;
}

static void *writer_main(void *arg) {
    gen_out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (!o->wbusy && !o->wstop)
            pthread_cond_wait(&o->cv, &o->mu);
        if (!o->wbusy)
            break; /* stop requested and nothing pending */
        char *p = o->wbuf;
        size_t n = o->wlen;
        bool skip = o->wfailed;
        pthread_mutex_unlock(&o->mu);
        bool bad = !skip && fwrite(p, 1, n, o->f) != n;
        int e = errno;
        pthread_mutex_lock(&o->mu);
        if (bad) {
            o->wfailed = true;
            o->werrno = e ? e : EIO;
        }
        o->wbusy = false;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

bool gen_out_open_async(gen_out *o, const char *dir, const char *name, size_t cap) {
    if (!gen_out_open(o, dir, name, cap))
        return false;
    o->wbuf = malloc(cap);
    if (!o->wbuf) {
        o->failed = true;
        o->errno_saved = ENOMEM;
        return false;
    }
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->thread, NULL, writer_main, o) != 0) {
        /* no thread: write synchronously instead */
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
        return true;
    }
    o->async = true;
    return true;
}

void gen_out_flush(gen_out *o) {
    if (o->async) {
        pthread_mutex_lock(&o->mu);
        while (o->wbusy)
            pthread_cond_wait(&o->cv, &o->mu);
        if (o->wfailed && !o->failed) {
            o->failed = true;
            o->errno_saved = o->werrno;
        }
        if (o->len && !o->failed) {
            char *t = o->wbuf;
            o->wbuf = o->buf;
            o->buf = t;
            o->wlen = o->len;
            o->wbusy = true;
            pthread_cond_broadcast(&o->cv);
        }
        pthread_mutex_unlock(&o->mu);
        o->len = 0;
        return;
    }
    if (o->len && !o->failed && o->f) {
        if (fwrite(o->buf, 1, o->len, o->f) != o->len) {
            o->failed = true;
            o->errno_saved = errno ? errno : EIO;
        }
    }
    o->len = 0;
}

bool gen_out_close(gen_out *o) {
    gen_out_flush(o);
    if (o->async) {
        pthread_mutex_lock(&o->mu);
        o->wstop = true;
        pthread_cond_broadcast(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
        if (o->wfailed && !o->failed) {
            o->failed = true;
            o->errno_saved = o->werrno;
        }
        pthread_mutex_destroy(&o->mu);
        pthread_cond_destroy(&o->cv);
        o->async = false;
    }
    if (o->f) {
        if (fclose(o->f) != 0 && !o->failed) {
            o->failed = true;
            o->errno_saved = errno;
        }
        o->f = NULL;
    }
    free(o->buf);
    free(o->wbuf);
    o->buf = o->wbuf = NULL;
    o->cap = 0;
    return !o->failed;
}
