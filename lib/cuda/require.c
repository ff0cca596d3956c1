/* The NVIDIA_REQUIRE_* language: parse once, evaluate per GPU, and when a
 * requirement fails say which condition failed, on what values, and the fix. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cudacompat.h"
#include "require.h"
#include "util.h"
#include "vercmp.h"

/* How many failed alternatives an error names before it counts the rest */
#define REASONS_SHOWN 64

enum term { TERM_CUDA, TERM_DRIVER, TERM_ARCH, TERM_BRAND };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

static const char *const term_names[] = {"cuda", "driver", "arch", "brand"};
static const char *const op_names[] = {"=", "!=", "<", "<=", ">", ">="};

struct cond {
    enum term term;
    enum op op;
    char *value;
    char *text; /* "cuda>=12.4", for messages */
};

struct alt {
    struct cond *conds;
    size_t n;
};

struct require_expr {
    char *text;
    struct alt *alts;
    size_t n;
};

void require_free(struct require_expr *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++) {
        for (size_t j = 0; j < e->alts[i].n; j++) {
            free(e->alts[i].conds[j].value);
            free(e->alts[i].conds[j].text);
        }
        free(e->alts[i].conds);
    }
    free(e->alts);
    free(e->text);
    free(e);
}

static bool is_op_char(char c)
{
    return c == '<' || c == '>' || c == '=' || c == '!';
}

static bool is_blank(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Parses one condition, text (NUL-terminated, no blanks, no commas). hint is
 * appended to a missing-operator error: the usual cause is "cuda >= 12". */
static int parse_cond(const char *text, struct cond *c, const char *hint, gctk_error **err)
{
    const char *p = text;
    while (*p != '\0' && !is_op_char(*p))
        p++;
    size_t term_len = (size_t)(p - text);
    if (term_len == 0)
        return gctk_fail(err, 0,
                         "requirement `%s`: missing term at column 1: expected cuda, driver, "
                         "arch or brand",
                         text);
    size_t t = 0;
    while (t < GCTK_ARRAY_LEN(term_names) &&
           !(strlen(term_names[t]) == term_len && strncasecmp(text, term_names[t], term_len) == 0))
        t++;
    if (t == GCTK_ARRAY_LEN(term_names))
        return gctk_fail(err, 0,
                         "requirement `%s`: unknown term `%.*s` at column 1: expected cuda, "
                         "driver, arch or brand",
                         text, (int)term_len, text);

    const char *op = p;
    while (is_op_char(*p))
        p++;
    size_t op_len = (size_t)(p - op);
    size_t op_col = (size_t)(op - text) + 1;
    if (op_len == 0)
        return gctk_fail(err, 0, "requirement `%s`: missing operator at column %zu%s", text, op_col,
                         hint);
    size_t o = 0;
    while (o < GCTK_ARRAY_LEN(op_names) &&
           !(strlen(op_names[o]) == op_len && strncmp(op, op_names[o], op_len) == 0))
        o++;
    if (o == GCTK_ARRAY_LEN(op_names))
        return gctk_fail(err, 0,
                         "requirement `%s`: unknown operator `%.*s` at column %zu: expected =, "
                         "!=, <, <=, > or >=",
                         text, (int)op_len, op, op_col);
    if (t == TERM_BRAND && o != OP_EQ && o != OP_NE)
        return gctk_fail(err, 0,
                         "requirement `%s`: operator `%s` at column %zu does not apply to brand: "
                         "use = or !=",
                         text, op_names[o], op_col);

    const char *value = p;
    size_t value_col = (size_t)(value - text) + 1;
    if (*value == '\0')
        return gctk_fail(err, 0, "requirement `%s`: missing value at column %zu", text, value_col);
    if (t == TERM_BRAND) {
        for (const char *q = value; *q != '\0'; q++)
            if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
                return gctk_fail(err, 0,
                                 "requirement `%s`: bad brand `%s` at column %zu: expected a "
                                 "name like tesla or geforce",
                                 text, value, value_col);
    } else if (!version_valid(value)) {
        return gctk_fail(err, 0,
                         "requirement `%s`: bad version `%s` at column %zu: expected a dotted "
                         "number like %s",
                         text, value, value_col,
                         t == TERM_DRIVER ? "535.104.05"
                         : t == TERM_ARCH ? "8.0"
                                          : "12.4");
    }
    c->term = (enum term)t;
    c->op = (enum op)o;
    c->value = xstrdup(value);
    c->text = xstrdup(text);
    return 0;
}

/* Parses one alternative (no blanks): conditions joined by commas. */
static int parse_alt(const char *text, struct alt *a, const char *hint, gctk_error **err)
{
    size_t cap = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return gctk_fail(err, 0, "requirement `%s`: empty condition at column %zu", text,
                             (size_t)(p - text) + 1);
        cleanup_free char *one = xstrndup(p, len);
        struct cond c = {0};
        if (parse_cond(one, &c, hint, err) < 0)
            return -1;
        if (a->n == cap) {
            cap = cap ? cap * 2 : 4;
            a->conds = xrealloc(a->conds, cap * sizeof(*a->conds));
        }
        a->conds[a->n++] = c;
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

int require_parse(const char *expr, struct require_expr **out, gctk_error **err)
{
    cleanup_require struct require_expr *e = xcalloc(1, sizeof(*e));
    e->text = xstrdup(expr != NULL ? expr : "");
    size_t cap = 0;
    const char *p = e->text;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p != '\0' && !is_blank(*p))
            p++;
        cleanup_free char *one = xstrndup(start, (size_t)(p - start));
        /* "cuda >= 12.4" splits into three alternatives; say so when the
         * next one starts with an operator */
        const char *next = p;
        while (is_blank(*next))
            next++;
        const char *hint = is_op_char(*next) ? ": blanks separate alternatives, write a "
                                               "condition without blanks (`cuda>=12.4`)"
                                             : "";
        if (e->n == cap) {
            cap = cap ? cap * 2 : 4;
            e->alts = xrealloc(e->alts, cap * sizeof(*e->alts));
        }
        e->alts[e->n] = (struct alt){0};
        /* count it before parsing so that require_free frees what parse_alt kept */
        e->n++;
        if (parse_alt(one, &e->alts[e->n - 1], hint, err) < 0)
            return -1;
    }
    *out = steal_pointer(&e);
    return 0;
}

const char *require_text(const struct require_expr *e)
{
    return e->text;
}

const char *require_cuda_min(const struct require_expr *e)
{
    for (size_t i = 0; i < e->n; i++)
        for (size_t j = 0; j < e->alts[i].n; j++) {
            const struct cond *c = &e->alts[i].conds[j];
            if (c->term == TERM_CUDA && (c->op == OP_GE || c->op == OP_GT))
                return c->value;
        }
    return NULL;
}

/* ---- evaluation ------------------------------------------------------------ */

/* The facts as evaluation sees them: the CUDA version derived when missing. */
struct host {
    const struct require_facts *f;
    const char *cuda;
    char cuda_buf[CUDA_VERSION_BUF];
};

static const char *fact(const struct host *h, enum term t)
{
    switch (t) {
    case TERM_CUDA:
        return h->cuda;
    case TERM_DRIVER:
        return h->f->driver;
    case TERM_ARCH:
        return h->f->arch;
    case TERM_BRAND:
        return h->f->brand;
    }
    return NULL;
}

static const char *const fact_names[] = {"CUDA version", "driver version",
                                         "compute capability (arch)", "brand"};

/* 1 holds, 0 does not (also for an unknown fact), -1 malformed fact. */
static int cond_eval(const struct cond *c, const struct host *h, gctk_error **err)
{
    const char *have = fact(h, c->term);
    if (have == NULL)
        return 0;
    int cmp;
    if (c->term == TERM_BRAND) {
        cmp = strcasecmp(have, c->value);
    } else {
        if (!version_valid(have))
            return gctk_fail(err, 0, "host %s `%s` is not a dotted number", fact_names[c->term],
                             have);
        cmp = version_cmp(have, c->value);
    }
    switch (c->op) {
    case OP_EQ:
        return cmp == 0;
    case OP_NE:
        return cmp != 0;
    case OP_LT:
        return cmp < 0;
    case OP_LE:
        return cmp <= 0;
    case OP_GT:
        return cmp > 0;
    case OP_GE:
        return cmp >= 0;
    }
    return 0;
}

/* "driver 535.104.05 (CUDA 12.2)", whatever of it is known. */
static char *host_text(const struct host *h)
{
    if (h->f->driver != NULL && h->cuda != NULL)
        return xasprintf("driver %s (CUDA %s)", h->f->driver, h->cuda);
    if (h->f->driver != NULL)
        return xasprintf("driver %s", h->f->driver);
    return xasprintf("CUDA %s", h->cuda);
}

/* The short reason a condition failed: "`brand=tesla` (GPU brand geforce)". */
static char *short_reason(const struct cond *c, const struct host *h)
{
    static const char *const who[] = {"host CUDA", "host driver", "GPU arch", "GPU brand"};
    const char *have = fact(h, c->term);
    /* not "brand unknown": NVML's brand `unknown` is a real value */
    if (have == NULL)
        return xasprintf("`%s` (%s not known to this host)", c->text, who[c->term]);
    return xasprintf("`%s` (%s %s)", c->text, who[c->term], have);
}

/* The full explanation of the condition that leads the message. */
static char *long_reason(const struct cond *c, const struct host *h)
{
    const char *have = fact(h, c->term);
    if (have == NULL)
        return xasprintf("unsatisfied requirement `%s`: this host cannot tell the GPU's %s, so "
                         "the requirement cannot be checked: set NVIDIA_DISABLE_REQUIRE=true to "
                         "skip requirements",
                         c->text, fact_names[c->term]);
    switch (c->term) {
    case TERM_CUDA: {
        cleanup_free char *host = host_text(h);
        if (c->op != OP_GE && c->op != OP_GT)
            return xasprintf("unsatisfied requirement `%s`: this image needs CUDA %s %s; this "
                             "host has %s",
                             c->text, op_names[c->op], c->value, host);
        cleanup_free char *need = NULL;
        if (c->op == OP_GE) {
            struct cudacompat_result r = {0};
            if (h->f->driver != NULL &&
                cudacompat_check(c->value, h->f->driver, h->cuda, &r, NULL) == 0 &&
                r.min_driver != NULL)
                need = r.min_driver_exact
                           ? xasprintf(", which needs driver >= %s", r.min_driver)
                           : xasprintf(", which needs a driver newer than gctk's table knows "
                                       "(at least %s, the minimum of CUDA %s)",
                                       r.min_driver, r.min_driver_release);
            cudacompat_result_clear(&r);
        }
        /* the cuda-compat route is open unless the brand rules it out */
        bool fwd = cudacompat_forward_compat_brand(h->f->brand) != 0;
        return xasprintf("unsatisfied requirement `%s`: this image needs CUDA %s %s%s; this "
                         "host has %s: upgrade the driver%s",
                         c->text, op_names[c->op], c->value, need != NULL ? need : "", host,
                         fwd ? ", or use the image's cuda-compat package on a data-center GPU"
                             : "");
    }
    case TERM_DRIVER:
        return xasprintf("unsatisfied requirement `%s`: this image needs driver %s %s; this "
                         "host has driver %s",
                         c->text, op_names[c->op], c->value, have);
    case TERM_ARCH:
        return xasprintf("unsatisfied requirement `%s`: this image needs a GPU of compute "
                         "capability %s %s; this GPU has %s",
                         c->text, op_names[c->op], c->value, have);
    case TERM_BRAND:
        if (c->op == OP_NE)
            return xasprintf("unsatisfied requirement `%s`: this image needs a GPU brand other "
                             "than %s; this GPU is %s",
                             c->text, c->value, have);
        return xasprintf("unsatisfied requirement `%s`: this image needs GPU brand %s; this GPU "
                         "is %s",
                         c->text, c->value, have);
    }
    return xstrdup("unsatisfied requirement");
}

int require_eval(const struct require_expr *e, const struct require_facts *f, gctk_error **err)
{
    if (e->n == 0)
        return 1;
    struct host h = {.f = f, .cuda = f->cuda};
    if (h.cuda == NULL && f->driver != NULL)
        h.cuda = cudacompat_driver_cuda(f->driver, h.cuda_buf, sizeof(h.cuda_buf));

    cleanup_free const struct cond **failed = xcalloc(e->n, sizeof(*failed));
    for (size_t i = 0; i < e->n; i++) {
        const struct alt *a = &e->alts[i];
        size_t j = 0;
        for (; j < a->n; j++) {
            int r = cond_eval(&a->conds[j], &h, err);
            if (r < 0)
                return gctk_wrap(err, "requirement `%s`", a->conds[j].text);
            if (r == 0)
                break;
        }
        if (j == a->n)
            return 1;
        failed[i] = &a->conds[j];
    }
    if (err == NULL)
        return 0;

    /* Lead with a failed CUDA minimum: the usual cause, with a known fix. */
    size_t lead = 0;
    for (size_t i = 0; i < e->n; i++)
        if (failed[i]->term == TERM_CUDA && (failed[i]->op == OP_GE || failed[i]->op == OP_GT) &&
            fact(&h, TERM_CUDA) != NULL) {
            lead = i;
            break;
        }
    cleanup_free char *lead_msg = long_reason(failed[lead], &h);
    struct strbuf msg = {0};
    strbuf_addf(&msg, "%s", lead_msg);
    /* the other alternatives' reasons, each once: a few are named, the rest
     * counted (an image's expression may hold any number of them) */
    struct strv seen = {0};
    strv_push(&seen, xstrdup(failed[lead]->text));
    size_t more = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (seen.len > REASONS_SHOWN) {
            more += i != lead;
            continue;
        }
        if (strv_contains(&seen, failed[i]->text))
            continue;
        strv_push(&seen, xstrdup(failed[i]->text));
        cleanup_free char *why = short_reason(failed[i], &h);
        strbuf_addf(&msg, "%s%s", seen.len == 2 ? "; no other alternative holds: " : ", ", why);
    }
    if (more > 0)
        strbuf_addf(&msg, " (and %zu more alternatives)", more);
    strv_clear(&seen);
    gctk_fail(err, 0, "%s", msg.s);
    free(msg.s);
    return 0;
}

/* ---- the environment ----------------------------------------------------------- */

/* NVIDIA's toolkit reads the image's environment into a map (later
 * definitions replace earlier ones) and takes every NVIDIA_REQUIRE_* value of
 * it, an empty one asking for nothing, except the variables whose names start
 * with NVIDIA_REQUIRE_JETPACK: L4T images set NVIDIA_REQUIRE_JETPACK=
 * "csv-mounts=all", which is no requirement but a switch of NVIDIA's Tegra
 * CSV mode, and NVIDIA's toolkit (1.15 and later) leaves that whole family
 * out of the checks. NVIDIA_DISABLE_REQUIRE is a Go boolean whose parse
 * failure counts as false. The hook, gctk compat and gctk doctor all read the
 * environment through the two functions below. */

#define REQUIRE_PREFIX "NVIDIA_REQUIRE_"
#define JETPACK_PREFIX "NVIDIA_REQUIRE_JETPACK"
#define DISABLE_NAME "NVIDIA_DISABLE_REQUIRE"

struct require_var {
    const char *entry; /* "NVIDIA_REQUIRE_X=value" */
    size_t name_len;
    size_t index; /* position in the environment */
};

static int require_var_cmp(const void *a, const void *b)
{
    const struct require_var *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->entry, y->entry, n);
    if (c == 0 && x->name_len != y->name_len)
        c = x->name_len < y->name_len ? -1 : 1;
    if (c == 0)
        c = x->index < y->index ? -1 : x->index > y->index;
    return c;
}

static int index_cmp(const void *a, const void *b)
{
    const struct require_var *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

void require_collect(char *const *env, struct strv *names, struct strv *exprs)
{
    size_t len = 0;
    while (env != NULL && env[len] != NULL)
        len++;
    /* the image may hold any number of them: sorting keeps this O(n log n),
     * where a look-up of each name would be quadratic */
    cleanup_free struct require_var *vars = xcalloc(len + 1, sizeof(*vars));
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *eq = strchr(env[i], '=');
        if (str_has_prefix(env[i], REQUIRE_PREFIX) && eq != NULL &&
            !str_has_prefix(env[i], JETPACK_PREFIX))
            vars[n++] = (struct require_var){env[i], (size_t)(eq - env[i]), i};
    }
    qsort(vars, n, sizeof(*vars), require_var_cmp);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n || vars[i + 1].name_len != vars[i].name_len ||
                    memcmp(vars[i + 1].entry, vars[i].entry, vars[i].name_len) != 0;
        if (last && vars[i].entry[vars[i].name_len + 1] != '\0')
            vars[kept++] = vars[i];
    }
    qsort(vars, kept, sizeof(*vars), index_cmp);
    for (size_t i = 0; i < kept; i++) {
        if (names != NULL)
            strv_push(names, xstrndup(vars[i].entry, vars[i].name_len));
        strv_push(exprs, xstrdup(vars[i].entry + vars[i].name_len + 1));
    }
}

bool require_disabled(char *const *env, char **note)
{
    const char *value = NULL;
    size_t n = strlen(DISABLE_NAME);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        if (strncmp(env[i], DISABLE_NAME, n) == 0 && env[i][n] == '=')
            value = env[i] + n + 1;
    if (value == NULL)
        return false;
    /* Go's strconv.ParseBool words, and yes/on, in any case */
    static const char *const yes[] = {"true", "1", "t", "yes", "on"};
    static const char *const no[] = {"false", "0", "f", "no", "off", ""};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(yes); i++)
        if (strcasecmp(value, yes[i]) == 0)
            return true;
    for (size_t i = 0; i < GCTK_ARRAY_LEN(no); i++)
        if (strcasecmp(value, no[i]) == 0)
            return false;
    if (note != NULL)
        *note = xasprintf(DISABLE_NAME "=`%s` is not true or false: the requirements are "
                                       "checked (as NVIDIA's toolkit does)",
                          value);
    return false;
}

struct require_set {
    struct strv names; /* the variable of each expression */
    struct require_expr **exprs;
    size_t n;
};

int require_set_parse(const struct strv *names, const struct strv *exprs, struct require_set **out,
                      gctk_error **err)
{
    struct require_set *s = xcalloc(1, sizeof(*s));
    s->exprs = xcalloc(exprs->len + 1, sizeof(*s->exprs));
    for (size_t i = 0; i < exprs->len; i++) {
        const char *name = names != NULL && i < names->len ? names->items[i] : "requirement";
        strv_push(&s->names, xstrdup(name));
        if (require_parse(exprs->items[i], &s->exprs[i], err) < 0) {
            require_set_free(s);
            return gctk_wrap(err, "%s", name);
        }
        s->n++;
    }
    *out = s;
    return 0;
}

void require_set_free(struct require_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        require_free(s->exprs[i]);
    free(s->exprs);
    strv_clear(&s->names);
    free(s);
}

size_t require_set_count(const struct require_set *s)
{
    return s->n;
}

int require_set_check(const struct require_set *s, const struct require_facts *f, gctk_error **err)
{
    for (size_t i = 0; i < s->n; i++) {
        int rc = require_eval(s->exprs[i], f, err);
        if (rc <= 0) {
            gctk_wrap(err, "%s", s->names.items[i]);
            return rc;
        }
    }
    return 1;
}

int require_check_env(char *const *env, const struct require_facts *f, bool disable_honoured,
                      gctk_error **err)
{
    if (disable_honoured && require_disabled(env, NULL))
        return 1;
    cleanup_strv struct strv names = {0}, texts = {0};
    require_collect(env, &names, &texts);
    struct require_set *s = NULL;
    /* every expression is parsed before any is evaluated: a malformed one is
     * always reported */
    if (require_set_parse(&names, &texts, &s, err) < 0)
        return -1;
    int rc = require_set_check(s, f, err);
    require_set_free(s);
    return rc;
}
