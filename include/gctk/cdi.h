/* CDI, the Container Device Interface (the CDI specification, SPEC.md of
 * cncf-tags/container-device-interface). One header, one file of lib/cdi/ per
 * concern:
 *   spec.c      names, the cdiVersion fields need, generation from the plan
 *   yaml.c      YAML text both ways, with one rule set for plain scalars
 *   validate.c  the schema and this host
 *   resolve.c   spec directories, device names to edits, edits to config.json
 *   hooks.c     the createContainer hooks a generated spec names
 * (The engines' CDI settings are engine.h's.)
 *
 * A spec is held as a jansson tree in the CDI layout (keys in the order they
 * are written): the generator builds one, the readers produce one, and every
 * other function reads one. Specs on disk are untrusted input: every field is
 * type-checked before use. */
#ifndef GCTK_CDI_H
#define GCTK_CDI_H

#include <jansson.h>
#include <stdbool.h>

#include "json.h"
#include "util.h"

#define CDI_DEFAULT_VENDOR "nvidia.com"
#define CDI_DEFAULT_CLASS "gpu"
#define CDI_IMEX_CLASS "imex-channel" /* the class of IMEX channel specs, as NVIDIA's */
/* where runtimes look, lowest priority first: /var/run/cdi overrides /etc/cdi */
#define CDI_STATIC_DIR "/etc/cdi"
#define CDI_DYNAMIC_DIR "/var/run/cdi"
/* The explicit environment of every hook a generated spec names. */
#define CDI_HOOK_PATH_ENV "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

enum cdi_naming {
    CDI_NAME_INDEX = 1u << 0, /* nvidia.com/gpu=0 */
    CDI_NAME_UUID = 1u << 1,  /* nvidia.com/gpu=GPU-... */
    CDI_NAME_BOTH = CDI_NAME_INDEX | CDI_NAME_UUID,
};

struct cdi_options {
    const char *vendor;    /* NULL: CDI_DEFAULT_VENDOR */
    const char *class;     /* NULL: CDI_DEFAULT_CLASS */
    unsigned naming;       /* CDI_NAME_*; 0: index */
    unsigned caps;         /* the driver files mounted; 0: GCTK_CAP_ALL */
    const char *gctk_path; /* the gctk binary the hooks run (absolute) */
    /* "NAME=VALUE" of the settings the hooks read (config_settings_env), or NULL */
    const struct strv *settings_env;
    bool no_cuda_compat; /* no forward compatibility in update-ldcache (cuda-compat: false) */
    /* the driver's files as containerEdits.mounts, for the runtime to make,
     * instead of --mount arguments of the spec's hook */
    bool runtime_mounts;
    /* the IMEX channels' spec instead (<vendor>/imex-channel, one device per
     * channel node of the host and "all"; no driver files) */
    bool imex_channels;
};

/* ---- names ------------------------------------------------------------------ */

/* "vendor.com/class=name" -> its parts (malloc'ed). The vendor must be a DNS
 * name, the class and name of [A-Za-z0-9_.-] beginning and ending with an
 * alphanumeric (a name may also hold ':'). */
int cdi_parse_qualified(const char *s, char **kind, char **name, gctk_error **err);
bool cdi_is_qualified(const char *s);
/* "vendor.com/class": a vendor, a '/' and a class. */
bool cdi_kind_valid(const char *kind);
bool cdi_device_name_valid(const char *name);

/* ---- generation -------------------------------------------------------------- */

/* One device per GPU (by index, UUID or both) plus "all": their nodes per
 * device (with graphics, their DRM nodes); the control nodes, the driver
 * files, the environment (NVIDIA_VISIBLE_DEVICES=void,
 * NVIDIA_CTK_LIBCUDA_DIR) and one hook (create-container: the links, the
 * DRM nodes' /dev/dri/by-path names where the node is, the ld.so.cache with
 * forward compatibility, the /proc mask; with an explicit env) at the top
 * level, so a container runs one hook process whatever devices it names.
 * Host paths are the root-joined ones; container paths the root-relative
 * ones. cdiVersion is the lowest that covers the fields used. */
int cdi_generate(gctk_host *h, const struct cdi_options *o, json_t **out, gctk_error **err);

/* The lowest cdiVersion that covers the fields of spec; *why (may be NULL)
 * gets the path and reason of the newest field, or NULL for the base 0.3.0. */
const char *cdi_required_version(const json_t *spec, char **why);
/* -1, 0, 1 as a is older, the same, newer than b; unknown versions sort
 * first (-2 when either is not a CDI version). */
int cdi_version_cmp(const char *a, const char *b);

/* ---- text -------------------------------------------------------------------- */

/* JSON with two-space indentation and a final newline. */
char *cdi_to_json(const json_t *spec);
/* YAML through libyaml's emitter: strings a YAML reader would take for a
 * number, boolean or null ("0", "true") are quoted. */
int cdi_to_yaml(const json_t *spec, char **out, size_t *len, gctk_error **err);
/* JSON when the text starts with '{', else YAML (plain scalars that are
 * integers, booleans or null become those types). name is for messages. */
int cdi_parse(const char *name, const char *data, size_t len, json_t **out, gctk_error **err);
int cdi_load(const char *path, json_t **out, gctk_error **err);

/* The one rule set for plain YAML scalars of a spec: YAML 1.1 as go-yaml v2
 * resolves them (the CDI reference implementation reads specs through it).
 * Whether a reader takes s for something other than a string (the writer
 * then quotes it), and s as the JSON value that reader makes of it (-1 for
 * a NaN or an infinity, which JSON cannot hold). */
bool yaml_scalar_typed(const char *s);
int yaml_scalar_json(const char *s, json_t **out);

/* ---- validation ---------------------------------------------------------------- */

enum {
    CDI_CHECK_HOST = 1u << 0, /* also: nodes, files and hooks exist on this host */
};

/* How a file a spec mounts stands on this host: CDI_SOURCE_OTHER_DRIVER
 * when its name carries a driver version (a library's, a firmware's) other
 * than driver (NULL: not compared), and *version (malloc'ed) is that
 * version; else CDI_SOURCE_MISSING when nothing is at path (a link followed,
 * as mount(2) follows it); else CDI_SOURCE_OK. The version comes first: an
 * old driver's file, gone with its driver, says more than its absence. */
enum cdi_source { CDI_SOURCE_OK, CDI_SOURCE_MISSING, CDI_SOURCE_OTHER_DRIVER };
enum cdi_source cdi_source_check(const char *path, const char *driver, char **version);

/* Appends one line per problem to problems ("devices[0].containerEdits.
 * deviceNodes[1]: ..."): unknown fields, wrong types, invalid names, a
 * cdiVersion older or newer than the fields need; with CDI_CHECK_HOST, host
 * paths that do not exist, nodes whose type or major:minor differ, driver
 * files of another driver version than driver_version (may be NULL: not
 * checked). Returns the number of problems. */
size_t cdi_validate(const json_t *spec, unsigned flags, const char *driver_version,
                    struct strv *problems);

/* ---- use ----------------------------------------------------------------------- */

/* A spec's hooks run as root on the host, so specs are trusted only when no
 * one but root could have written them: a spec directory must be owned by
 * root (or owner, the cdi-spec-owner setting) and not writable by group or
 * others, or none of its specs is used; a spec file must be a regular file
 * (a link in the directory is followed to it) with the same owner and mode
 * rules, looked at through O_PATH and opened through that fd only then (a
 * FIFO is never waited on, a device never opened). */

/* 0 when the open directory dirfd (shown as path) may hold trusted specs;
 * else -1 and a line that names it and the fix. */
int cdi_check_dir(int dirfd, const char *path, uid_t owner, gctk_error **err);
/* The spec name in the trusted directory dirfd (path: how messages name it),
 * loaded when it is trusted. */
int cdi_load_at(int dirfd, const char *name, const char *path, uid_t owner, json_t **out,
                gctk_error **err);
/* The same for a path: its directory and the file are both checked. */
int cdi_load_trusted(const char *path, uid_t owner, json_t **out, gctk_error **err);
/* The specs of dirs (NULL-terminated; later ones override earlier ones for a
 * file of the same name), as a JSON array of {"file", "spec"}; missing
 * directories give nothing. A directory that is refused or unreadable is
 * skipped whole; a file that is refused, unreadable or invalid is skipped and
 * the directory's other specs are used (as the CDI library of containerd,
 * Podman and NVIDIA's runtime does); each skip is a line in *skipped (may be
 * NULL) that names the file or directory and the fix. */
json_t *cdi_load_dirs(const char *const *dirs, uid_t owner, struct strv *skipped);
/* Every "kind=name" the loaded specs offer, in order. */
void cdi_list_devices(const json_t *specs, struct strv *out);
/* Resolves qualified names to the list of containerEdits objects to apply
 * (each spec's top-level edits once, then each device's). An unknown name is
 * an error naming the known ones. */
int cdi_resolve(const json_t *specs, const struct strv *names, json_t **edits, gctk_error **err);
/* Applies edits to an OCI config.json tree: env (a variable set again
 * replaces the old value), linux.devices and their allow rules in
 * linux.resources.devices, mounts, hooks. Device nodes without major:minor
 * are stat'ed on the host, and so are those without a fileMode, which get
 * the host node's (a runtime that makes the node gives it none otherwise:
 * crun in a user namespace makes it 000). With own_gctk (may be NULL), the file of the gctk
 * that goes with the caller: where the first createContainer hook the
 * container runs is that gctk's create-container and every mount of the
 * edits is a bind mount it makes, the mounts go to that hook as --mount
 * arguments instead of into `mounts` (the hook makes a mount in a fraction
 * of runc's time: docs/cdi.md); and that gctk's hook gets in its env the
 * variables that name the caller's settings (config_settings_env). */
struct stat;
int cdi_apply(json_t *config, const json_t *edits, const struct stat *own_gctk, gctk_error **err);
/* The env of a hook gctk writes into a file (a spec, Podman's hooks.d entry):
 * CDI_HOOK_PATH_ENV, then settings ("NAME=VALUE" of config_settings_env; may
 * be NULL). Never the environment of the process that writes it. */
json_t *cdi_hook_env(const struct strv *settings);
/* The same for a config.json an engine applied the specs to itself (Docker
 * 25+, containerd 1.7's CRI, Podman): where its first createContainer hook is
 * own_gctk's create-container with no mounts of its own, that hook gets the
 * caller's settings in its env, and the mounts of config.json that a trusted
 * spec of dirs (owner: cdi-spec-owner) gives such a hook go to it as --mount
 * arguments, unless a mount runc keeps after one of them lies on its path
 * (then all stay). *changed: config was changed. Nothing to fail on: a spec
 * that cannot be read leaves its mounts to runc. */
void cdi_hand_mounts(json_t *config, const char *const *dirs, uid_t owner,
                     const struct stat *own_gctk, bool *changed);

/* The CDI names of the annotations whose key starts with one of prefixes
 * (NULL-terminated; NULL: "cdi.k8s.io/"), each a "key=name,name" entry;
 * appended to out once each. */
void cdi_annotation_names(const struct strv *annotations, const char *const *prefixes,
                          struct strv *out);

/* The CDI names NVIDIA_VISIBLE_DEVICES asks for, read as NVIDIA's runtime
 * reads it: qualified names ("nvidia.com/gpu=0") are CDI devices of the spec
 * directories, except NVIDIA's jit-cdi names ("runtime.nvidia.com/gpu=0"),
 * which are GPU ids for the hook (gctk_select); plain ids are GPU ids too,
 * unless default_kind is given (NVIDIA's cdi mode): then "0" names
 * "<default_kind>=0" ("none" and "void" stay the hook's). A list that mixes
 * CDI devices with GPU ids is an error, as in NVIDIA's runtime. Appended to
 * out once each; nothing when the list is the hook's. */
int cdi_visible_devices_names(const char *visible_devices, const char *default_kind,
                              struct strv *out, gctk_error **err);

/* ---- the hooks (gctk hook ...) ---------------------------------------------------- */

/* Whether opt is an option of a bind mount that create-container applies
 * (bind, rw, ro, nosuid, nodev, noexec); its MOUNT_* flag (rootfs.h) is
 * or'ed into *flags. */
bool cdi_hook_mount_option(const char *opt, unsigned *flags);
/* The "--mount" argument of create-container for a mount of a spec
 * (hostPath, containerPath, options, type), or NULL where the hook cannot
 * make it as runc would: not a plain bind mount, an option the hook does not
 * apply (rbind, propagation, filesystem options), a path that is not
 * absolute or holds its "::". */
char *cdi_hook_mount_arg(const json_t *m);
/* Every mount of mounts (a spec's) as "--mount", cdi_hook_mount_arg()
 * appended to args; all or none: false, args unchanged, when one of them
 * cannot be one. */
bool cdi_hook_mount_args(const json_t *mounts, json_t *args);
/* fn(ctx, i, host, bad) for each "--mount VALUE" of a hook's args when they
 * are gctk's `hook create-container` arguments (where gctk's specs give the
 * driver's files): host the source VALUE names, or NULL and bad the line
 * that says why VALUE is not one (cdi_hook_mount_parse); i is VALUE's index
 * in args. */
void cdi_hook_mounts_each(const json_t *args,
                          void (*fn)(void *ctx, size_t i, const char *host, const char *bad),
                          void *ctx);
/* One "/HOST::/CONTAINER::OPTIONS" --mount argument of create-container:
 * its source, its target (malloc'ed) and its MOUNT_* flags; -1 and a line
 * naming what is wrong otherwise (*host and *target untouched). */
int cdi_hook_mount_parse(const char *arg, char **host, char **target, unsigned *flags,
                         gctk_error **err);

/* Each hook works in the rootfs with the OCI hook's hardening (lib/container/
 * rootfs.c); what it creates there belongs to the root of process pid's user
 * namespace (the container's: see rootfs_owner_of), or, with pid 0, to the
 * caller. */

/* Adds folder/<soname> entries for every library of the folders (files named
 * lib*.so.*, whose SONAME is read from the ELF) and their development links
 * to the ld.so.cache of the rootfs, written in-process. With
 * host_driver_version (may be NULL), the image's /usr/local/cuda/compat
 * libraries newer than that driver replace the driver's (forward
 * compatibility, layout_ldcache_add_compat). */
int cdi_hook_update_ldcache(const char *rootfs, pid_t pid, const struct strv *folders,
                            const char *host_driver_version, gctk_error **err);
/* Creates each "TARGET::LINK" symlink inside the rootfs. */
int cdi_hook_create_symlinks(const char *rootfs, pid_t pid, const struct strv *links,
                             gctk_error **err);
/* Covers /proc/driver/nvidia of the container with a tmpfs holding the
 * driver's version, params (ModifyDeviceFiles: 0) and registry, and the
 * /proc directories of the GPUs whose /dev/nvidiaN node the container has.
 * driver_root: the host's driver root ("/" or a simulated host), read
 * through the discovery cache (NULL: none), as the OCI hook reads it. */
int cdi_hook_mask_proc(const char *driver_root, const struct gctk_host_cache *cache,
                       const char *rootfs, pid_t pid, gctk_error **err);

/* What a generated spec asks of the one createContainer hook it names (gctk
 * hook create-container): the union of the hooks above. */
struct cdi_container_edits {
    const struct strv *mounts;           /* "/HOST::/CONTAINER::OPTIONS" bind mounts
                                          * the runtime handed over (cdi_apply);
                                          * may be NULL */
    const struct strv *links;            /* "TARGET::LINK", made in every container */
    const struct strv *node_links;       /* "TARGET::LINK", made only where TARGET
                                          * (from LINK's directory) is a character
                                          * device node the container has: a GPU's
                                          * /dev/dri/by-path names */
    const struct strv *folders;          /* the ld.so.cache's; empty: the cache is left */
    const char *host_driver_version;     /* as cdi_hook_update_ldcache; may be NULL */
    const char *driver_root;             /* the /proc mask's; NULL: no mask */
    const struct gctk_host_cache *cache; /* the mask's discovery cache; NULL: none */
};
/* What create-container did, for its log line: each step's time and what
 * it made. */
struct cdi_hook_report {
    unsigned long long host_ns, mounts_ns, links_ns, ldcache_ns, proc_ns;
    size_t mounts, links;
    const char *cache; /* gctk_host_cache_word() of the mask's host; NULL without a mask */
};
/* The mounts, the links, the node links, the ld.so.cache, then the /proc
 * mask, in one opening of the rootfs; a failure undoes the links and mounts
 * already made. rep may be NULL. */
int cdi_hook_create_container(const char *rootfs, pid_t pid, const struct cdi_container_edits *e,
                              struct cdi_hook_report *rep, gctk_error **err);

#endif
