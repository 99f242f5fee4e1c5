/* botlist.c -- the built-in bot list of R3.1.1: lower-case substrings matched
 * case-insensitively against the user agent.  Crawlers, headless browsers,
 * HTTP libraries and AI crawlers.  Replaced as a whole by --bot-list FILE. */
#include <stddef.h>

#include "gen/gen.h"

const char *const cp_builtin_bot_list[] = {
    /* generic words used by most crawlers */
    "bot", "crawler", "spider", "crawl", "slurp", "scraper", "fetcher",
    "archiver", "monitor", "checker", "preview",
    /* search engines and their named crawlers */
    "googlebot", "bingbot", "yandex", "baiduspider", "duckduckbot",
    "sogou", "exabot", "facebookexternalhit", "facebot", "ia_archiver",
    "applebot", "petalbot", "semrush", "ahrefs", "mj12bot", "dotbot",
    "seznambot", "qwantify", "bytespider", "linkedinbot", "twitterbot",
    "pinterest", "embedly", "quora link preview", "whatsapp", "telegrambot",
    "discordbot", "slackbot", "skypeuripreview", "google-inspectiontool",
    "adsbot", "mediapartners-google", "feedfetcher", "apis-google",
    /* AI crawlers */
    "gptbot", "chatgpt-user", "oai-searchbot", "claudebot", "claude-web",
    "anthropic-ai", "perplexitybot", "ccbot", "cohere-ai", "diffbot",
    "google-extended", "amazonbot", "imagesiftbot", "omgili", "youbot",
    "meta-externalagent", "timpibot",
    /* headless and automated browsers */
    "headlesschrome", "phantomjs", "slimerjs", "selenium", "webdriver",
    "puppeteer", "playwright", "electron", "htmlunit", "splash",
    /* HTTP libraries and command-line clients */
    "curl/", "wget/", "python-requests", "python-urllib", "python-httpx",
    "aiohttp", "httpclient", "okhttp", "go-http-client", "java/",
    "apache-httpclient", "libwww-perl", "lwp::simple", "php/", "guzzlehttp",
    "axios/", "node-fetch", "undici", "got (", "ruby", "httpie", "postmanruntime",
    "insomnia", "scrapy", "mechanize", "winhttp", "libcurl", "powershell",
    "http_request2", "nutch", "heritrix", "pycurl", "rest-client",
    "uptimerobot", "pingdom", "statuscake", "site24x7", "newrelicpinger",
    "zgrab", "masscan", "nmap", "nikto", "sqlmap",
    /* feed readers, link checkers and proxies fetching for a service, not a
     * shopper (seen in shared/data/apache-access-log) */
    "feedburner", "feedbin", "tt-rss.org", "feedly", "newsblur", "inoreader",
    "ezooms", "siteexplorer", "favicon", "flipboardproxy", "flipboardrss",
    "appengine-google", "libfetch", "xenu link sleuth", "daumoa", "binlar",
    "googleimageproxy",
    NULL
};
