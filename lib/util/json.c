/* The one JSON loader: bounded, duplicate keys refused. */
#include "json.h"

int json_parse(const char *what, const char *data, size_t len, json_t **out, gctk_error **err)
{
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        return gctk_fail(err, 0, "%s line %d column %d: %s", what, je.line, je.column, je.text);
    *out = j;
    return 0;
}

int json_load(const char *path, const char *what, json_t **out, gctk_error **err)
{
    cleanup_free char *shown = what != NULL ? xstrdup(what) : xasprintf("`%s`", path);
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (read_file(path, JSON_MAX, &data, &len, err) < 0)
        return -1;
    return json_parse(shown, data, len, out, err);
}
