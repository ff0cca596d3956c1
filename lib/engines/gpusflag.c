/* The `--gpus` grammar of docker/cli and the daemon's nvidia device driver.
 *
 * The flag value is one record of Go's encoding/csv (comma separated, fields
 * may be double-quoted, `""` inside quotes is a quote, empty lines are
 * skipped, nothing is trimmed): so `"device=0,3"` is one field while
 * `device=0,3` is the field `device=0` followed by a bare count `3`. The CSV
 * reader below follows Go's rules and error texts (1-based byte columns) so
 * that gctk rejects exactly what `docker run --gpus` rejects. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "gpusflag.h"

/* dockerd refuses nothing here, but a count is expanded into "0,1,...,N-1":
 * bound it far above any real host so that a typo cannot eat the memory. */
#define MAX_EXPANDED_COUNT 65536

static const char *const nvidia_caps[] = {
    "compute", "compat32", "graphics", "utility", "video", "display",
};

bool device_cap_is_nvidia(const char *cap)
{
    for (size_t i = 0; i < GCTK_ARRAY_LEN(nvidia_caps); i++)
        if (strcmp(cap, nvidia_caps[i]) == 0)
            return true;
    return false;
}

/* ---- Go encoding/csv, one record --------------------------------------------- */

struct csv_reader {
    const char *in; /* what is left of the input */
    int line;       /* lines read so far */
    char *buf;      /* the current line, "\r\n" folded to "\n" */
    size_t len;
};

/* Reads the next line, with its '\n' when it has one; false at end of input. */
static bool csv_read_line(struct csv_reader *r)
{
    if (*r->in == '\0') {
        r->len = 0;
        return false;
    }
    const char *nl = strchr(r->in, '\n');
    size_t n = nl != NULL ? (size_t)(nl - r->in) + 1 : strlen(r->in);
    free(r->buf);
    r->buf = xstrndup(r->in, n);
    r->len = n;
    r->in += n;
    r->line++;
    /* Go folds "\r\n" into "\n" and drops a '\r' right before the end */
    if (n >= 2 && r->buf[n - 2] == '\r' && r->buf[n - 1] == '\n') {
        r->buf[n - 2] = '\n';
        r->buf[--r->len] = '\0';
    } else if (nl == NULL && r->buf[n - 1] == '\r') {
        r->buf[--r->len] = '\0';
    }
    return true;
}

static void csv_reader_done(struct csv_reader *r)
{
    free(r->buf);
}

static int csv_error(gctk_error **err, int start_line, int line, size_t col, const char *what)
{
    if (start_line != line)
        return gctk_fail(err, 0, "record on line %d; parse error on line %d, column %zu: %s",
                         start_line, line, col, what);
    return gctk_fail(err, 0, "parse error on line %d, column %zu: %s", line, col, what);
}

static const char err_bare_quote[] = "bare \" in non-quoted-field";
static const char err_quote[] = "extraneous or missing \" in quoted-field";

/* The first record of text, as Go's csv.Reader.Read returns it. */
static int csv_read_record(const char *text, struct strv *out, gctk_error **err)
{
    __attribute__((cleanup(csv_reader_done))) struct csv_reader r = {.in = text};
    cleanup_strv struct strv fields = {0};
    /* skip empty lines; nothing else: end of input, Go's io.EOF */
    bool have;
    while ((have = csv_read_line(&r)) && r.len == 1 && r.buf[0] == '\n')
        ;
    if (!have)
        return gctk_fail(err, 0, "EOF");
    int start_line = r.line;
    const char *p = r.buf;
    size_t col = 1;
    for (bool end = false; !end;) {
        size_t left = r.len - (size_t)(p - r.buf);
        if (left == 0 || *p != '"') {
            const char *comma = memchr(p, ',', left);
            size_t n = comma != NULL ? (size_t)(comma - p) : left;
            if (comma == NULL && n > 0 && p[n - 1] == '\n')
                n--;
            const char *q = memchr(p, '"', n);
            if (q != NULL)
                return csv_error(err, start_line, r.line, col + (size_t)(q - p), err_bare_quote);
            strv_push(&fields, xstrndup(p, n));
            if (comma == NULL)
                break;
            col += n + 1;
            p = comma + 1;
            continue;
        }
        /* a quoted field, possibly over several lines */
        cleanup_strbuf struct strbuf field = {0}; /* grows by doubling: "" pairs stay linear */
        p++;
        col++;
        for (;;) {
            left = r.len - (size_t)(p - r.buf);
            const char *q = memchr(p, '"', left);
            if (q != NULL) {
                size_t n = (size_t)(q - p);
                strbuf_addf(&field, "%.*s", (int)n, p);
                p = q + 1;
                col += n + 1;
                left = r.len - (size_t)(p - r.buf);
                if (left > 0 && *p == '"') {
                    strbuf_addf(&field, "\"");
                    p++;
                    col++;
                } else if (left > 0 && *p == ',') {
                    p++;
                    col++;
                    strv_push(&fields, strbuf_steal(&field));
                    break;
                } else if (left == 0 || (left == 1 && *p == '\n')) {
                    strv_push(&fields, strbuf_steal(&field));
                    end = true; /* the record ends with this field */
                    break;
                } else {
                    return csv_error(err, start_line, r.line, col - 1, err_quote);
                }
            } else if (left > 0) {
                strbuf_addf(&field, "%.*s", (int)left, p);
                col += left;
                if (csv_read_line(&r))
                    col = 1;
                p = r.buf;
            } else {
                return csv_error(err, start_line, r.line, col, err_quote);
            }
        }
    }
    *out = fields;
    fields = (struct strv){0};
    return 0;
}

/* ---- the flag ------------------------------------------------------------------ */

/* Go's strconv.Atoi on a 64-bit host, or "all". */
static int parse_count(const char *s, long *out, gctk_error **err)
{
    if (strcmp(s, "all") == 0) {
        *out = -1;
        return 0;
    }
    const char *d = s + (*s == '+' || *s == '-');
    bool digits = *d != '\0';
    for (const char *c = d; *c != '\0'; c++)
        if (*c < '0' || *c > '9')
            digits = false;
    const char *why = "invalid syntax";
    if (digits) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0 && v >= LONG_MIN && v <= LONG_MAX) {
            *out = (long)v;
            return 0;
        }
        why = "value out of range";
    }
    return gctk_fail(err, 0, "invalid count (%s): value must be either \"all\" or an integer: %s",
                     s, why);
}

void device_request_set_option(struct device_request *r, const char *key, const char *value)
{
    size_t klen = strlen(key);
    char *kv = xasprintf("%s=%s", key, value);
    for (size_t i = 0; i < r->options.len; i++) {
        if (strncmp(r->options.items[i], key, klen) == 0 && r->options.items[i][klen] == '=') {
            free(r->options.items[i]);
            r->options.items[i] = kv;
            return;
        }
    }
    strv_push(&r->options, kv);
}

static void split_into(struct strv *v, const char *list)
{
    const char *p = list;
    for (;;) {
        const char *c = strchr(p, ',');
        if (c == NULL) {
            strv_push(v, xstrdup(p));
            return;
        }
        strv_push(v, xstrndup(p, (size_t)(c - p)));
        p = c + 1;
    }
}

int gpusflag_parse(const char *value, struct device_request *out, gctk_error **err)
{
    cleanup_strv struct strv fields = {0}, seen = {0};
    __attribute__((cleanup(device_request_clear))) struct device_request req = {0};
    if (csv_read_record(value, &fields, err) < 0)
        return -1;
    for (size_t i = 0; i < fields.len; i++) {
        const char *field = fields.items[i];
        const char *eq = strchr(field, '=');
        cleanup_free char *key =
            eq != NULL ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
        const char *val = eq != NULL ? eq + 1 : NULL;
        if (strv_contains(&seen, key))
            return gctk_fail(err, 0, "gpu request key '%s' can be specified only once", key);
        strv_push(&seen, xstrdup(key));
        if (val == NULL) {
            /* a bare value is the count; it also blocks a later count= */
            strv_push(&seen, xstrdup("count"));
            if (parse_count(key, &req.count, err) < 0)
                return -1;
            req.has_count = true;
        } else if (strcmp(key, "driver") == 0) {
            free(req.driver);
            req.driver = xstrdup(val);
        } else if (strcmp(key, "count") == 0) {
            if (parse_count(val, &req.count, err) < 0)
                return -1;
            req.has_count = true;
        } else if (strcmp(key, "device") == 0) {
            split_into(&req.ids, val);
        } else if (strcmp(key, "capabilities") == 0) {
            split_into(&req.caps, val);
            strv_push(&req.caps, xstrdup("gpu"));
            req.has_caps = true;
        } else if (strcmp(key, "options") == 0) {
            cleanup_strv struct strv opts = {0};
            if (csv_read_record(val, &opts, err) < 0)
                return gctk_wrap(err, "failed to read gpu options");
            for (size_t j = 0; j < opts.len; j++) {
                char *oeq = strchr(opts.items[j], '=');
                if (oeq != NULL)
                    *oeq = '\0';
                device_request_set_option(&req, opts.items[j], oeq != NULL ? oeq + 1 : "");
            }
        } else {
            return gctk_fail(err, 0, "unexpected key '%s' in '%s'", key, field);
        }
    }
    /* the seen-set, not has_count: a bare "0" or "count=0" also counts */
    if (!strv_contains(&seen, "count") && req.ids.len == 0)
        req.count = 1;
    if (!req.has_caps) {
        strv_push(&req.caps, xstrdup("gpu"));
        req.has_caps = true;
    }
    *out = req;
    req = (struct device_request){0};
    return 0;
}

/* ---- the daemon's nvidia driver ---------------------------------------------- */

char *device_request_caps_string(const struct device_request *r)
{
    if (!r->has_caps)
        return xstrdup("[]");
    cleanup_free char *list = strv_join(&r->caps, " ");
    return xasprintf("[[%s]]", list);
}

/* capabilities.Set.Match: the driver must offer every capability of the list */
static bool nvidia_driver_matches(const struct device_request *r)
{
    if (r->driver != NULL && r->driver[0] != '\0' && strcmp(r->driver, "nvidia") != 0)
        return false;
    if (!r->has_caps)
        return false;
    for (size_t i = 0; i < r->caps.len; i++) {
        const char *c = r->caps.items[i];
        if (strcmp(c, "gpu") != 0 && strcmp(c, "nvidia") != 0 && !device_cap_is_nvidia(c))
            return false;
    }
    return true;
}

/* The entries of v that keep accepts (all when NULL), comma-separated; NULL
 * when none is left. */
static char *join(const struct strv *v, bool (*keep)(const char *))
{
    struct strbuf b = {0};
    bool any = false;
    for (size_t i = 0; i < v->len; i++) {
        if (keep != NULL && !keep(v->items[i]))
            continue;
        strbuf_addf(&b, "%s%s", any ? "," : "", v->items[i]);
        any = true;
    }
    return any ? strbuf_steal(&b) : NULL;
}

int device_request_to_env(const struct device_request *r, char **visible, char **caps,
                          gctk_error **err)
{
    if (!nvidia_driver_matches(r)) {
        cleanup_free char *c = device_request_caps_string(r);
        return gctk_fail(err, 0, "could not select device driver \"%s\" with capabilities: %s",
                         r->driver != NULL ? r->driver : "", c);
    }
    if (r->count != 0 && r->ids.len > 0)
        return gctk_fail(err, 0, "cannot set both Count and DeviceIDs on device request");
    if (r->count > MAX_EXPANDED_COUNT)
        return gctk_fail(err, 0, "count %ld: more GPUs than any host has", r->count);
    cleanup_free char *vis = NULL;
    if (r->ids.len > 0) {
        vis = join(&r->ids, NULL);
    } else if (r->count > 0) {
        /* "0,1,...,N-1": at most 6 characters per index below 65536 */
        vis = xmalloc((size_t)r->count * 7 + 1);
        size_t n = 0;
        for (long i = 0; i < r->count; i++)
            n += (size_t)sprintf(vis + n, i > 0 ? ",%ld" : "%ld", i);
    } else if (r->count < 0) {
        vis = xstrdup("all");
    }
    /* only the driver capabilities, in the order asked, gpu and nvidia left out */
    *caps = join(&r->caps, device_cap_is_nvidia);
    *visible = steal_pointer(&vis);
    return 0;
}

void device_request_clear(struct device_request *r)
{
    if (r == NULL)
        return;
    free(r->driver);
    strv_clear(&r->ids);
    strv_clear(&r->caps);
    strv_clear(&r->options);
    *r = (struct device_request){0};
}
