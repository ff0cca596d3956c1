/* The NVIDIA_REQUIRE_* language of CUDA images (REFERENCE.md section 4).
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

#include "gctk.h"

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

/* NVIDIA_DISABLE_REQUIRE in env (the last entry wins): 1 when true|1|yes|on
 * (any case), 0 when false|0|no|off|"" or absent, -1 for any other value. */
int require_env_disabled(char *const *env, gctk_error **err);

/* Checks every NVIDIA_REQUIRE_<X>=expr entry of env (NULL-terminated
 * "KEY=VALUE" strings), ANDed together; a variable given twice is checked
 * twice. NVIDIA_DISABLE_REQUIRE=true|1|yes|on (any case; the last entry wins)
 * skips them all when disable_honoured; false|0|no|off|"" does not, other
 * values are an error. Every expression is parsed before any is evaluated, so
 * a malformed one is always reported. 1 ok, 0 unsatisfied with *err, -1
 * malformed. The hook calls it once per selected GPU with that GPU's facts. */
int require_check_env(char *const *env, const struct require_facts *f, bool disable_honoured,
                      gctk_error **err);

#endif
