/* gctk ps: which container holds which GPU (see include/gctk/ps.h).
 *
 *   gctk ps [--root DIR] [--json] [--no-trunc] [--watch SECONDS] [--container ID]
 *           [--docker-host unix:///PATH] [--podman-host unix:///PATH]
 *
 * Exit status: 0; with --container, 0 when the container holds a GPU, 1 when
 * it holds none; 1 (2 with --container) when NVML cannot be asked; 2 bad usage. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gctk ps [--root DIR] [--json] [--no-trunc] [--watch SECONDS]\n"
               "               [--container ID] [--docker-host unix:///PATH]\n"
               "               [--podman-host unix:///PATH]\n\n"
               "One line per process on a GPU: the GPU (index, or GPU:MIG for a MIG device),\n"
               "its UUID and utilisation, the host PID, the process, the GPU memory it uses,\n"
               "and its container: engine, id, name and Kubernetes pod. GPUs with no process\n"
               "are listed as free. Names come from Docker's and Podman's sockets ($DOCKER_HOST,\n"
               "$CONTAINER_HOST, else the default ones) and from kubelet's logs.\n"
               "--container ID shows what one container holds (an id, a unique id prefix, a\n"
               "name, or NAMESPACE/POD); the exit status is 0 when it holds a GPU, 1 when not.\n"
               "--watch SECONDS repeats until interrupted.\n");
}

/* ---- the table ------------------------------------------------------------------- */

enum { COL_UTIL = 2, COL_MEMORY = 6, COLUMNS = 11 };
static const char *const header[COLUMNS] = {"GPU",       "UUID",    "UTIL",   "PID",
                                            "TYPE",      "PROCESS", "MEMORY", "ENGINE",
                                            "CONTAINER", "NAME",    "POD"};

struct table {
    char **cells; /* rows * COLUMNS; NULL cells end a short row */
    size_t rows;
};

static void table_add(struct table *t, char *const row[COLUMNS])
{
    t->cells = xrealloc(t->cells, (t->rows + 1) * COLUMNS * sizeof(*t->cells));
    for (size_t i = 0; i < COLUMNS; i++)
        t->cells[t->rows * COLUMNS + i] = row[i];
    t->rows++;
}

static void table_print(struct table *t)
{
    size_t width[COLUMNS] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (size_t i = 0; i < COLUMNS && t->cells[r * COLUMNS + i] != NULL; i++)
            if (strlen(t->cells[r * COLUMNS + i]) > width[i])
                width[i] = strlen(t->cells[r * COLUMNS + i]);
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t i = 0; i < COLUMNS && t->cells[r * COLUMNS + i] != NULL; i++) {
            bool last = i + 1 == COLUMNS || t->cells[r * COLUMNS + i + 1] == NULL;
            /* numbers to the right, as nvidia-smi has them */
            bool right = i == COL_UTIL || i == COL_MEMORY;
            printf(right ? "%*s%s" : "%-*s%s", last && !right ? 0 : (int)width[i],
                   t->cells[r * COLUMNS + i], last ? "\n" : "  ");
        }
    }
    for (size_t k = 0; k < t->rows * COLUMNS; k++)
        free(t->cells[k]);
    free(t->cells);
    *t = (struct table){0};
}

/* a hex container id as Docker shows it; any other name whole */
static char *short_id(const char *id, bool full)
{
    if (id == NULL)
        return xstrdup("-");
    return !full && strlen(id) == 64 ? xstrndup(id, 12) : xstrdup(id);
}

/* "GPU-2d4e8f1a": enough to select it with gctk (a unique prefix of 8) */
static char *short_uuid(const char *uuid, bool full)
{
    if (uuid == NULL)
        return xstrdup("-");
    return full ? xstrdup(uuid) : xstrndup(uuid, 12);
}

static char *pod_cell(const struct ps_container *c, bool full)
{
    if (c->pod_name != NULL)
        return xasprintf("%s/%s", c->pod_namespace ? c->pod_namespace : "?", c->pod_name);
    if (c->pod_uid != NULL)
        return full ? xasprintf("uid:%s", c->pod_uid) : xasprintf("uid:%.8s", c->pod_uid);
    if (c->podman_pod != NULL)
        return short_id(c->podman_pod, full);
    return xstrdup("-");
}

static char *util_cell(const struct ps_device *d)
{
    return d->usage.gpu_percent >= 0 ? xasprintf("%d%%", d->usage.gpu_percent) : xstrdup("-");
}

static void device_cells(const gctk_host *h, const struct ps_device *d, bool full,
                         char *row[COLUMNS])
{
    row[0] = ps_device_id(h, d);
    row[1] = short_uuid(ps_device_uuid(h, d), full);
    row[2] = util_cell(d);
}

static void print_table(const gctk_host *h, const struct ps_snapshot *s, const size_t *only,
                        size_t nonly, bool full)
{
    struct table t = {0};
    char *row[COLUMNS];
    for (size_t i = 0; i < COLUMNS; i++)
        row[i] = xstrdup(header[i]);
    table_add(&t, row);
    size_t count = only != NULL ? nonly : s->nprocs;
    size_t next = 0; /* the next process to print, in device order */
    for (size_t d = 0; d < s->ndevices; d++) {
        const struct ps_device *dev = &s->devices[d];
        if (!dev->listed)
            continue;
        if (dev->nprocs == 0) {
            if (only != NULL)
                continue;
            memset(row, 0, sizeof(row));
            device_cells(h, dev, full, row);
            row[3] = xstrdup("free");
            table_add(&t, row);
            continue;
        }
        for (; next < count; next++) {
            const struct ps_process *p = &s->procs[only != NULL ? only[next] : next];
            if (p->device != d)
                break;
            char types[8];
            device_cells(h, dev, full, row);
            row[3] = xasprintf("%u", p->pid);
            row[4] = xstrdup(ps_types_name(p->types, types, sizeof(types)));
            row[5] = xstrdup(p->name != NULL ? p->name : "?");
            row[6] = p->used_bytes >= 0 ? xasprintf("%lld MiB", p->used_bytes / (1024 * 1024))
                                        : xstrdup("N/A");
            row[7] = xstrdup(p->c.engine != PS_ENGINE_NONE ? ps_engine_name(p->c.engine) : "-");
            row[8] = short_id(p->c.id, full);
            row[9] = xstrdup(p->c.name != NULL ? p->c.name : "-");
            row[10] = pod_cell(&p->c, full);
            table_add(&t, row);
        }
    }
    table_print(&t);
}

/* ---- the command ------------------------------------------------------------------- */

static bool parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0.1 || v > 86400)
        return false;
    *out = v;
    return true;
}

/* One snapshot, printed. The exit status of a single run; *failed when
 * nothing could be asked. */
static int show(gctk_host *h, const struct ps_options *o, const char *container, bool json,
                bool full, bool watching, bool *failed)
{
    struct ps_snapshot s = {0};
    cleanup_error gctk_error *err = NULL;
    if (ps_snapshot_take(h, o, &s, &err) < 0) {
        /* the error carries the host's warning about NVML */
        report_error(err);
        *failed = true;
        return container != NULL ? 2 : 1;
    }
    cleanup_free size_t *only = NULL;
    long n = 0;
    int rc = 0;
    if (container != NULL) {
        n = ps_container_lookup(&s, container, &only, &err);
        if (n < 0) {
            report_error(err);
            ps_snapshot_clear(&s);
            return 2;
        }
        rc = n > 0 ? 0 : 1;
    }
    if (json) {
        json_t *j = ps_snapshot_json(h, &s, container != NULL ? only : NULL, (size_t)n);
        json_dumpf(j, stdout, (watching ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else if (container != NULL && n == 0) {
        if (!watching)
            report("ps: no GPU process belongs to a container `%s`", container);
    } else {
        print_table(h, &s, container != NULL ? only : NULL, (size_t)n, full);
    }
    fflush(stdout);
    for (size_t i = 0; i < s.warnings.len; i++)
        fprintf(stderr, "gctk: warning: %s\n", s.warnings.items[i]);
    ps_snapshot_clear(&s);
    return rc;
}

int cmd_ps(int argc, char **argv, struct global_opts *g)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"no-trunc", no_argument, NULL, 'T'},
        {"watch", required_argument, NULL, 'w'},
        {"container", required_argument, NULL, 'c'},
        {"docker-host", required_argument, NULL, 'H'},
        {"podman-host", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct ps_options o = {0};
    bool json = false, full = false;
    double every = 0;
    const char *container = NULL;
    struct verb_args v = {.name = "ps", .opts = opts, .usage = usage, .argc = argc, .argv = argv};
    int c;
    while ((c = verb_option(&v)) >= 0) {
        switch (c) {
        case 'r':
            g->root = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'T':
            full = true;
            break;
        case 'w':
            if (!parse_seconds(optarg, &every))
                return report("ps: bad --watch `%s`: give seconds, 0.1 to 86400", optarg), 2;
            break;
        case 'c':
            if (optarg[0] == '\0')
                return report("ps: --container needs a container id or name"), 2;
            container = optarg;
            break;
        case 'H':
            o.docker_host = optarg;
            break;
        case 'P':
            o.podman_host = optarg;
            break;
        }
    }
    if (c == VERB_EXIT || verb_operands(&v, 0, 0, NULL) < 0)
        return v.status;
    gctk_host *h = open_host_or_report(g, 0);
    if (h == NULL)
        return container != NULL ? 2 : 1;
    int rc;
    bool failed = false;
    if (every <= 0) {
        rc = show(h, &o, container, json, full, false, &failed);
    } else {
        /* until interrupted; a terminal gets each table on a clean screen */
        bool tty = !json && isatty(STDOUT_FILENO);
        for (;;) {
            if (tty) {
                time_t now = time(NULL);
                char stamp[64];
                strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", localtime(&now));
                printf("\033[H\033[2JEvery %gs: gctk ps%s%s  %s\n\n", every,
                       container ? " --container " : "", container ? container : "", stamp);
            }
            rc = show(h, &o, container, json, full, true, &failed);
            if (failed || rc == 2)
                break;
            if (!tty && !json)
                putchar('\n');
            fflush(stdout);
            struct timespec ts = {.tv_sec = (time_t)every,
                                  .tv_nsec = (long)((every - (double)(time_t)every) * 1e9)};
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        }
    }
    if (!failed)
        print_warnings(h);
    gctk_host_free(h);
    return rc;
}
