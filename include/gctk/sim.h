/* The simulated GPU host: `gctk sim create DIR` builds under DIR the files a
 * real driver install leaves (proc files, device nodes, libraries,
 * ld.so.cache, firmware, sockets, configs), with the mock libnvidia-ml,
 * libcuda and nvidia-smi of sim/ in place of the real ones. See sim/README.md
 * for the formats. */
#ifndef GCTK_SIM_H
#define GCTK_SIM_H

#include <stdbool.h>

#include "util.h"

#define GCTK_SIM_MAX_GPUS 1024
#define GCTK_SIM_DEFAULT_GPUS 4
#define GCTK_SIM_DEFAULT_DRIVER "580.95.05"
#define GCTK_SIM_DEFAULT_MODEL "NVIDIA H100 80GB HBM3"

/* The marker in the mocks' .rodata that carries the CUDA version (13.0 is
 * 13000, as cuDriverGetVersion reports it), eight digits after the '='. */
#define GCTK_SIM_CUDA_MARKER "GCTK-SIM-CUDA-VERSION="

struct gctk_sim_options {
    unsigned gpus;      /* 0..GCTK_SIM_MAX_GPUS */
    const char *driver; /* "580.95.05": digits and dots */
    /* "13.0"; NULL: the version the driver supports (gctk_sim_cuda) */
    const char *cuda;
    const char *model;    /* "NVIDIA H100 80GB HBM3" */
    const char *mock_dir; /* where the built mocks are; NULL: gctk_sim_mock_dir() */
    bool force;           /* build over a non-empty DIR */
    /* MIG-enabled GPUs: "GPU:PROFILE[,PROFILE...]" (--mig, repeatable), each
     * profile one GPU instance with one compute instance; NULL: none */
    const char *const *mig;
    size_t nmig;
    /* NULL: the driver's files at the standard paths. A directory like
     * "/usr/local/nvidia": the libraries, programs, configs and firmware are
     * kept under it (lib64, lib, bin, share, etc, firmware) and the standard
     * paths are absolute links to them, as a driver installed in its own
     * tree leaves them (--driver-dir) */
    const char *driver_dir;
    /* the host's architecture: "x86_64" or "aarch64" (Debian's amd64 and
     * arm64 too); NULL: gctk's own. Its driver's version line names it, its
     * libraries and programs are of its machine, in its library directory
     * (/usr/lib/aarch64-linux-gnu), and only x86-64 has 32-bit ones (--arch) */
    const char *arch;
    /* The broken installs users meet (docs/troubleshooting.md), each on its
     * own: NULL/false/0 for a healthy host. */
    /* the user-space libraries are of this version, the kernel module of
     * `driver`: a driver upgraded without a reboot (--lib-version) */
    const char *lib_version;
    /* the kernel module and its nodes, no user-space library (--no-libs) */
    bool no_libs;
    /* the 64-bit libraries in this directory, which ld.so.cache does not list,
     * and no 32-bit ones: NixOS's /run/opengl-driver/lib (--uncached-lib-dir) */
    const char *uncached_lib_dir;
    /* persistence mode off on every GPU, and the first open of the driver
     * (nvmlInit, cuInit) takes this long, as on a GPU that is not kept
     * initialised (--cold-init-ms) */
    unsigned cold_init_ms;
};

/* Fills the defaults above. */
void gctk_sim_options_init(struct gctk_sim_options *o);
/* The architecture o builds ("x86_64", "aarch64"), o NULL: gctk's own;
 * o->arch as given when gctk does not know it. */
const char *gctk_sim_arch(const struct gctk_sim_options *o);

/* Builds the host under dir (created when missing). Refuses a non-empty dir
 * unless o->force; then the parts it owns (GPU entries, device nodes, driver
 * libraries of any version) are replaced and the rest is left. Degradations
 * (plain files instead of device nodes when mknod is not allowed, a nodev
 * filesystem) are appended to warnings as owned strings. */
int gctk_sim_create(const char *dir, const struct gctk_sim_options *o, struct strv *warnings,
                    gctk_error **err);

/* Where the mocks of arch (NULL: gctk's own) are: $GCTK_SIM_DIR, else <dir of
 * /proc/self/exe>/../sim (the build tree: build/cmd/gctk -> build/sim), else
 * the install dir; in each, the directory itself or its cross/ (the other
 * architecture's, built when its cross compiler is installed). The first
 * whose libnvidia-ml.so.1 is of arch wins. */
int gctk_sim_mock_dir(const char *arch, char **out, gctk_error **err);

/* The deterministic identity of simulated GPU `index`: the same on every
 * machine and for every driver version, so tests can predict it. */
char *gctk_sim_gpu_uuid(unsigned index);   /* "GPU-xxxxxxxx-xxxx-..." */
char *gctk_sim_gpu_bus_id(unsigned index); /* "0000:18:00.0", the /proc form */

/* The CUDA version the simulated driver reports: o->cuda when set, else the
 * newest release the driver meets the minimum of in gctk's CUDA table
 * (cudacompat_driver_cuda: 535.104.05 -> "12.2", 580.95.05 -> "13.0"), as a
 * real driver of that version reports. NULL when o->cuda is NULL and the
 * driver is malformed or older than every release. */
const char *gctk_sim_cuda(const struct gctk_sim_options *o, char *buf, size_t size);

/* "13.0" -> 13000; -1 when it is not MAJOR.MINOR with MAJOR 1..99, MINOR 0..99. */
int gctk_sim_cuda_number(const char *cuda);

/* Rewrites every GCTK_SIM_CUDA_MARKER in the file with the given version
 * number. Fails when the file holds no marker. */
int gctk_sim_patch_cuda(const char *path, int cuda_number, gctk_error **err);

/* ---- MIG ------------------------------------------------------------------ */

/* The char major the simulated driver gives /dev/nvidia-caps (dynamic on a
 * real host: /proc/devices names it). */
#define GCTK_SIM_CAPS_MAJOR 511
/* The IMEX channels' major (nvidia-caps-imex-channels in /proc/devices) and
 * how many channel nodes the simulated host has. */
#define GCTK_SIM_IMEX_MAJOR 509
#define GCTK_SIM_IMEX_CHANNELS 2
#define GCTK_SIM_MIG_MAX 7 /* GPU instances per GPU, as on an A100 or H100 */

/* "0:1g.10gb,1g.10gb,2g.20gb" -> gpu 0 and the profiles. A profile is
 * <slices>g.<GB>gb (slices 1..7, optionally "+me"); the slices of one GPU add
 * up to at most 7. */
int gctk_sim_parse_mig(const char *spec, unsigned *gpu, struct strv *profiles, gctk_error **err);
/* The deterministic UUID of MIG device (gpu instance gi, compute instance ci)
 * of simulated GPU `index`: "MIG-xxxxxxxx-xxxx-...". */
char *gctk_sim_mig_uuid(unsigned index, unsigned gi, unsigned ci);
/* The nvidia-cap minor the driver gives a capability, as in its mig-minors
 * table: config 1, monitor 2, then 135 per GPU minor: gi<G>/access at
 * 3 + 135 * gpu + 9 * G and gi<G>/ci<C>/access right after it. ci < 0: the gi's. */
int gctk_sim_mig_minor(unsigned gpu_minor, unsigned gi, int ci);

/* ---- elfstub.c ----------------------------------------------------------- */

/* Writes a minimal shared object (ET_DYN) of arch ("x86_64", "aarch64";
 * NULL: gctk's own), or of its 32-bit companion (is32: i386 for x86_64),
 * that a loader can dlopen and whose dynamic section names `soname`:
 * PT_LOAD, PT_DYNAMIC and PT_GNU_STACK, DT_SONAME, DT_HASH, DT_STRTAB,
 * DT_SYMTAB, DT_STRSZ, DT_SYMENT, and section headers for tools. The file is
 * created with mode 0755. */
int elfstub_write(const char *path, const char *soname, const char *arch, bool is32,
                  gctk_error **err);

#endif
