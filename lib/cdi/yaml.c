/* CDI specs as YAML: the writer (libyaml's emitter) and the reader (libyaml's
 * event stream into the jansson tree every other CDI function reads).
 *
 * One rule set decides what a plain scalar is: the YAML 1.1 resolution of
 * go-yaml v2, through which the CDI reference implementation reads specs
 * (tags.cncf.io/container-device-interface: sigs.k8s.io/yaml). The writer
 * quotes a string exactly when that reader would take it for something
 * else; gctk's reader gives it the type that reader gives it. (Compose files
 * are another reader's: lib/engines/compose.c follows PyYAML.) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "cdi.h"

/* ---- plain scalars -------------------------------------------------------------------- */

enum scalar_kind { SCALAR_STR, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_UINT, SCALAR_FLOAT };

struct scalar {
    enum scalar_kind kind;
    bool b;
    long long i;
    unsigned long long u;
    double f;
};

static bool is_one_of(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

/* Go's strconv.ParseUint of digits in base (no sign, no prefix, no '_'). */
static bool parse_digits(const char *s, unsigned base, unsigned long long *out)
{
    if (*s == '\0')
        return false;
    unsigned long long v = 0;
    for (; *s; s++) {
        unsigned d = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
                     : isxdigit((unsigned char)*s)
                         ? (unsigned)(tolower((unsigned char)*s) - 'a' + 10)
                         : 99;
        if (d >= base || v > (ULLONG_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseInt/ParseUint with base 0: an optional sign (ParseInt
 * only), then 0x, 0o, 0b or a leading 0 (octal), else decimal. */
static bool parse_go_int(const char *s, bool is_signed, struct scalar *out)
{
    bool neg = false;
    if (is_signed && (*s == '+' || *s == '-'))
        neg = *s++ == '-';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    else if (s[0] == '0' && s[1] != '\0')
        base = 8, s += 1;
    unsigned long long v = 0;
    if (!parse_digits(s, base, &v))
        return false;
    if (!is_signed) {
        *out = (struct scalar){.kind = SCALAR_UINT, .u = v};
        return true;
    }
    if (v > (unsigned long long)LLONG_MAX + neg)
        return false;
    long long iv = neg ? (long long)(0 - v) : (long long)v;
    *out = (struct scalar){.kind = SCALAR_INT, .i = iv};
    return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t lead = strspn(s, "0123456789");
    s += lead;
    if (*s == '.') {
        size_t frac = strspn(s + 1, "0123456789");
        if (lead == 0 && frac == 0)
            return false;
        s += 1 + frac;
    } else if (lead == 0) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        size_t exp = strspn(s, "0123456789");
        if (exp == 0)
            return false;
        s += exp;
    }
    return *s == '\0';
}

/* How go-yaml v2 resolves a plain scalar (resolve.go): the words of its
 * table, then by the first character an integer (base 0, '_' ignored), a
 * float, or a binary number; anything else is a string. Timestamps stay
 * strings: sigs.k8s.io/yaml decodes them into interface{}. */
static struct scalar resolve_plain(const char *s)
{
    static const char *const yes[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON"};
    static const char *const no[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                     "False", "FALSE", "off", "Off", "OFF"};
    static const char *const null[] = {"", "~", "null", "Null", "NULL"};
    static const char *const nan[] = {".nan", ".NaN", ".NAN"};
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
    static const char *const minus_inf[] = {"-.inf", "-.Inf", "-.INF"};
    struct scalar r = {.kind = SCALAR_STR};
    if (is_one_of(s, yes, GCTK_ARRAY_LEN(yes)))
        return (struct scalar){.kind = SCALAR_BOOL, .b = true};
    if (is_one_of(s, no, GCTK_ARRAY_LEN(no)))
        return (struct scalar){.kind = SCALAR_BOOL, .b = false};
    if (is_one_of(s, null, GCTK_ARRAY_LEN(null)))
        return (struct scalar){.kind = SCALAR_NULL};
    if (is_one_of(s, nan, GCTK_ARRAY_LEN(nan)))
        return (struct scalar){.kind = SCALAR_FLOAT, .f = NAN};
    if (is_one_of(s, inf, GCTK_ARRAY_LEN(inf)))
        return (struct scalar){.kind = SCALAR_FLOAT, .f = INFINITY};
    if (is_one_of(s, minus_inf, GCTK_ARRAY_LEN(minus_inf)))
        return (struct scalar){.kind = SCALAR_FLOAT, .f = -INFINITY};
    if (s[0] == '.') {
        if (yaml_style_float(s))
            return (struct scalar){.kind = SCALAR_FLOAT, .f = strtod(s, NULL)};
        return r;
    }
    if (!isdigit((unsigned char)s[0]) && s[0] != '+' && s[0] != '-')
        return r;
    /* the digits, signs and letters of a number, without its '_' */
    cleanup_free char *plain = xmalloc(strlen(s) + 1);
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p != '_')
            plain[n++] = *p;
    plain[n] = '\0';
    if (parse_go_int(plain, true, &r) || parse_go_int(plain, false, &r))
        return r;
    if (yaml_style_float(plain))
        return (struct scalar){.kind = SCALAR_FLOAT, .f = strtod(plain, NULL)};
    bool neg = plain[0] == '-';
    const char *bin = plain + neg;
    unsigned long long v = 0;
    if (bin[0] == '0' && bin[1] == 'b' && parse_digits(bin + 2, 2, &v)) {
        if (!neg)
            return v <= LLONG_MAX ? (struct scalar){.kind = SCALAR_INT, .i = (long long)v}
                                  : (struct scalar){.kind = SCALAR_UINT, .u = v};
        if (v <= (unsigned long long)LLONG_MAX + 1)
            return (struct scalar){.kind = SCALAR_INT, .i = (long long)(0 - v)};
    }
    return (struct scalar){.kind = SCALAR_STR};
}

bool yaml_scalar_typed(const char *s)
{
    return resolve_plain(s).kind != SCALAR_STR;
}

int yaml_scalar_json(const char *s, json_t **out)
{
    struct scalar v = resolve_plain(s);
    switch (v.kind) {
    case SCALAR_NULL:
        *out = json_null();
        return 0;
    case SCALAR_BOOL:
        *out = json_boolean(v.b);
        return 0;
    case SCALAR_INT:
        *out = json_integer(v.i);
        return 0;
    case SCALAR_UINT: /* beyond JSON's integers: a number all the same */
    case SCALAR_FLOAT:
        *out = json_real(v.kind == SCALAR_UINT ? (double)v.u : v.f);
        return *out != NULL ? 0 : -1; /* NaN and infinities: not JSON */
    case SCALAR_STR:
        break;
    }
    *out = json_string(s);
    return *out != NULL ? 0 : -1;
}

/* ---- writing ---------------------------------------------------------------------------- */

struct yaml_buf {
    char *data;
    size_t len, cap;
};

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
    struct yaml_buf *b = data;
    if (b->len + size + 1 > b->cap) {
        b->cap = (b->len + size + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, buffer, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

static int emit_scalar(yaml_emitter_t *em, const char *value, bool quoted)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)value, (int)strlen(value), 1, 1,
                                 quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_value(yaml_emitter_t *em, const json_t *v)
{
    yaml_event_t ev;
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (emit_scalar(em, k, yaml_scalar_typed(k)) < 0 || emit_value(em, x) < 0)
                return -1;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_ARRAY: {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (emit_value(em, x) < 0)
                return -1;
        }
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    case JSON_STRING:
        return emit_scalar(em, json_string_value(v), yaml_scalar_typed(json_string_value(v)));
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return emit_scalar(em, num, false);
    case JSON_REAL:
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        return emit_scalar(em, num, false);
    case JSON_TRUE:
        return emit_scalar(em, "true", false);
    case JSON_FALSE:
        return emit_scalar(em, "false", false);
    default:
        return emit_scalar(em, "null", false);
    }
}

int cdi_to_yaml(const json_t *spec, char **out, size_t *len, gctk_error **err)
{
    yaml_emitter_t em;
    struct yaml_buf b = {0};
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return gctk_fail(err, ENOMEM, "yaml emitter");
    yaml_emitter_set_output(&em, yaml_write, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && emit_value(&em, spec) == 0;
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && yaml_emitter_flush(&em);
    if (!ok) {
        gctk_fail(err, 0, "write YAML: %s", em.problem ? em.problem : "emitter error");
        yaml_emitter_delete(&em);
        free(b.data);
        return -1;
    }
    yaml_emitter_delete(&em);
    *out = b.data ? b.data : xstrdup("");
    if (len != NULL)
        *len = b.len;
    return 0;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A YAML parser event stream to a jansson tree. */
struct yaml_reader {
    yaml_parser_t p;
    const char *name;
    bool ready; /* p is initialised */
};

static void yaml_reader_done(struct yaml_reader *r)
{
    if (r->ready)
        yaml_parser_delete(&r->p);
}

static int yaml_next(struct yaml_reader *r, yaml_event_t *ev, gctk_error **err)
{
    if (!yaml_parser_parse(&r->p, ev))
        return gctk_fail(err, 0, "`%s` line %zu column %zu: %s", r->name,
                         r->p.problem_mark.line + 1, r->p.problem_mark.column + 1,
                         r->p.problem ? r->p.problem : "invalid YAML");
    return 0;
}

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, int depth, json_t **out,
                     gctk_error **err);

static int yaml_node(struct yaml_reader *r, yaml_event_t *ev, int depth, json_t **out,
                     gctk_error **err)
{
    size_t line = ev->start_mark.line + 1;
    if (depth > 64) {
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: nested too deeply", r->name, line);
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        int rc = 0;
        if (plain && yaml_scalar_json(v, out) < 0)
            rc = gctk_fail(err, 0, "`%s` line %zu: `%s` is a number JSON cannot hold", r->name,
                           line, v);
        else if (!plain && (*out = json_string(v)) == NULL)
            rc = gctk_fail(err, 0, "`%s` line %zu: not valid UTF-8", r->name, line);
        yaml_event_delete(ev);
        return rc;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: aliases are not allowed in a CDI spec", r->name,
                         line);
    case YAML_SEQUENCE_START_EVENT: {
        yaml_event_delete(ev);
        cleanup_json json_t *arr = json_array();
        for (;;) {
            yaml_event_t e;
            if (yaml_next(r, &e, err) < 0)
                return -1;
            if (e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            json_t *item = NULL;
            if (yaml_node(r, &e, depth + 1, &item, err) < 0)
                return -1;
            json_array_append_new(arr, item);
        }
        *out = steal_pointer(&arr);
        return 0;
    }
    case YAML_MAPPING_START_EVENT: {
        yaml_event_delete(ev);
        cleanup_json json_t *obj = json_object();
        for (;;) {
            yaml_event_t e;
            if (yaml_next(r, &e, err) < 0)
                return -1;
            if (e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            size_t kline = e.start_mark.line + 1;
            if (e.type != YAML_SCALAR_EVENT) {
                yaml_event_delete(&e);
                return gctk_fail(err, 0, "`%s` line %zu: a key must be a string", r->name, kline);
            }
            cleanup_free char *key = xstrdup((const char *)e.data.scalar.value);
            yaml_event_delete(&e);
            if (json_object_get(obj, key) != NULL)
                return gctk_fail(err, 0, "`%s` line %zu: duplicate key `%s`", r->name, kline, key);
            json_t *val = NULL;
            if (yaml_next(r, &e, err) < 0 || yaml_node(r, &e, depth + 1, &val, err) < 0)
                return -1;
            json_object_set_new(obj, key, val);
        }
        *out = steal_pointer(&obj);
        return 0;
    }
    default:
        yaml_event_delete(ev);
        return gctk_fail(err, 0, "`%s` line %zu: unexpected YAML event", r->name, line);
    }
}

static int parse_yaml(const char *name, const char *data, size_t len, json_t **out,
                      gctk_error **err)
{
    __attribute__((cleanup(yaml_reader_done))) struct yaml_reader r = {.name = name};
    if (!yaml_parser_initialize(&r.p))
        return gctk_fail(err, ENOMEM, "yaml parser");
    r.ready = true;
    yaml_parser_set_input_string(&r.p, (const unsigned char *)data, len);
    cleanup_json json_t *doc = NULL;
    yaml_event_t ev;
    /* stream start, document start, the node, document end, stream end */
    if (yaml_next(&r, &ev, err) < 0)
        return -1;
    yaml_event_delete(&ev);
    if (yaml_next(&r, &ev, err) < 0)
        return -1;
    bool empty = ev.type != YAML_DOCUMENT_START_EVENT;
    yaml_event_delete(&ev);
    if (empty)
        return gctk_fail(err, 0, "`%s`: empty", name);
    if (yaml_next(&r, &ev, err) < 0 || yaml_node(&r, &ev, 0, &doc, err) < 0)
        return -1;
    if (yaml_next(&r, &ev, err) < 0)
        return -1;
    yaml_event_delete(&ev);
    if (yaml_next(&r, &ev, err) < 0)
        return -1;
    bool more = ev.type != YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (more)
        return gctk_fail(err, 0, "`%s`: more than one YAML document", name);
    *out = steal_pointer(&doc);
    return 0;
}

int cdi_parse(const char *name, const char *data, size_t len, json_t **out, gctk_error **err)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    json_t *spec = NULL;
    if (i < len && data[i] == '{') {
        cleanup_free char *what = xasprintf("`%s`", name);
        if (json_parse(what, data, len, &spec, err) < 0)
            return -1;
    } else if (parse_yaml(name, data, len, &spec, err) < 0) {
        return -1;
    }
    if (!json_is_object(spec)) {
        json_decref(spec);
        return gctk_fail(err, 0, "`%s`: a CDI spec must be an object", name);
    }
    *out = spec;
    return 0;
}

int cdi_load(const char *path, json_t **out, gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, JSON_MAX, &data, &len, err) < 0)
        return -1;
    return cdi_parse(path, data, len, out, err);
}
