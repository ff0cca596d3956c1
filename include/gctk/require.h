/* The NVIDIA_REQUIRE_* language of CUDA images (docs/cuda-compat.md).
 *
 *   expr        := alternative (blanks alternative)*     blanks: OR
 *   alternative := condition ("," condition)*            comma: AND
 *   condition   := term op value
 *   term        := cuda | driver | arch | brand          (any case)
 *   op          := = | != | < | <= | > | >=              (brand: = and != only)
 *
 * Versions compare as dotted numbers (12.4 < 12.10), brands as names, case
 * insensitively. An empty or blank expression asks for nothing.
 *
 * Unknown facts: a condition on a fact the host cannot tell (a GPU's arch or
 * brand when NVML cannot say) is not satisfied, whatever its operator: a
 * requirement that cannot be verified is not taken as met. The error says
 * which fact is missing and that NVIDIA_DISABLE_REQUIRE=true skips the check.
 * A missing CUDA version is derived from the driver version (cudacompat). */
#ifndef GCTK_REQUIRE_H
#define GCTK_REQUIRE_H

#include <stdbool.h>

#include "util.h"

struct require_facts {
    const char *cuda;   /* "13.0"; NULL: derived from driver through the table */
    const char *driver; /* "580.95.05" */
    const char *arch;   /* compute capability "9.0", or NULL when unknown */
    const char *brand;  /* "tesla", or NULL when unknown */
};

struct require_expr;

/* Errors name the condition, what is wrong and the 1-based column inside it:
 * "requirement `cuda>>12`: unknown operator `>>` at column 5". */
int require_parse(const char *expr, struct require_expr **out, gctk_error **err);
void require_free(struct require_expr *e);
static inline void require_freep(struct require_expr **e)
{
    require_free(*e);
}
#define cleanup_require __attribute__((cleanup(require_freep)))

/* 1 satisfied, 0 unsatisfied (then *err, when err is not NULL, names the
 * failing condition of each alternative, the host's values, and the fix),
 * -1 when a fact the expression needs is malformed. */
int require_eval(const struct require_expr *e, const struct require_facts *f, gctk_error **err);

/* The CUDA version the expression asks for at least: the value of its first
 * `cuda>=` or `cuda>` condition, or NULL. For reports (gctk compat). */
const char *require_cuda_min(const struct require_expr *e);
/* The text it was parsed from. */
const char *require_text(const struct require_expr *e);

/* ---- an image's environment ---------------------------------------------
 * env: NULL-terminated "KEY=VALUE" entries (a struct strv's items; NULL: none).
 * Read as NVIDIA's toolkit reads it: a variable defined twice counts once,
 * with its last value. The hook, gctk compat and gctk doctor use these. */

/* The NVIDIA_REQUIRE_* expressions, in environment order; an empty one asks
 * for nothing and is left out, and so are the NVIDIA_REQUIRE_JETPACK*
 * variables (switches of NVIDIA's Tegra CSV mode, which NVIDIA's toolkit
 * ignores as requirements). names (may be NULL) gets their variables'
 * names, one per expression. O(n log n) in the size of env. */
void require_collect(char *const *env, struct strv *names, struct strv *exprs);

/* Whether NVIDIA_DISABLE_REQUIRE turns the requirements off: true, 1, t, yes,
 * on (any case). false, 0, f, no, off, "" and absence leave them on, and so
 * does any other value, as in NVIDIA's toolkit (a boolean that fails to
 * parse is false); then *note (may be NULL) gets a line saying so. */
bool require_disabled(char *const *env, char **note);

/* Expressions parsed once and checked together (ANDed), each named by the
 * variable it came from: the one evaluation of the hook, compat and doctor. */
struct require_set;
/* Parses every expression of exprs, names[i] naming exprs[i] in messages
 * (names may be NULL). A malformed one is an error naming its variable. */
int require_set_parse(const struct strv *names, const struct strv *exprs, struct require_set **out,
                      gctk_error **err);
void require_set_free(struct require_set *s);
static inline void require_set_freep(struct require_set **s)
{
    require_set_free(*s);
}
#define cleanup_require_set __attribute__((cleanup(require_set_freep)))
size_t require_set_count(const struct require_set *s);
/* 1 every expression holds for the facts; 0 one does not (*err names it,
 * its variable, the host's values and the fix); -1 a fact is malformed. */
int require_set_check(const struct require_set *s, const struct require_facts *f, gctk_error **err);

/* Checks every expression require_collect() finds, ANDed together, each
 * against the facts; NVIDIA_DISABLE_REQUIRE (above) skips them all when
 * disable_honoured. Every expression is parsed before any is evaluated, so a
 * malformed one is always reported. 1 ok, 0 unsatisfied with *err, -1
 * malformed. Errors name the variable. */
int require_check_env(char *const *env, const struct require_facts *f, bool disable_honoured,
                      gctk_error **err);

#endif
