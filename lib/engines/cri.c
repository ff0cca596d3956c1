/* The engines of Kubernetes nodes: containerd's CRI plugin and CRI-O, each
 * given gctk's runtime through a drop-in of gctk's own (engine.h).
 *
 * containerd 1.6 and 1.7 (configuration version 2) replace a plugin's whole
 * table with the one of the last file that names the plugin, and decode it
 * over the plugin's defaults, maps included: a drop-in that names only the
 * new runtime leaves the CRI plugin without runc and refuses to load
 * ("no corresponding runtime configured in containerd.runtimes for
 * default_runtime_name"), and every setting of the main file (sandbox_image,
 * registry mirrors, SystemdCgroup) is lost. So the drop-in carries the CRI
 * plugin's whole effective table, as containerd computes it without the
 * drop-in (`containerd config dump` of the main file and its other
 * imports), plus the runtime. containerd 2.x (version 3) merges the tables
 * of its imports key by key; the same drop-in, under the CRI runtime
 * plugin's new name, is right there too. CRI-O decodes each drop-in over
 * the configuration read so far, maps key by key: its drop-in needs only the
 * runtime (and the default runtime's name).
 *
 * The new runtime starts as a copy of the default runtime's table (runc's
 * SystemdCgroup, Root, annotations), so that pods of either runtime run
 * alike, with gctk-runtime as the binary. Where containerd's CRI does not
 * apply CDI itself (1.6, whose table has no enable_cdi), the runtime gets
 * the `cdi.k8s.io/` annotations (container_annotations) and applies the
 * named devices itself.
 *
 * The main containerd file is never rewritten: when it does not import the
 * drop-in, gctk inserts text (a line, or an entry of its imports array, each
 * with a comment naming gctk), checks that the result parses to exactly the
 * old document plus the import, and replaces the file atomically; --remove
 * takes out exactly that text again, checked the same way. */
#include <fnmatch.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>

#include "cdi.h"
#include "engine.h"
#include "toml.h"

#define CRI_PLUGIN_V2 "io.containerd.grpc.v1.cri"
#define CRI_PLUGIN_V3 "io.containerd.cri.v1.runtime"
#define RUNC_SHIM "io.containerd.runc.v2"
#define CDI_ANNOTATIONS "cdi.k8s.io/*"
/* what gctk reads of an engine's configuration: its files and its dump */
#define ENGINE_CONFIG_MAX (4u << 20)
#define DUMP_TIMEOUT_MS 30000u

/* The comment on what gctk adds to containerd's main file, by which
 * --remove finds it again. */
#define IMPORTS_MARK "# added by `gctk runtime configure` (`--remove` takes it out)"
/* ...and the first line of the main file it writes where there was none */
#define WHOLE_MARK "# written by `gctk runtime configure` (`--remove` removes the file)"

int engine_config_source_parse(const char *s, enum config_source *out)
{
    if (strcmp(s, "command") == 0)
        *out = CONFIG_SOURCE_COMMAND;
    else if (strcmp(s, "file") == 0)
        *out = CONFIG_SOURCE_FILE;
    else
        return -1;
    return 0;
}

/* ---- JSON tables --------------------------------------------------------------- */

/* obj[key] as an object: made when absent, an error when something else */
static json_t *table(json_t *obj, const char *key, const char *where, gctk_error **err)
{
    json_t *t = json_object_get(obj, key);
    if (t == NULL) {
        t = json_object();
        json_object_set_new(obj, key, t);
    }
    if (!json_is_object(t)) {
        gctk_fail(err, 0, "`%s.%s` is not a table: fix the configuration", where, key);
        return NULL;
    }
    return t;
}

/* Appends s to the string array obj[key] unless it is there (made when absent). */
static int add_to_list(json_t *obj, const char *key, const char *s, const char *where,
                       gctk_error **err)
{
    json_t *list = json_object_get(obj, key);
    if (list == NULL) {
        list = json_array();
        json_object_set_new(obj, key, list);
    }
    if (!json_is_array(list))
        return gctk_fail(err, 0, "`%s.%s` is not an array: fix the configuration", where, key);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 0;
    }
    json_array_append_new(list, json_string(s));
    return 0;
}

/* The TOML text gctk writes for a drop-in: a header saying what it is. */
static char *dropin_text(const json_t *doc, const char *header, gctk_error **err)
{
    cleanup_free char *body = gctk_toml_format(doc, err);
    if (body == NULL)
        return NULL;
    return xasprintf("%s%s", header, body);
}

/* ---- containerd: the drop-in ------------------------------------------------------- */

static const char *cri_plugin(json_int_t version)
{
    return version >= 3 ? CRI_PLUGIN_V3 : CRI_PLUGIN_V2;
}

/* The runtime whose table the new one starts from: the default runtime
 * when it is runc's shim, else runc; NULL when neither is. A runtime
 * without runtime_type runs on containerd's default shim, runc's. */
static const json_t *template_runtime(const json_t *runtimes, const char *def, const char *name)
{
    const char *candidates[] = {def, "runc"};
    for (size_t i = 0; i < GCTK_ARRAY_LEN(candidates); i++) {
        if (candidates[i] == NULL || strcmp(candidates[i], name) == 0)
            continue;
        const json_t *r = json_object_get(runtimes, candidates[i]);
        const char *type = json_string_value(json_object_get(r, "runtime_type"));
        if (json_is_object(r) && (type == NULL || type[0] == '\0' || strcmp(type, RUNC_SHIM) == 0))
            return r;
    }
    return NULL;
}

/* containerd 2.x reading a main file of version 2: a drop-in of version 3
 * would make the merged configuration version 3 and stop containerd from
 * migrating the main file (its CRI settings would be ignored), so the
 * drop-in is of version 2 too; 2.x merges imports key by key, so it holds
 * the runtime alone (runc's options, gctk-runtime), under version 2's name of
 * the CRI plugin, which containerd migrates with the rest. */
static json_t *render_v2_for_v3(const json_t *effective, const struct runtime_entry *rt)
{
    const json_t *ctd = json_object_get(
        json_object_get(json_object_get(effective, "plugins"), CRI_PLUGIN_V3), "containerd");
    const json_t *runtimes = json_object_get(ctd, "runtimes");
    const char *def = json_string_value(json_object_get(ctd, "default_runtime_name"));
    const json_t *tmpl = template_runtime(runtimes, def != NULL ? def : "runc", rt->name);
    const json_t *tmpl_options = json_object_get(tmpl, "options");
    json_t *options = json_is_object(tmpl_options) ? json_deep_copy(tmpl_options) : json_object();
    json_object_set_new(options, "BinaryName", json_string(rt->path));
    json_t *c = json_pack("{s:{s:{s:{s:s, s:o}}}}", "containerd", "runtimes", rt->name,
                          "runtime_type", RUNC_SHIM, "options", options);
    if (rt->set_default)
        json_object_set_new(json_object_get(c, "containerd"), "default_runtime_name",
                            json_string(rt->name));
    if (rt->cdi)
        json_object_set_new(c, "enable_cdi", json_true());
    return json_pack("{s:i, s:{s:o}}", "version", 2, "plugins", CRI_PLUGIN_V2, c);
}

int containerd_dropin_render(const json_t *effective, const struct runtime_entry *rt,
                             json_int_t file_version, json_t **out, gctk_error **err)
{
    json_t *v = json_object_get(effective, "version");
    json_int_t version = json_is_integer(v) ? json_integer_value(v) : 1;
    if (file_version == 2 && version == 3) {
        *out = render_v2_for_v3(effective, rt);
        return 0;
    }
    if (version < 2)
        return gctk_fail(err, 0,
                         "the configuration is of version 1 (no `version = 2`), whose plugins "
                         "read no drop-in of version 2: migrate it (`containerd config migrate` "
                         "with containerd 1.7) and run this again");
    if (version > 3)
        return gctk_fail(err, 0,
                         "configuration version %lld is newer than gctk knows (2 and 3): "
                         "configure the runtime by hand",
                         (long long)version);
    const char *plugin = cri_plugin(version);
    cleanup_free char *where = xasprintf("plugins.\"%s\"", plugin);
    const json_t *cri = json_object_get(json_object_get(effective, "plugins"), plugin);
    if (cri != NULL && !json_is_object(cri))
        return gctk_fail(err, 0, "`%s` is not a table: fix the configuration", where);

    cleanup_json json_t *doc = json_object();
    json_object_set_new(doc, "version", json_integer(version));
    json_t *c = cri != NULL ? json_deep_copy(cri) : json_object();
    json_object_set_new(doc, "plugins", json_pack("{s:o}", plugin, c));
    cleanup_free char *w_ctd = xasprintf("%s.containerd", where);
    cleanup_free char *w_rts = xasprintf("%s.containerd.runtimes", where);
    json_t *ctd = table(c, "containerd", where, err);
    json_t *runtimes = ctd != NULL ? table(ctd, "runtimes", w_ctd, err) : NULL;
    if (runtimes == NULL)
        return -1;
    const char *def = json_string_value(json_object_get(ctd, "default_runtime_name"));
    /* a configuration read from files alone may lack the built-in runc */
    if (def == NULL || strcmp(def, "runc") == 0) {
        if (json_object_get(runtimes, "runc") == NULL)
            json_object_set_new(runtimes, "runc", json_pack("{s:s}", "runtime_type", RUNC_SHIM));
    }
    const json_t *tmpl = template_runtime(runtimes, def != NULL ? def : "runc", rt->name);
    json_t *entry = tmpl != NULL ? json_deep_copy(tmpl) : json_object();
    json_object_set_new(runtimes, rt->name, entry);
    cleanup_free char *w_entry = xasprintf("%s.%s", w_rts, rt->name);
    json_object_set_new(entry, "runtime_type", json_string(RUNC_SHIM));
    json_t *options = table(entry, "options", w_entry, err);
    if (options == NULL)
        return -1;
    json_object_set_new(options, "BinaryName", json_string(rt->path));

    /* CDI: containerd 1.7 and later apply it themselves when enable_cdi is
     * on, and their table names the key; 1.6's CRI knows no CDI, and its
     * runtime must see the annotations to apply the devices */
    bool cri_knows_cdi = json_object_get(c, "enable_cdi") != NULL;
    if (cri_knows_cdi || rt->cdi) {
        json_object_set_new(c, "enable_cdi", json_true());
        if (json_object_get(c, "cdi_spec_dirs") == NULL)
            json_object_set_new(c, "cdi_spec_dirs",
                                json_pack("[s,s]", CDI_STATIC_DIR, CDI_DYNAMIC_DIR));
    } else if (add_to_list(entry, "container_annotations", CDI_ANNOTATIONS, w_entry, err) < 0) {
        return -1;
    }
    if (rt->set_default)
        json_object_set_new(ctd, "default_runtime_name", json_string(rt->name));
    *out = steal_pointer(&doc);
    return 0;
}

/* ---- containerd: the main file's imports --------------------------------------------- */

/* containerd's reading of an import: relative to the main file's directory,
 * cleaned; a pattern when it holds `*` (Go's filepath.Glob). */
static char *import_path(const char *entry, const char *main_path)
{
    if (entry[0] == '/')
        return xstrdup(entry);
    cleanup_free char *dir = xstrdup(main_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return xstrdup(entry);
    *slash = '\0';
    return xasprintf("%s/%s", dir, entry);
}

/* The pattern gctk imports the drop-in with: its directory's *.toml, or the
 * file itself when its name does not end in .toml. */
static char *dropin_import(const char *dropin)
{
    const char *slash = strrchr(dropin, '/');
    if (slash == NULL || !str_has_suffix(dropin, ".toml"))
        return xstrdup(dropin);
    return xasprintf("%.*s/*.toml", (int)(slash - dropin), dropin);
}

static bool import_covers(const char *entry, const char *main_path, const char *dropin)
{
    cleanup_free char *p = import_path(entry, main_path);
    if (strchr(p, '*') != NULL)
        return fnmatch(p, dropin, FNM_PATHNAME) == 0;
    return strcmp(p, dropin) == 0;
}

bool containerd_imports_dropin(const json_t *main_doc, const char *main_path, const char *dropin)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(main_doc, "imports"), i, v)
    {
        if (json_is_string(v) && import_covers(json_string_value(v), main_path, dropin))
            return true;
    }
    return false;
}

/* A TOML basic string of s; NULL when s holds a control character. */
static char *toml_quote(const char *s)
{
    struct strbuf b = {0};
    strbuf_addf(&b, "\"");
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            free(strbuf_steal(&b));
            return NULL;
        }
        if (*p == '"' || *p == '\\')
            strbuf_addf(&b, "\\");
        strbuf_addf(&b, "%c", *p);
    }
    strbuf_addf(&b, "\"");
    return strbuf_steal(&b);
}

/* Where the value of the top-level `imports` key starts (just after its
 * `[`), found line by line before the first table header; NULL when not
 * found that way (the caller's check of the result catches the rest). */
static const char *find_imports_array(const char *text)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *p = line + strspn(line, " \t");
        if (*p == '[')
            return NULL; /* a table: the top level is over */
        if (str_has_prefix(p, "imports")) {
            p += strlen("imports");
            p += strspn(p, " \t");
            if (*p == '=') {
                p++;
                p += strspn(p, " \t");
                return *p == '[' ? p + 1 : NULL;
            }
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return NULL;
}

/* new_text must parse to exactly want: the one check of every edit. */
static int check_edit(const char *name, const char *new_text, const json_t *want, gctk_error **err)
{
    cleanup_error gctk_error *e = NULL;
    cleanup_json json_t *got = gctk_toml_parse(new_text, strlen(new_text), name, &e);
    if (got == NULL || !json_equal(got, want))
        return gctk_fail(err, 0,
                         "%s: gctk's edit of its imports would change more than the imports "
                         "(%s): add the drop-in to its `imports` by hand",
                         name, e != NULL ? e->msg : "the document differs");
    return 0;
}

int containerd_imports_add(const char *name, const char *text, const char *main_path,
                           const char *dropin, json_int_t version, char **out, gctk_error **err)
{
    *out = NULL;
    bool missing = text == NULL;
    if (missing)
        text = "";
    cleanup_json json_t *doc = gctk_toml_parse(text, strlen(text), name, err);
    if (doc == NULL)
        return -1;
    json_t *imports = json_object_get(doc, "imports");
    if (imports != NULL && !json_is_array(imports))
        return gctk_fail(err, 0, "%s: `imports` is not an array: fix the file", name);
    if (containerd_imports_dropin(doc, main_path, dropin))
        return 0;
    cleanup_free char *pattern = dropin_import(dropin);
    cleanup_free char *quoted = toml_quote(pattern);
    if (quoted == NULL)
        return gctk_fail(err, 0, "the drop-in path holds a control character: choose another");
    cleanup_json json_t *want = json_deep_copy(doc);
    size_t skip = str_has_prefix(text, "\xEF\xBB\xBF") ? 3 : 0; /* a UTF-8 BOM stays first */
    cleanup_free char *insert = NULL;
    size_t at = skip;
    if (imports != NULL) {
        /* an entry of its own, first in the array, on a line with the mark */
        const char *arr = find_imports_array(text);
        if (arr == NULL)
            return gctk_fail(err, 0,
                             "%s: cannot find where its `imports` array starts: add %s to it by "
                             "hand",
                             name, quoted);
        at = (size_t)(arr - text);
        insert = xasprintf("\n  %s, " IMPORTS_MARK "\n", quoted);
        json_array_insert_new(json_object_get(want, "imports"), 0, json_string(pattern));
    } else if (json_object_size(doc) == 0) {
        /* a blank (or missing) file: containerd's defaults, and the import */
        insert = xasprintf("%s\nversion = %lld\nimports = [%s]\n",
                           missing ? WHOLE_MARK : IMPORTS_MARK, (long long)version, quoted);
        json_object_set_new(want, "version", json_integer(version));
        json_object_set_new(want, "imports", json_pack("[s]", pattern));
    } else {
        /* a top-level key may stand first in any TOML document */
        insert = xasprintf("imports = [%s] " IMPORTS_MARK "\n", quoted);
        json_object_set_new(want, "imports", json_pack("[s]", pattern));
    }
    cleanup_free char *result = xasprintf("%.*s%s%s", (int)at, text, insert, text + at);
    if (check_edit(name, result, want, err) < 0)
        return -1;
    *out = steal_pointer(&result);
    return 0;
}

int containerd_imports_remove(const char *name, const char *text, const char *dropin, char **out,
                              bool *whole, gctk_error **err)
{
    *out = NULL;
    *whole = false;
    cleanup_free char *pattern = dropin_import(dropin);
    cleanup_free char *quoted = toml_quote(pattern);
    if (quoted == NULL)
        return 0;
    /* the forms containerd_imports_add writes, each checked the same way */
    struct form {
        char *text;
        enum { ENTRY, LINE, BLOCK, WHOLE } kind;
    } forms[] = {
        {xasprintf("\n  %s, " IMPORTS_MARK "\n", quoted), ENTRY},
        {xasprintf("imports = [%s] " IMPORTS_MARK "\n", quoted), LINE},
        {xasprintf(IMPORTS_MARK "\nversion = 2\nimports = [%s]\n", quoted), BLOCK},
        {xasprintf(IMPORTS_MARK "\nversion = 3\nimports = [%s]\n", quoted), BLOCK},
        {xasprintf(WHOLE_MARK "\nversion = 2\nimports = [%s]\n", quoted), WHOLE},
        {xasprintf(WHOLE_MARK "\nversion = 3\nimports = [%s]\n", quoted), WHOLE},
    };
    int r = 0;
    cleanup_json json_t *doc = gctk_toml_parse(text, strlen(text), name, err);
    if (doc == NULL)
        r = -1;
    for (size_t i = 0; r == 0 && *out == NULL && i < GCTK_ARRAY_LEN(forms); i++) {
        const char *at = strstr(text, forms[i].text);
        if (at == NULL || (forms[i].kind == WHOLE && strcmp(text, forms[i].text) != 0))
            continue;
        if (forms[i].kind == WHOLE) {
            *whole = true; /* the file is gctk's: the caller removes it */
            break;
        }
        cleanup_free char *result =
            xasprintf("%.*s%s", (int)(at - text), text, at + strlen(forms[i].text));
        cleanup_json json_t *want = json_deep_copy(doc);
        json_t *imports = json_object_get(want, "imports");
        if (forms[i].kind == ENTRY && json_array_size(imports) > 0)
            json_array_remove(imports, 0);
        else
            json_object_del(want, "imports");
        if (forms[i].kind == BLOCK)
            json_object_del(want, "version");
        if (check_edit(name, result, want, err) < 0)
            r = -1;
        else
            *out = steal_pointer(&result);
    }
    for (size_t i = 0; i < GCTK_ARRAY_LEN(forms); i++)
        free(forms[i].text);
    return r;
}

/* ---- containerd: its effective configuration -------------------------------------------- */

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return true;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The files main_doc imports, as containerd resolves them, without the drop-in. */
static void resolve_imports(const json_t *main_doc, const char *main_path, const char *dropin,
                            struct strv *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(main_doc, "imports"), i, v)
    {
        if (!json_is_string(v))
            continue;
        cleanup_free char *p = import_path(json_string_value(v), main_path);
        if (strchr(p, '*') == NULL) {
            if (!same_file(p, dropin))
                strv_push(out, steal_pointer(&p));
            continue;
        }
        glob_t g = {0};
        /* Go's Glob: sorted, and `*` matches a leading dot */
        if (glob(p, GLOB_PERIOD, NULL, &g) == 0) {
            for (size_t k = 0; k < g.gl_pathc; k++)
                if (!same_file(g.gl_pathv[k], dropin))
                    strv_push(out, xstrdup(g.gl_pathv[k]));
        }
        globfree(&g);
    }
}

/* The main file as a document ({} when missing or blank); for_rewrite (the
 * containerd main file, which configure may rewrite): read only as a regular
 * file, as the one atomic writer replaces only that. */
static json_t *load_main(const char *path, bool for_rewrite, bool *existed, char **text,
                         gctk_error **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    cleanup_error gctk_error *e = NULL;
    *existed = (for_rewrite ? read_regular_file(path, ENGINE_CONFIG_MAX, &data, &len, &e)
                            : read_file(path, ENGINE_CONFIG_MAX, &data, &len, &e)) == 0;
    if (!*existed) {
        if (e->code != ENOENT) {
            gctk_error_propagate(err, &e);
            return NULL;
        }
        data = xstrdup("");
        len = 0;
    }
    cleanup_free char *what = xasprintf("`%s`", path);
    json_t *doc = gctk_toml_parse(data, len, what, err);
    if (doc != NULL && text != NULL)
        *text = steal_pointer(&data);
    return doc;
}

bool containerd_main_imports(const char *main_path, const char *dropin)
{
    bool existed = false;
    cleanup_json json_t *doc = load_main(main_path, true, &existed, NULL, NULL);
    return doc != NULL && containerd_imports_dropin(doc, main_path, dropin);
}

/* `containerd config dump` of the main file with its imports but the drop-in. */
static json_t *effective_by_command(const char *exe, const json_t *main_doc,
                                    const struct strv *files, gctk_error **err)
{
    cleanup_json json_t *tmp_doc = json_deep_copy(main_doc);
    json_t *list = json_array();
    for (size_t i = 0; i < files->len; i++)
        json_array_append_new(list, json_string(files->items[i]));
    json_object_set_new(tmp_doc, "imports", list);
    cleanup_free char *text = gctk_toml_format(tmp_doc, err);
    if (text == NULL)
        return NULL;
    cleanup_free char *dir = temp_dir_make("gctk-containerd");
    if (dir == NULL) {
        gctk_fail(err, errno, "cannot make a temporary directory for `%s config dump`", exe);
        return NULL;
    }
    cleanup_free char *path = xasprintf("%s/config.toml", dir);
    const struct write_opts o = {.mode = 0600, .no_dir_sync = true};
    json_t *doc = NULL;
    cleanup_free char *dump = NULL;
    if (write_file(path, text, strlen(text), &o, err) == 0) {
        const char *argv[] = {exe, "--config", path, "config", "dump", NULL};
        if (run_capture(argv, ENGINE_CONFIG_MAX, DUMP_TIMEOUT_MS, &dump, err) < 0)
            gctk_wrap(err, "`%s config dump`", exe);
        else
            doc = gctk_toml_parse(dump, strlen(dump), "`containerd config dump`", err);
    }
    unlink(path);
    rmdir(dir);
    return doc;
}

/* The main file and its imports but the drop-in, merged as containerd
 * merges them: the last version wins, and the last table of each plugin. */
static json_t *effective_by_files(const json_t *main_doc, const struct strv *files,
                                  gctk_error **err)
{
    json_t *doc = json_deep_copy(main_doc);
    json_t *plugins = json_object_get(doc, "plugins");
    if (!json_is_object(plugins)) {
        plugins = json_object();
        json_object_set_new(doc, "plugins", plugins);
    }
    for (size_t i = 0; i < files->len; i++) {
        cleanup_json json_t *imp = gctk_toml_load(files->items[i], ENGINE_CONFIG_MAX, err);
        if (imp == NULL) {
            json_decref(doc);
            return NULL;
        }
        json_t *v = json_object_get(imp, "version");
        if (json_is_integer(v) && json_integer_value(v) != 0)
            json_object_set(doc, "version", v);
        const char *k;
        json_t *p;
        json_object_foreach(json_object_get(imp, "plugins"), k, p) json_object_set(plugins, k, p);
    }
    return doc;
}

int containerd_effective(const char *main_path, const struct runtime_entry *rt, json_t **out,
                         gctk_error **err)
{
    bool existed = false;
    cleanup_json json_t *main_doc = load_main(main_path, true, &existed, NULL, err);
    if (main_doc == NULL)
        return -1;
    json_t *version = json_object_get(main_doc, "version");
    if (json_object_size(main_doc) > 0 && !json_is_integer(version))
        return gctk_fail(err, 0,
                         "`%s` is a configuration of version 1 (it has no `version = 2`), whose "
                         "plugins read no drop-in: migrate it (`containerd config migrate` with "
                         "containerd 1.7) and run this again",
                         main_path);
    cleanup_strv struct strv files = {0};
    resolve_imports(main_doc, main_path, rt->dropin, &files);
    cleanup_free char *exe = NULL;
    if (rt->source != CONFIG_SOURCE_FILE) {
        const char *name = rt->executable != NULL ? rt->executable : "containerd";
        exe = strchr(name, '/') != NULL ? xstrdup(name) : path_search(getenv("PATH"), name, NULL);
        if (exe == NULL)
            exe = path_search(DEFAULT_PATH, name, NULL);
        if (exe == NULL && rt->source == CONFIG_SOURCE_COMMAND)
            return gctk_fail(err, ENOENT,
                             "`%s` not found, whose `config dump` is the configuration: give "
                             "its path with --executable-path, or use --config-source=file",
                             name);
    }
    /* every file must parse, whoever reads it: the message names it */
    for (size_t i = 0; i < files.len; i++) {
        cleanup_json json_t *imp = gctk_toml_load(files.items[i], ENGINE_CONFIG_MAX, err);
        if (imp == NULL)
            return -1;
    }
    json_t *doc = exe != NULL ? effective_by_command(exe, main_doc, &files, err)
                              : effective_by_files(main_doc, &files, err);
    if (doc == NULL)
        return -1;
    if (exe == NULL && json_object_get(doc, "version") == NULL)
        json_object_set_new(doc, "version", json_integer(2)); /* containerd 1.x's default */
    *out = doc;
    return 0;
}

/* ---- containerd: configure ------------------------------------------------------------- */

static const char containerd_header[] =
    "# Written by `gctk runtime configure --runtime=containerd`, which `--remove` undoes.\n"
    "# containerd 1.x replaces a plugin's whole table with an import's: this file\n"
    "# carries the CRI plugin's settings as containerd had them, and the GPU runtime.\n"
    "# After changing the CRI plugin in the main file, run the command again.\n";

int containerd_configure(const char *path, const struct runtime_entry *rt, unsigned flags,
                         bool *changed, char **text, gctk_error **err)
{
    struct runtime_entry r = *rt;
    if (r.dropin == NULL)
        r.dropin = ENGINE_CONTAINERD_DROPIN;
    if (r.dropin[0] != '/')
        return gctk_fail(err, 0, "the drop-in path `%s` is not absolute", r.dropin);
    bool main_existed = false;
    cleanup_free char *main_text = NULL;
    cleanup_json json_t *main_doc = load_main(path, true, &main_existed, &main_text, err);
    if (main_doc == NULL)
        return -1;
    cleanup_free char *main_what = xasprintf("`%s`", path);
    cleanup_free char *old_dropin = NULL;
    cleanup_error gctk_error *e = NULL;
    if (read_regular_file(r.dropin, ENGINE_CONFIG_MAX, &old_dropin, NULL, &e) < 0 &&
        e->code != ENOENT)
        return gctk_error_propagate(err, &e);

    cleanup_free char *new_dropin = NULL, *new_main = NULL;
    bool remove_main = false;
    if (flags & CONFIG_REMOVE) {
        if (main_existed && containerd_imports_remove(main_what, main_text, r.dropin, &new_main,
                                                      &remove_main, err) < 0)
            return -1;
    } else {
        cleanup_json json_t *effective = NULL, *doc = NULL;
        json_t *fv = json_object_get(main_doc, "version");
        json_int_t file_version = json_is_integer(fv) ? json_integer_value(fv) : 0;
        if (containerd_effective(path, &r, &effective, err) < 0 ||
            containerd_dropin_render(effective, &r, file_version, &doc, err) < 0)
            return gctk_wrap(err, "`%s`", path);
        new_dropin = dropin_text(doc, containerd_header, err);
        if (new_dropin == NULL)
            return -1;
        json_int_t version = json_integer_value(json_object_get(doc, "version"));
        if (containerd_imports_add(main_what, main_existed ? main_text : NULL, path, r.dropin,
                                   version, &new_main, err) < 0)
            return -1;
    }
    bool dropin_changes = (flags & CONFIG_REMOVE)
                              ? old_dropin != NULL
                              : old_dropin == NULL || strcmp(old_dropin, new_dropin) != 0;
    *changed = dropin_changes || new_main != NULL || remove_main;
    if (*changed && !(flags & CONFIG_DRY_RUN)) {
        /* the drop-in first: a main file that imports a missing one loads nothing */
        const struct write_opts o = {.mode = 0644};
        if (dropin_changes && new_dropin != NULL &&
            write_file(r.dropin, new_dropin, strlen(new_dropin), &o, err) < 0)
            return -1;
        if (dropin_changes && new_dropin == NULL && unlink(r.dropin) < 0 && errno != ENOENT)
            return gctk_fail(err, errno, "remove `%s`", r.dropin);
        if (remove_main) {
            /* the file gctk wrote whole goes again */
            if (unlink(path) < 0 && errno != ENOENT)
                return gctk_fail(err, errno, "remove `%s`", path);
        } else if (new_main != NULL) {
            /* the user's file keeps its mode and owner */
            const struct write_opts m = {.mode = 0644, .keep = true};
            if (write_file(path, new_main, strlen(new_main), &m, err) < 0)
                return -1;
        }
    }
    if (text != NULL)
        *text = new_dropin != NULL ? steal_pointer(&new_dropin) : xstrdup("");
    return 0;
}

/* ---- CRI-O ------------------------------------------------------------------------------ */

/* CRI-O's default runtime when its files name none (crun since CRI-O 1.31, runc
 * before): the first of these with a table is the template */
static const char *const crio_defaults[] = {"crun", "runc"};

int crio_dropin_render(const json_t *effective, const struct runtime_entry *rt, json_t **out,
                       gctk_error **err)
{
    (void)err;
    const json_t *runtime = json_object_get(json_object_get(effective, "crio"), "runtime");
    const json_t *runtimes = json_object_get(runtime, "runtimes");
    const char *def = json_string_value(json_object_get(runtime, "default_runtime"));
    const json_t *tmpl = NULL;
    if (def != NULL && strcmp(def, rt->name) != 0)
        tmpl = json_object_get(runtimes, def);
    for (size_t i = 0; tmpl == NULL && i < GCTK_ARRAY_LEN(crio_defaults); i++)
        tmpl = json_object_get(runtimes, crio_defaults[i]);
    json_t *entry = json_is_object(tmpl) ? json_deep_copy(tmpl) : json_object();
    /* its own binary: nothing of the template's runtime is inherited */
    json_object_del(entry, "inherit_default_runtime");
    json_object_set_new(entry, "runtime_path", json_string(rt->path));
    json_object_set_new(entry, "runtime_type", json_string("oci"));
    json_t *r = json_pack("{s:{s:o}}", "runtimes", rt->name, entry);
    if (rt->set_default)
        json_object_set_new(r, "default_runtime", json_string(rt->name));
    *out = json_pack("{s:{s:o}}", "crio", "runtime", r);
    return 0;
}

/* Deep merge of CRI-O's reading: tables key by key, the rest replaced. */
static void merge_into(json_t *to, const json_t *from)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)from, k, v)
    {
        json_t *old = json_object_get(to, k);
        if (json_is_object(old) && json_is_object(v))
            merge_into(old, v);
        else
            json_object_set_new(to, k, json_deep_copy(v));
    }
}

/* The main file and the drop-ins of its directory but gctk's, in CRI-O's
 * order (lexical). */
int crio_effective(const char *main_path, const char *dropin, json_t **out, gctk_error **err)
{
    bool existed = false;
    json_t *doc = load_main(main_path, false, &existed, NULL, err);
    if (doc == NULL)
        return -1;
    cleanup_free char *dir = xstrdup(dropin);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    cleanup_free char *pattern = xasprintf("%s/*", dir);
    glob_t g = {0};
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            struct stat st;
            if (same_file(g.gl_pathv[i], dropin) || stat(g.gl_pathv[i], &st) < 0 ||
                !S_ISREG(st.st_mode))
                continue;
            cleanup_json json_t *d = gctk_toml_load(g.gl_pathv[i], ENGINE_CONFIG_MAX, err);
            if (d == NULL) {
                globfree(&g);
                json_decref(doc);
                return -1;
            }
            merge_into(doc, d);
        }
    }
    globfree(&g);
    *out = doc;
    return 0;
}

static const char crio_header[] =
    "# Written by `gctk runtime configure --runtime=crio`, which `--remove` undoes.\n";

int crio_configure(const char *path, const struct runtime_entry *rt, unsigned flags, bool *changed,
                   char **text, gctk_error **err)
{
    struct runtime_entry r = *rt;
    if (r.dropin == NULL)
        r.dropin = ENGINE_CRIO_DROPIN;
    if (r.source == CONFIG_SOURCE_COMMAND)
        return gctk_fail(err, 0,
                         "--config-source=command is for containerd: CRI-O's configuration is "
                         "read from its files");
    cleanup_free char *t = NULL;
    if (!(flags & CONFIG_REMOVE)) {
        cleanup_json json_t *effective = NULL, *doc = NULL;
        if (crio_effective(path, r.dropin, &effective, err) < 0 ||
            crio_dropin_render(effective, &r, &doc, err) < 0)
            return -1;
        t = dropin_text(doc, crio_header, err);
        if (t == NULL)
            return -1;
    }
    if (engine_dropin_write(r.dropin, t, flags & CONFIG_REMOVE, flags & CONFIG_DRY_RUN, changed,
                            err) < 0)
        return -1;
    if (text != NULL)
        *text = t != NULL ? steal_pointer(&t) : xstrdup("");
    return 0;
}
