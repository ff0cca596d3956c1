/* gctk: the GPU Container Toolkit library, as gctk's programs (cmd/) see it.
 *
 * This header is the boundary: cmd/ includes it and nothing of lib/. It
 * gathers the public headers of include/gctk/, one per area:
 *   core.h       errors, capabilities, the GPU host, selections and plans
 *   util.h       what every part shares: ownership, errors, strings, files
 *   json.h       the one JSON loader; toml.h TOML documents as JSON values
 *   config.h     gctk's settings file
 *   vercmp.h     dotted versions; cudacompat.h the CUDA table; require.h the
 *                NVIDIA_REQUIRE_* language and an image's requirements
 *   oci.h        the OCI state and config.json; inject.h a container's GPUs
 *   hook.h       the OCI hook's flow; shim.h the runtime shim's
 *   cdi.h        CDI specs: generate, read, validate, resolve, the hooks
 *   engine.h     Docker, containerd, CRI-O and Podman configuration
 *   gpusflag.h   Docker's --gpus; compose.h the GPUs of a Compose file
 *   doctor.h     gctk doctor's checks; ps.h which container holds which GPU
 *   devchar.h    /dev/char links of the NVIDIA device nodes
 *   sim.h        the simulated GPU host
 * What lib/ keeps to itself (discovery's internals, NVML, the ELF and
 * ld.so.cache formats, rootfs resolution, cgroups, the container layout) is
 * declared in lib/. docs/design.md draws the layers.
 *
 * Conventions: a fallible function returns a negative value (or NULL) and sets
 * *err once, where the failure happened; callers add context with their own
 * words. Output parameters are untouched on failure. Library code never prints
 * and never exits. Returned `const` pointers belong to the object they came from.
 */
#ifndef GCTK_H
#define GCTK_H

#include "gctk/core.h"
#include "gctk/util.h"
#include "gctk/json.h"
#include "gctk/toml.h"
#include "gctk/config.h"
#include "gctk/vercmp.h"
#include "gctk/cudacompat.h"
#include "gctk/require.h"
#include "gctk/oci.h"
#include "gctk/inject.h"
#include "gctk/hook.h"
#include "gctk/shim.h"
#include "gctk/cdi.h"
#include "gctk/engine.h"
#include "gctk/gpusflag.h"
#include "gctk/compose.h"
#include "gctk/doctor.h"
#include "gctk/ps.h"
#include "gctk/devchar.h"
#include "gctk/sim.h"

#endif
