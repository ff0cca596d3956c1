/* Which GPUs a container gets: NVIDIA_VISIBLE_DEVICES and `--device` values. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "host.h"

void gctk_selection_clear(struct gctk_selection *s)
{
    free(s->gpus);
    *s = (struct gctk_selection){0};
}

/* "0 (GPU-..., 00000000:18:00.0), 1 (...)" for error messages */
static char *list_gpus(const gctk_host *h)
{
    size_t cap = 16 + h->ngpus * 80, n = 0;
    char *s = xmalloc(cap);
    s[0] = '\0';
    for (size_t i = 0; i < h->ngpus; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s%zu (%s, %s)", i ? ", " : "", i, h->gpus[i].uuid,
                              h->gpus[i].bus_id);
    return s;
}

static char *describe_gpus(const gctk_host *h)
{
    if (h->ngpus == 0)
        return xstrdup("this host has no GPU");
    cleanup_free char *list = list_gpus(h);
    return xasprintf("this host has %s", list);
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Returns the index of the GPU an id names, or -1 with *err set. */
static int resolve_id(const gctk_host *h, const char *id, gctk_error **err)
{
    if (all_digits(id)) {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(id, &end, 10);
        if (errno == 0 && v < h->ngpus)
            return (int)v;
    } else if (strncasecmp(id, "GPU-", 4) == 0) {
        /* a full UUID, or a unique prefix of at least 8 characters after "GPU-" */
        size_t n = strlen(id);
        int found = -1;
        for (size_t i = 0; i < h->ngpus; i++) {
            if (strcasecmp(h->gpus[i].uuid, id) == 0)
                return (int)i;
            if (n >= 12 && strncasecmp(h->gpus[i].uuid, id, n) == 0) {
                if (found >= 0) {
                    cleanup_free char *all = describe_gpus(h);
                    return gctk_fail(err, 0, "GPU id `%s` is ambiguous: give more of the UUID; %s",
                                     id, all);
                }
                found = (int)i;
            }
        }
        if (found >= 0)
            return found;
    } else if (strncasecmp(id, "MIG-", 4) == 0 ||
               (strchr(id, ':') != NULL && strchr(id, '.') == NULL)) {
        cleanup_free char *all = describe_gpus(h);
        return gctk_fail(err, 0, "MIG device `%s`: no GPU of this host is in MIG mode; %s", id,
                         all);
    } else {
        char bus[32];
        if (host_normalize_bus_id(id, bus, sizeof(bus)) == 0)
            for (size_t i = 0; i < h->ngpus; i++)
                if (strcmp(h->gpus[i].bus_id, bus) == 0)
                    return (int)i;
    }
    cleanup_free char *all = describe_gpus(h);
    return gctk_fail(err, 0, "unknown GPU `%s`: %s", id, all);
}

/* Docker turns `--gpus N` (and Compose `count: N`) into the ids 0,...,N-1,
 * so a count beyond the host's GPUs reaches us as an unknown index. When the
 * whole list is exactly that sequence, say so in the user's terms. */
static int fail_count_beyond(const gctk_host *h, const char *ids, gctk_error **err)
{
    cleanup_free char *copy = xstrdup(ids);
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        char expect[24];
        snprintf(expect, sizeof(expect), "%zu", n);
        if (strcmp(tok, expect) != 0)
            return 0;
        n++;
    }
    if (n < 2 || n <= h->ngpus || h->ngpus == 0)
        return 0;
    cleanup_free char *list = list_gpus(h);
    return gctk_fail(err, 0,
                     "%zu GPUs asked for (ids 0 to %zu: what `docker run --gpus %zu` and Compose's "
                     "`count: %zu` ask for) but this host has %zu: %s; ask for at most %zu, or "
                     "for all",
                     n, n - 1, n, n, h->ngpus, list, h->ngpus);
}

static int int_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int gctk_select(const gctk_host *h, const char *ids, struct gctk_selection *out, gctk_error **err)
{
    struct gctk_selection s = {0};
    cleanup_free char *copy = xstrdup(ids != NULL ? ids : "");
    str_strip(copy);
    if (copy[0] == '\0' || strcmp(copy, "void") == 0) {
        *out = s;
        return 0;
    }
    if (strcmp(copy, "none") == 0) {
        s.mode = GCTK_SELECT_NONE;
        *out = s;
        return 0;
    }
    if (strcmp(copy, "all") == 0) {
        s.mode = GCTK_SELECT_ALL;
        s.count = h->ngpus;
        s.gpus = xcalloc(h->ngpus, sizeof(int));
        for (size_t i = 0; i < h->ngpus; i++)
            s.gpus[i] = (int)i;
        *out = s;
        return 0;
    }
    if (fail_count_beyond(h, copy, err) < 0)
        return -1;
    s.mode = GCTK_SELECT_LIST;
    size_t cap = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        str_strip(tok);
        if (*tok == '\0')
            continue;
        if (strcmp(tok, "all") == 0 || strcmp(tok, "none") == 0 || strcmp(tok, "void") == 0) {
            free(s.gpus);
            return gctk_fail(err, 0, "GPU list `%s`: `%s` cannot be combined with other ids", ids,
                             tok);
        }
        int idx = resolve_id(h, tok, err);
        if (idx < 0) {
            free(s.gpus);
            return -1;
        }
        bool dup = false;
        for (size_t i = 0; i < s.count; i++)
            dup = dup || s.gpus[i] == idx;
        if (dup)
            continue;
        if (s.count == cap) {
            cap = cap ? cap * 2 : 8;
            s.gpus = xrealloc(s.gpus, cap * sizeof(int));
        }
        s.gpus[s.count++] = idx;
    }
    if (s.count == 0) {
        free(s.gpus);
        return gctk_fail(err, 0, "GPU list `%s` names no GPU", ids);
    }
    qsort(s.gpus, s.count, sizeof(int), int_cmp);
    *out = s;
    return 0;
}
