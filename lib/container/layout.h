/* The container layout of a plan: where each driver file goes in a
 * container, the mount flags it gets, the links a program expects beside the
 * libraries, and the image's ld.so.cache read and written back.
 *
 * One decision, two renderings: the hook (inject.c) mounts and links into a
 * running container's rootfs; the CDI generator (lib/cdi) writes the same
 * layout into a spec (mounts with their options, then create-symlinks and
 * update-ldcache hooks) that the runtime applies and gctk's CDI hooks
 * complete with the functions below. */
#ifndef GCTK_LAYOUT_H
#define GCTK_LAYOUT_H

#include "arch.h"
#include "core.h"
#include "ldcache.h"
#include "rootfs.h"
#include "util.h"

/* Where the files of each kind go. The hook takes the image's own library
 * directories (layout_image_dirs); a CDI spec, written once for every image,
 * leaves them NULL: every file at its host path. */
struct layout_dirs {
    const char *lib;   /* 64-bit libraries; NULL: the host file's directory */
    const char *lib32; /* 32-bit libraries; NULL: likewise */
    const char *bin;   /* programs; NULL: likewise */
    /* the host's architecture: the ld.so.cache flags of the plan's libraries */
    const struct host_arch *arch;
};

/* The directories of an image in r for a host of arch: Debian-like images
 * keep libraries in the multiarch directories (/usr/lib/aarch64-linux-gnu),
 * others in lib64 and lib32; programs in /usr/bin. An architecture without
 * 32-bit libraries (aarch64) has no lib32. */
void layout_image_dirs(struct rootfs *r, const struct host_arch *arch, struct layout_dirs *out);

/* Where f goes in the container (absolute); owned by the caller. */
char *layout_container_path(const struct gctk_file *f, const struct layout_dirs *d);

/* The MOUNT_* flags of a driver file's bind mount: read-only, nosuid, nodev;
 * the MPS pipe directory, which the container's clients write to, instead
 * writable and noexec. */
unsigned layout_file_flags(const struct gctk_file *f);
/* A device node's: nosuid, noexec. */
#define LAYOUT_NODE_FLAGS (MOUNT_NOSUID | MOUNT_NOEXEC)
/* The mount options of flags as an OCI mount lists them ("ro", "nosuid",
 * "nodev", "noexec"), appended to out. */
void layout_mount_options(unsigned flags, struct strv *out);

/* The links a container expects beside the driver's files, paths[i] ->
 * targets[i]:
 * - SONAME -> file ("libcuda.so.1" -> "libcuda.so.580.95.05");
 * - the development links that build systems and dlopen("libcuda.so") users
 *   look for (-> SONAME): every one the host keeps beside the driver's
 *   libraries (gctk_file.dev), and libcuda.so, libnvidia-ml.so and
 *   libnvidia-opticalflow.so whatever the host has;
 * - libGLX_indirect.so.0 -> the libGLX_nvidia file (GLVND's indirect GLX),
 *   gbm/nvidia-drm_gbm.so -> ../libnvidia-allocator.so.1 for graphics (GBM's
 *   backend), libglxserver_nvidia.so -> its file beside the Xorg module;
 * - each DRM node's /dev/dri/by-path name -> ../cardN, ../renderDN.
 * A SONAME that is not a plain file name gets none. */
struct layout_links {
    struct strv targets; /* what each link points to, relative to its directory */
    struct strv paths;   /* the links, absolute in the container */
    int *gpus;           /* per link: the GPU of a DRM node's link; -1 for the others */
};
void layout_links(const gctk_plan *p, const struct layout_dirs *d, struct layout_links *out);
void layout_links_clear(struct layout_links *l);

/* The directory of the 64-bit libcuda in the container (NVIDIA's
 * NVIDIA_CTK_LIBCUDA_DIR); NULL when the plan has none. Owned. */
char *layout_libcuda_dir(const gctk_plan *p, const struct layout_dirs *d);

/* The directories of the plan's libraries in the container, each once, in
 * plan order (what update-ldcache scans). */
void layout_lib_folders(const gctk_plan *p, const struct layout_dirs *d, struct strv *out);

/* ---- the container's /proc/driver/nvidia ----------------------------------- */

/* Covers the container's /proc/driver/nvidia with a tmpfs that holds only the
 * driver's version, params (ModifyDeviceFiles: 0) and registry, the given
 * GPUs' directories and the given other paths of /proc/driver/nvidia (MIG
 * capabilities), all read-only, then seals it. Nothing to do when the host
 * has no /proc/driver/nvidia. The mounts go to j (the caller undoes them). */
int inject_mask_proc(const gctk_host *h, struct rootfs *r, const struct gctk_gpu *const *gpus,
                     size_t ngpus, const char *const *procs, size_t nprocs, struct mount_journal *j,
                     gctk_error **err);

/* ---- the container's ld.so.cache ------------------------------------------ */

/* Reads the image's /etc/ld.so.cache into c (empty on entry), with its
 * hwcap entries dropped (they index an extension the writer does not keep).
 * Never blocks on or follows what the image planted there: the path is
 * resolved inside the root and opened only if it is a regular file. A
 * missing, odd or corrupt cache gives an empty one (ld.so would ignore it
 * too); notes (may be NULL) get a line saying why. */
void layout_ldcache_read(struct rootfs *r, struct ldcache *c, struct strv *notes);
/* Whether the ld.so.cache lists f, a library with a plain SONAME, and its
 * flags for the loader of arch (the driver's). */
bool layout_ldcache_lib(const struct gctk_file *f, const struct host_arch *arch, uint32_t *flags);
/* Adds the plan's libraries: SONAME -> its container directory/SONAME, and
 * each development link of layout_links() under its own name, as ldconfig
 * lists them ("libcuda.so" -> directory/libcuda.so). */
void layout_ldcache_add_plan(struct ldcache *c, const gctk_plan *p, const struct layout_dirs *d);
/* Adds every library of a folder of the container (regular files named
 * lib*.so*, whose SONAME is read from the ELF): folder/SONAME, flagged for
 * the loader of its own ELF machine and class (host_arch_ldcache_flags; a
 * file of a machine gctk knows no loader of is left out); and, as ldconfig
 * does, each development link lib*.so of the folder that leads (by plain
 * names within the folder) to one of them whose SONAME it begins:
 * folder/lib*.so. A library that c's parsed entries (the image's own
 * cache) name at folder/SONAME, itself or through a link there by its
 * plain name, is taken with that SONAME and those flags, unread. So is a
 * file that mounted (may be NULL) names by its own path: entries SONAME ->
 * FOLDER/NAME, the caller's knowledge of what it mounted there, which wins
 * over the image's cache. */
int layout_ldcache_add_folder(struct rootfs *r, struct ldcache *c, const char *folder,
                              const struct ldcache *mounted, gctk_error **err);
/* Forward compatibility: the image's /usr/local/cuda/compat libraries of
 * compute (NVIDIA's cuda-compat package) that are newer than the host's
 * driver_version replace the driver's SONAMEs in c. Only regular 64-bit ELF
 * files of arch (NULL: of any architecture gctk knows, flagged for their own
 * loader) inside the rootfs count: a symlink there is ignored (it could name
 * anything), and so is anything else odd; notes (may be NULL) get a line
 * for each decision. *compat (may be NULL) gets the libcuda used, or stays. */
void layout_ldcache_add_compat(struct rootfs *r, const struct host_arch *arch,
                               const char *driver_version, struct ldcache *c, struct strv *notes,
                               char **compat);
/* Writes c as the container's /etc/ld.so.cache (atomically; a symlink there
 * is replaced, never followed). */
int layout_ldcache_write(struct rootfs *r, struct ldcache *c, gctk_error **err);

#endif
