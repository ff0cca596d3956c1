/* TOML through gctk-toml.so (lib/toml-module.cc), loaded on first use.
 *
 * Which module: a program that runs from the meson build tree loads the
 * module built beside it (GCTK_TOML_MODULE_BUILD, unless the build was set up
 * with -Dbuild_tree_modules=false, as packages are: then no build path is
 * recorded in the programs), an installed one the installed module
 * (GCTK_TOML_MODULE); nothing in the environment chooses, so a hook's
 * environment cannot point it at another file. The unit tests name the
 * module they load (gctk_toml_use_module). */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "toml.h"
#include "util.h"

typedef int (*parse_fn)(const char *text, size_t len, json_t **out, char **msg);
typedef int (*format_fn)(const json_t *doc, char **out, char **msg);

static struct {
    pthread_once_t once;
    parse_fn parse;
    format_fn format;
    char *error;      /* why the module could not be used */
    const char *path; /* gctk_toml_use_module's */
} module = {.once = PTHREAD_ONCE_INIT};

void gctk_toml_use_module(const char *path)
{
    module.path = path;
}

static bool running_from_build_tree(void)
{
#ifndef GCTK_BUILD_ROOT
    return false;
#else
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    return str_has_prefix(exe, GCTK_BUILD_ROOT "/");
#endif
}

static void load_module(void)
{
    const char *path = module.path != NULL ? module.path : GCTK_TOML_MODULE;
#ifdef GCTK_TOML_MODULE_BUILD
    if (module.path == NULL && running_from_build_tree())
        path = GCTK_TOML_MODULE_BUILD;
#endif
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        module.error = xasprintf("cannot load the TOML module: %s (reinstall gctk)", dlerror());
        return;
    }
    module.parse = (parse_fn)dlsym(h, "gctk_toml_module_parse");
    module.format = (format_fn)dlsym(h, "gctk_toml_module_format");
    if (module.parse == NULL || module.format == NULL)
        module.error = xasprintf("`%s` is not gctk's TOML module (reinstall gctk)", path);
}

static int ready(gctk_error **err)
{
    pthread_once(&module.once, load_module);
    if (module.error != NULL)
        return gctk_fail(err, 0, "%s", module.error);
    return 0;
}

json_t *gctk_toml_parse(const char *text, size_t len, const char *what, gctk_error **err)
{
    if (ready(err) < 0)
        return NULL;
    json_t *doc = NULL;
    cleanup_free char *msg = NULL;
    if (module.parse(text, len, &doc, &msg) < 0) {
        gctk_fail(err, 0, "%s: %s", what, msg);
        return NULL;
    }
    return doc;
}

json_t *gctk_toml_load(const char *path, size_t max, gctk_error **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (read_file(path, max, &text, &len, err) < 0)
        return NULL;
    cleanup_free char *what = xasprintf("`%s`", path);
    return gctk_toml_parse(text, len, what, err);
}

char *gctk_toml_format(const json_t *doc, gctk_error **err)
{
    if (ready(err) < 0)
        return NULL;
    char *out = NULL;
    cleanup_free char *msg = NULL;
    if (module.format(doc, &out, &msg) < 0) {
        gctk_fail(err, 0, "cannot write TOML: %s", msg);
        return NULL;
    }
    return out;
}
