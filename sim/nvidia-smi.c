/* A mock nvidia-smi: the commands people type first in a GPU container,
 * with the real tool's messages and exit codes. Like the real one it links
 * only against libc and loads libnvidia-ml.so.1 through the dynamic loader,
 * so a container without the library (or without its ld.so.cache entry)
 * fails the way a real one does. */
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the library directory of the machine this program is built for */
#if defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#error "the simulated driver is built for x86_64 and aarch64 only"
#endif

typedef void *device_t;

struct pci_info {
    char bus_id_legacy[16];
    unsigned domain, bus, device, pci_device_id, pci_subsystem_id;
    char bus_id[32];
};

struct memory {
    unsigned long long total, free, used;
};

struct utilization {
    unsigned gpu, memory;
};

/* nvmlProcessInfo_t of the _v3 functions */
struct process {
    unsigned pid;
    unsigned long long used;
    unsigned gi, ci;
};

/* The NVML calls this tool makes, resolved with dlsym. */
static struct {
    int (*init)(void);
    int (*shutdown)(void);
    const char *(*error_string)(int);
    int (*driver_version)(char *, unsigned);
    int (*nvml_version)(char *, unsigned);
    int (*cuda_version)(int *);
    int (*count)(unsigned *);
    int (*by_index)(unsigned, device_t *);
    int (*by_uuid)(const char *, device_t *);
    int (*by_bus_id)(const char *, device_t *);
    int (*uuid)(device_t, char *, unsigned);
    int (*name)(device_t, char *, unsigned);
    int (*pci)(device_t, struct pci_info *);
    int (*memory)(device_t, struct memory *);
    int (*cc)(device_t, int *, int *);
    int (*persistence)(device_t, int *);
    int (*mig)(device_t, unsigned *, unsigned *);
    int (*temperature)(device_t, int, unsigned *);
    int (*power)(device_t, unsigned *);
    int (*power_limit)(device_t, unsigned *);
    int (*utilization)(device_t, struct utilization *);
    int (*mig_max)(device_t, unsigned *);
    int (*mig_by_index)(device_t, unsigned, device_t *);
    int (*procs[2])(device_t, unsigned *, struct process *); /* compute, graphics */
} nvml;

enum {
    EXIT_NO_DEVICE = 6,
    EXIT_DRIVER_NOT_LOADED = 9,
    EXIT_NO_LIBRARY = 12,
    EXIT_INIT_FAILED = 255,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
};

/* The loader's search first; only when it fails, and this binary lives at
 * PREFIX/usr/bin/nvidia-smi with a non-empty PREFIX (a `gctk sim create`
 * dir), the library beside it. Inside a container PREFIX is empty, so a
 * library the toolkit failed to inject stays missing. */
static void *open_nvml(void)
{
    void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    if (h != NULL)
        return h;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    const char *tail = "/usr/bin/nvidia-smi";
    size_t t = strlen(tail);
    if ((size_t)n <= t || strcmp(exe + n - t, tail) != 0)
        return NULL;
    char lib[PATH_MAX + 64];
    snprintf(lib, sizeof(lib), "%.*s/usr/lib/" MULTIARCH "/libnvidia-ml.so.1", (int)(n - t), exe);
    return dlopen(lib, RTLD_NOW);
}

static bool load_nvml(void)
{
    void *h = open_nvml();
    if (h == NULL)
        return false;
#define SYM(field, name) *(void **)&nvml.field = dlsym(h, name)
    SYM(init, "nvmlInit_v2");
    SYM(shutdown, "nvmlShutdown");
    SYM(error_string, "nvmlErrorString");
    SYM(driver_version, "nvmlSystemGetDriverVersion");
    SYM(nvml_version, "nvmlSystemGetNVMLVersion");
    SYM(cuda_version, "nvmlSystemGetCudaDriverVersion_v2");
    SYM(count, "nvmlDeviceGetCount_v2");
    SYM(by_index, "nvmlDeviceGetHandleByIndex_v2");
    SYM(by_uuid, "nvmlDeviceGetHandleByUUID");
    SYM(by_bus_id, "nvmlDeviceGetHandleByPciBusId_v2");
    SYM(uuid, "nvmlDeviceGetUUID");
    SYM(name, "nvmlDeviceGetName");
    SYM(pci, "nvmlDeviceGetPciInfo_v3");
    SYM(memory, "nvmlDeviceGetMemoryInfo");
    SYM(cc, "nvmlDeviceGetCudaComputeCapability");
    SYM(persistence, "nvmlDeviceGetPersistenceMode");
    SYM(mig, "nvmlDeviceGetMigMode");
    SYM(temperature, "nvmlDeviceGetTemperature");
    SYM(power, "nvmlDeviceGetPowerUsage");
    SYM(power_limit, "nvmlDeviceGetPowerManagementLimit");
    SYM(utilization, "nvmlDeviceGetUtilizationRates");
    SYM(mig_max, "nvmlDeviceGetMaxMigDeviceCount");
    SYM(mig_by_index, "nvmlDeviceGetMigDeviceHandleByIndex");
    SYM(procs[0], "nvmlDeviceGetComputeRunningProcesses_v3");
    SYM(procs[1], "nvmlDeviceGetGraphicsRunningProcesses_v3");
#undef SYM
    return nvml.init != NULL && nvml.error_string != NULL && nvml.count != NULL &&
           nvml.by_index != NULL;
}

/* ---- what one GPU reports ------------------------------------------------ */

struct gpu {
    unsigned index;
    device_t dev;
    char uuid[96], name[96];
    struct pci_info pci;
    struct memory mem;
    int cc_major, cc_minor;
    int persistence; /* -1: unknown */
    int mig;         /* -1: not supported */
    unsigned temp, power_mw, limit_mw;
    struct utilization util;
};

static void read_gpu(unsigned index, device_t dev, struct gpu *g)
{
    memset(g, 0, sizeof(*g));
    g->index = index;
    g->dev = dev;
    g->persistence = -1;
    g->mig = -1;
    if (nvml.uuid == NULL || nvml.uuid(dev, g->uuid, sizeof(g->uuid)) != 0)
        snprintf(g->uuid, sizeof(g->uuid), "[N/A]");
    if (nvml.name == NULL || nvml.name(dev, g->name, sizeof(g->name)) != 0)
        snprintf(g->name, sizeof(g->name), "[N/A]");
    if (nvml.pci == NULL || nvml.pci(dev, &g->pci) != 0)
        snprintf(g->pci.bus_id, sizeof(g->pci.bus_id), "[N/A]");
    if (nvml.memory != NULL)
        nvml.memory(dev, &g->mem);
    if (nvml.cc != NULL)
        nvml.cc(dev, &g->cc_major, &g->cc_minor);
    int pm;
    if (nvml.persistence != NULL && nvml.persistence(dev, &pm) == 0)
        g->persistence = pm;
    unsigned cur, pending;
    if (nvml.mig != NULL && nvml.mig(dev, &cur, &pending) == 0)
        g->mig = (int)cur;
    if (nvml.temperature != NULL)
        nvml.temperature(dev, 0, &g->temp);
    if (nvml.power != NULL)
        nvml.power(dev, &g->power_mw);
    if (nvml.power_limit != NULL)
        nvml.power_limit(dev, &g->limit_mw);
    if (nvml.utilization != NULL)
        nvml.utilization(dev, &g->util);
}

static void cuda_version(char *buf, size_t size)
{
    int v = 0;
    if (nvml.cuda_version != NULL && nvml.cuda_version(&v) == 0 && v > 0)
        snprintf(buf, size, "%d.%d", v / 1000, v % 1000 / 10);
    else
        snprintf(buf, size, "N/A");
}

static void driver_version(char *buf, size_t size)
{
    if (nvml.driver_version == NULL || nvml.driver_version(buf, (unsigned)size) != 0)
        snprintf(buf, size, "N/A");
}

/* ---- output formats -------------------------------------------------------- */

/* The MIG devices of a GPU in MIG mode, under it, as the real -L lists them:
 * "  MIG 1g.10gb     Device  0: (UUID: MIG-...)" */
static void print_migs(const struct gpu *g)
{
    unsigned max = 0;
    if (g->mig != 1 || nvml.mig_max == NULL || nvml.mig_by_index == NULL ||
        nvml.mig_max(g->dev, &max) != 0)
        return;
    for (unsigned i = 0; i < max; i++) {
        device_t mig = NULL;
        char uuid[96], name[96];
        if (nvml.mig_by_index(g->dev, i, &mig) != 0)
            continue;
        if (nvml.uuid == NULL || nvml.uuid(mig, uuid, sizeof(uuid)) != 0)
            snprintf(uuid, sizeof(uuid), "[N/A]");
        if (nvml.name == NULL || nvml.name(mig, name, sizeof(name)) != 0)
            snprintf(name, sizeof(name), "[N/A]");
        const char *profile = strstr(name, "MIG ");
        printf("  MIG %-11s Device %2u: (UUID: %s)\n", profile != NULL ? profile + 4 : name, i,
               uuid);
    }
}

static void print_list(const struct gpu *gpus, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        printf("GPU %u: %s (UUID: %s)\n", gpus[i].index, gpus[i].name, gpus[i].uuid);
        print_migs(&gpus[i]);
    }
}

/* The process name as the real tool shows it: argv[0] of /proc/PID/cmdline. */
static void process_name(unsigned pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
    FILE *f = fopen(path, "re");
    size_t n = f != NULL ? fread(buf, 1, size - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    if (buf[0] == '\0')
        snprintf(buf, size, "N/A");
}

/* The processes of every GPU: compute ("C"), graphics ("G") or both; on a
 * GPU in MIG mode with their GPU and compute instance. The count printed. */
static unsigned print_processes(const struct gpu *gpus, unsigned n)
{
    unsigned printed = 0;
    for (unsigned i = 0; i < n; i++) {
        struct process list[2][256];
        unsigned count[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            count[k] = 256;
            if (nvml.procs[k] == NULL || nvml.procs[k](gpus[i].dev, &count[k], list[k]) != 0)
                count[k] = 0;
        }
        for (int k = 0; k < 2; k++) {
            for (unsigned j = 0; j < count[k]; j++) {
                const struct process *p = &list[k][j];
                bool both = false;
                for (unsigned m = 0; m < count[1 - k] && !both; m++)
                    both = list[1 - k][m].pid == p->pid;
                if (both && k == 1)
                    continue; /* listed with its compute context */
                char gi[16] = "N/A", ci[16] = "N/A", name[256], line[128];
                if (p->gi != 0xffffffffu) {
                    snprintf(gi, sizeof(gi), "%u", p->gi);
                    snprintf(ci, sizeof(ci), "%u", p->ci);
                }
                process_name(p->pid, name, sizeof(name));
                snprintf(line, sizeof(line), "%5u%6s%5s%16u%7s   %-35.35s %7lluMiB ", gpus[i].index,
                         gi, ci, p->pid,
                         both     ? "C+G"
                         : k == 0 ? "C"
                                  : "G",
                         name, p->used >> 20);
                printf("|%-89.89s|\n", line);
                printed++;
            }
        }
    }
    return printed;
}

static void print_table(const struct gpu *gpus, unsigned n)
{
    static const char *const sep = "+-----------------------------------------+--------------------"
                                   "----+----------------------+";
    static const char *const wide = "+-------------------------------------------------------------"
                                    "----------------------------+";
    char drv[96], cuda[32], stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm);
    driver_version(drv, sizeof(drv));
    cuda_version(cuda, sizeof(cuda));

    printf("%s       \n%s\n", stamp, wide);
    printf("| NVIDIA-SMI %-22s Driver Version: %-14s CUDA Version: %-9s|\n", drv, drv, cuda);
    printf("%s\n", sep);
    printf("| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. "
           "ECC |\n");
    printf("| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute "
           "M. |\n");
    printf("|                                         |                        |               MIG "
           "M. |\n");
    printf("|=========================================+========================+==================="
           "===|\n");
    for (unsigned i = 0; i < n; i++) {
        const struct gpu *g = &gpus[i];
        char a[128], b[128], c[128];
        snprintf(a, sizeof(a), " %3u  %-28.28s %4s  ", g->index, g->name,
                 g->persistence < 0 ? "N/A"
                 : g->persistence   ? "On"
                                    : "Off");
        snprintf(b, sizeof(b), "%19s Off ", g->pci.bus_id);
        snprintf(c, sizeof(c), "%21s ", "0");
        printf("|%-41.41s|%-24.24s|%-22.22s|\n", a, b, c);
        snprintf(a, sizeof(a), " N/A   %2uC    P0  %13uW / %4uW ", g->temp, g->power_mw / 1000,
                 g->limit_mw / 1000);
        snprintf(b, sizeof(b), "%8lluMiB / %6lluMiB ", g->mem.used >> 20, g->mem.total >> 20);
        snprintf(c, sizeof(c), "%7u%%      Default ", g->util.gpu);
        printf("|%-41.41s|%-24.24s|%-22.22s|\n", a, b, c);
        snprintf(c, sizeof(c), "%21s ", g->mig < 0 ? "N/A" : g->mig ? "Enabled" : "Disabled");
        printf("|%-41.41s|%-24.24s|%-22.22s|\n", "", "", c);
        printf("%s\n", sep);
    }
    printf("\n%s\n", wide);
    printf("| Processes:                                                                           "
           "   |\n");
    printf("|  GPU   GI   CI              PID   Type   Process name                        GPU "
           "Memory |\n");
    printf("|        ID   ID                                                               Usage   "
           "   |\n");
    printf("|======================================================================================"
           "===|\n");
    if (print_processes(gpus, n) == 0)
        printf("|  No running processes found                                                      "
               "       |\n");
    printf("%s\n", wide);
}

/* --query-gpu: one CSV line per GPU; the header uses the canonical names. */
static const struct field {
    const char *name, *alias, *header;
} fields[] = {
    {"index", NULL, "index"},
    {"uuid", "gpu_uuid", "uuid"},
    {"name", "gpu_name", "name"},
    {"pci.bus_id", "gpu_bus_id", "pci.bus_id"},
    {"memory.total", NULL, "memory.total [MiB]"},
    {"memory.used", NULL, "memory.used [MiB]"},
    {"memory.free", NULL, "memory.free [MiB]"},
    {"driver_version", NULL, "driver_version"},
    {"compute_cap", NULL, "compute_cap"},
    {"persistence_mode", NULL, "persistence_mode"},
    {"mig.mode.current", NULL, "mig.mode.current"},
    {"temperature.gpu", NULL, "temperature.gpu"},
    {"power.draw", NULL, "power.draw [W]"},
    {"utilization.gpu", NULL, "utilization.gpu [%]"},
    {"count", NULL, "count"},
};

static bool str_is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const struct field *find_field(const char *name)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(fields[i].name, name) == 0 ||
            (fields[i].alias != NULL && strcmp(fields[i].alias, name) == 0))
            return &fields[i];
    return NULL;
}

static void format_value(const struct field *f, const struct gpu *g, unsigned total, bool units,
                         char *out, size_t size)
{
    const char *n = f->name;
    if (str_is(n, "index"))
        snprintf(out, size, "%u", g->index);
    else if (str_is(n, "uuid"))
        snprintf(out, size, "%s", g->uuid);
    else if (str_is(n, "name"))
        snprintf(out, size, "%s", g->name);
    else if (str_is(n, "pci.bus_id"))
        snprintf(out, size, "%s", g->pci.bus_id);
    else if (str_is(n, "memory.total") || str_is(n, "memory.used") || str_is(n, "memory.free")) {
        unsigned long long v = str_is(n, "memory.total")  ? g->mem.total
                               : str_is(n, "memory.used") ? g->mem.used
                                                          : g->mem.free;
        snprintf(out, size, units ? "%llu MiB" : "%llu", v >> 20);
    } else if (str_is(n, "driver_version"))
        driver_version(out, size);
    else if (str_is(n, "compute_cap"))
        snprintf(out, size, "%d.%d", g->cc_major, g->cc_minor);
    else if (str_is(n, "persistence_mode"))
        snprintf(out, size, "%s",
                 g->persistence < 0 ? "[N/A]"
                 : g->persistence   ? "Enabled"
                                    : "Disabled");
    else if (str_is(n, "mig.mode.current"))
        snprintf(out, size, "%s", g->mig < 0 ? "[N/A]" : g->mig ? "Enabled" : "Disabled");
    else if (str_is(n, "temperature.gpu"))
        snprintf(out, size, "%u", g->temp);
    else if (str_is(n, "power.draw"))
        snprintf(out, size, units ? "%u.%02u W" : "%u.%02u", g->power_mw / 1000,
                 g->power_mw % 1000 / 10);
    else if (str_is(n, "utilization.gpu"))
        snprintf(out, size, units ? "%u %%" : "%u", g->util.gpu);
    else
        snprintf(out, size, "%u", total);
}

static int print_query(const char *query, const char *format, const struct gpu *gpus, unsigned n)
{
    bool header = true, units = true;
    if (format == NULL || strncmp(format, "csv", 3) != 0) {
        printf("Invalid format: only \"csv\" is supported. See 'nvidia-smi -h' for help.\n");
        return 2;
    }
    char fmt[256];
    snprintf(fmt, sizeof(fmt), "%s", format);
    for (char *save = NULL, *opt = strtok_r(fmt, ",", &save); opt != NULL;
         opt = strtok_r(NULL, ",", &save)) {
        if (str_is(opt, "noheader"))
            header = false;
        else if (str_is(opt, "nounits"))
            units = false;
        else if (!str_is(opt, "csv")) {
            printf("Invalid format: \"%s\". See 'nvidia-smi -h' for help.\n", opt);
            return 2;
        }
    }
    const struct field *list[64];
    size_t count = 0;
    char q[1024];
    snprintf(q, sizeof(q), "%s", query);
    for (char *save = NULL, *name = strtok_r(q, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        const struct field *f = find_field(name);
        if (f == NULL) {
            printf("Field \"%s\" is not a valid field to query.\n\n", name);
            return 2;
        }
        if (count < sizeof(list) / sizeof(list[0]))
            list[count++] = f;
    }
    if (header) {
        /* the header keeps its units even with nounits, as the real tool's does */
        for (size_t i = 0; i < count; i++)
            printf("%s%s", i ? ", " : "", list[i]->header);
        printf("\n");
    }
    for (unsigned g = 0; g < n; g++) {
        for (size_t i = 0; i < count; i++) {
            char v[128];
            format_value(list[i], &gpus[g], n, units, v, sizeof(v));
            printf("%s%s", i ? ", " : "", v);
        }
        printf("\n");
    }
    return 0;
}

/* -i: a comma list of indexes, UUIDs and PCI bus ids. */
static bool select_gpus(const char *ids, const struct gpu *all, unsigned n, struct gpu *out,
                        unsigned *count)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", ids);
    *count = 0;
    for (char *save = NULL, *id = strtok_r(buf, ",", &save); id != NULL;
         id = strtok_r(NULL, ",", &save)) {
        device_t dev = NULL;
        char *end;
        unsigned long index = strtoul(id, &end, 10);
        if (*id != '\0' && *end == '\0') {
            if (index >= n)
                return false;
            dev = all[index].dev;
        } else if (strncmp(id, "GPU-", 4) == 0) {
            if (nvml.by_uuid == NULL || nvml.by_uuid(id, &dev) != 0)
                return false;
        } else if (nvml.by_bus_id == NULL || nvml.by_bus_id(id, &dev) != 0) {
            return false;
        }
        for (unsigned i = 0; i < n; i++)
            if (all[i].dev == dev)
                out[(*count)++] = all[i];
    }
    return *count > 0;
}

static void usage(void)
{
    printf("NVIDIA System Management Interface -- v%s (gctk simulated host)\n\n"
           "nvidia-smi [OPTION1 [ARG1]] ...\n\n"
           "    -h,   --help                Print usage information and exit.\n"
           "    -L,   --list-gpus           Display a list of GPUs connected to the system.\n"
           "    -i,   --id=                 Target a specific GPU.\n"
           "          --query-gpu=          Information about GPU.\n"
           "          --format=             csv[,noheader][,nounits]\n"
           "          --version             Print the version and exit.\n",
           "(sim)");
}

static int invalid_args(void)
{
    printf("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n\n");
    return 2;
}

int main(int argc, char **argv)
{
    /* run as one of the driver's other tools (a copy under its name) */
    const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    if (strcmp(self, "nvidia-smi") != 0 && strncmp(self, "nvidia-", 7) == 0) {
        printf("%s (gctk simulated host)\n", self);
        return 0;
    }
    bool list = false, version = false;
    const char *id = NULL, *query = NULL, *format = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (str_is(a, "-h") || str_is(a, "--help")) {
            usage();
            return 0;
        } else if (str_is(a, "-L") || str_is(a, "--list-gpus")) {
            list = true;
        } else if (str_is(a, "--version")) {
            version = true;
        } else if (str_is(a, "-i") || str_is(a, "--id")) {
            if (++i >= argc)
                return invalid_args();
            id = argv[i];
        } else if (strncmp(a, "--id=", 5) == 0) {
            id = a + 5;
        } else if (strncmp(a, "--query-gpu=", 12) == 0) {
            query = a + 12;
        } else if (str_is(a, "--query-gpu")) {
            if (++i >= argc)
                return invalid_args();
            query = argv[i];
        } else if (strncmp(a, "--format=", 9) == 0) {
            format = a + 9;
        } else if (str_is(a, "--format")) {
            if (++i >= argc)
                return invalid_args();
            format = argv[i];
        } else {
            return invalid_args();
        }
    }

    if (!load_nvml()) {
        printf("NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make "
               "sure that the NVIDIA Display Driver is properly installed and present in your "
               "system.\nPlease also try adding directory that contains libnvidia-ml.so to your "
               "system PATH.\n");
        return EXIT_NO_LIBRARY;
    }
    int r = nvml.init();
    if (r == NVML_ERROR_DRIVER_NOT_LOADED) {
        printf("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
               "Make sure that the latest NVIDIA driver is installed and running.\n\n");
        return EXIT_DRIVER_NOT_LOADED;
    }
    if (r != 0) {
        printf("Failed to initialize NVML: %s\n", nvml.error_string(r));
        return EXIT_INIT_FAILED;
    }

    if (version) {
        char drv[96], nv[96], cuda[32];
        driver_version(drv, sizeof(drv));
        if (nvml.nvml_version == NULL || nvml.nvml_version(nv, sizeof(nv)) != 0)
            snprintf(nv, sizeof(nv), "N/A");
        cuda_version(cuda, sizeof(cuda));
        /* the NVML version is "<CUDA major>.<driver>": shown without the CUDA part */
        const char *dot = strchr(nv, '.');
        printf("NVIDIA-SMI version  : %s\nNVML version        : %s\nDRIVER version      : %s\n"
               "CUDA Version        : %s\n",
               drv, dot != NULL ? dot + 1 : nv, drv, cuda);
        nvml.shutdown();
        return 0;
    }

    unsigned n = 0;
    if (nvml.count(&n) != 0)
        n = 0;
    struct gpu *all = calloc(n ? n : 1, sizeof(*all));
    struct gpu *sel = calloc(n ? n : 1, sizeof(*sel));
    if (all == NULL || sel == NULL)
        abort();
    for (unsigned i = 0; i < n; i++) {
        device_t dev = NULL;
        if (nvml.by_index(i, &dev) == 0)
            read_gpu(i, dev, &all[i]);
    }
    unsigned count = n;
    memcpy(sel, all, n * sizeof(*all));
    int status = 0;
    if (id != NULL && !select_gpus(id, all, n, sel, &count)) {
        printf("No devices were found\n");
        status = EXIT_NO_DEVICE;
    } else if (query != NULL) {
        status = print_query(query, format, sel, count);
    } else if (count == 0) {
        printf("No devices were found\n");
        status = EXIT_NO_DEVICE;
    } else if (list) {
        print_list(sel, count);
    } else {
        print_table(sel, count);
    }
    free(all);
    free(sel);
    nvml.shutdown();
    return status;
}
