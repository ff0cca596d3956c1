#!/usr/bin/env python3
"""Runs gctk's benchmarks and writes raw samples as CSV (bench/README.md).

Needs root, runc and python3 only (no jq, no gnuplot): it runs on the GPU
machine as well. bench/report.py turns the CSVs into tables and plots.

  run.py --build BUILD --out DIR [--runs N] [--quick] [--host-root /]
         [--only start,floor,image,scale,conc,rss,docker,ps,nvconfig]
         [--bin DIR] [--runc PATH] [--sim-dir DIR]
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_LIBS = 200  # the shared libraries of the start part's image-libs
NEEDS_RUNC = ["start", "image", "scale", "conc", "rss", "docker", "ps", "nvconfig"]
NEEDS_SIM = ["scale", "ps"]  # and every part when there is no --host-root
ALL_PARTS = ["start", "floor", "image", "scale", "conc", "rss", "docker", "ps", "nvconfig"]
DONE_RE = re.compile(
    r" (\S+) done in ([\d.]+) ms: parse ([\d.]+), discovery ([\d.]+), require ([\d.]+), "
    r"cgroup ([\d.]+), mounts ([\d.]+) \((\d+) mounts, (\d+) links, libs in \S+\), "
    r"proc ([\d.]+), ldcache ([\d.]+)(?:, cache (\w+))?")
# the CDI spec's hook (gctk hook create-container)
CDI_RE = re.compile(
    r" (\S+) hook create-container done in ([\d.]+) ms: (?:state ([\d.]+), )?host ([\d.]+), "
    r"mounts ([\d.]+) \((\d+) mounts\), links ([\d.]+) \((\d+) links\), ldcache ([\d.]+), "
    r"proc ([\d.]+), cache (\S+)")
NOTHING_RE = re.compile(r" (\S+) not a GPU container: nothing to do \(([\d.]+) ms\)")
FLOOR_RE = re.compile(r"floor done in ([\d.]+) ms: namespace ([\d.]+), mounts ([\d.]+) "
                      r"\((\d+) mounts, (\d+) links\)")
# where the prepared-directory experiment puts the driver in a container
PREPARED = "/usr/local/nvidia"
PHASES = ["parse", "discovery", "require", "cgroup", "mounts", "proc", "ldcache"]
# NVIDIA's toolkit 1.18's config.toml as its package leaves it on a host
NVIDIA_DEFAULT_TOML = """disable-require = false
supported-driver-capabilities = "compat32,compute,display,graphics,ngx,utility,video"

[nvidia-container-cli]
environment = []
ldconfig = "@/sbin/ldconfig"
load-kmods = true

[nvidia-container-runtime]
log-level = "info"
mode = "auto"
runtimes = ["runc", "crun"]

[nvidia-container-runtime.modes.cdi]
annotation-prefixes = ["cdi.k8s.io/"]
default-kind = "nvidia.com/gpu"
spec-dirs = ["/etc/cdi", "/var/run/cdi"]

[nvidia-container-runtime.modes.csv]
mount-spec-path = "/etc/nvidia-container-runtime/host-files-for-container.d"

[nvidia-container-runtime.modes.legacy]
cuda-compat-mode = "ldconfig"

[nvidia-container-runtime-hook]
path = "nvidia-container-runtime-hook"
skip-mode-detection = false

[nvidia-ctk]
path = "nvidia-ctk"
"""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Samples:
    """samples.csv: group,case,param,metric,value (one line a sample)."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.f.write("group,case,param,metric,value\n")
        self.lock = threading.Lock()

    def add(self, group, case, param, metric, value):
        with self.lock:
            self.f.write("%s,%s,%s,%s,%.4f\n" % (group, case, param, metric, value))
            self.f.flush()


def spawn_timed(argv, env=None, out=None):
    """Runs argv; returns (wall ms, peak RSS KiB, exit status). posix_spawn +
    wait4: the time is that of the child. The RSS is not: the child shares
    Python's memory until its exec and ru_maxrss counts it; peak_rss() is
    the one to use for memory."""
    devnull = os.open("/dev/null", os.O_RDWR)
    outfd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if out else devnull
    acts = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, outfd, 1),
            (os.POSIX_SPAWN_DUP2, outfd, 2)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ, file_actions=acts)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    os.close(devnull)
    if out:
        os.close(outfd)
    return (t1 - t0) / 1e6, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def peak_rss(rss_tool, argv, tmp):
    """Peak RSS (KiB) of argv, through bench/rss (a small C program)."""
    out = os.path.join(tmp, "rss.out")
    _, _, rc = spawn_timed([rss_tool, out] + argv)
    if rc != 0:
        sys.exit("bench: `%s` failed" % " ".join(argv))
    with open(out) as f:
        return float(f.read())


def run(argv, **kw):
    return subprocess.run(argv, check=True, **kw)


def which(name):
    p = shutil.which(name)
    if p is None:
        sys.exit("bench: `%s` is not on PATH" % name)
    return p


class Bench:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="gctk-bench.", dir=a.tmp)
        build = os.path.abspath(a.build)
        bindir = os.path.abspath(a.bin) if a.bin else None

        def prog(name, sub):
            return os.path.join(bindir, name) if bindir else os.path.join(build, sub, name)
        self.gctk = prog("gctk", "cmd")
        self.hook = prog("gctk-hook", "cmd")
        self.runtime = prog("gctk-runtime", "cmd")
        for p in (self.gctk, self.hook, self.runtime):
            if not os.access(p, os.X_OK):
                sys.exit("bench: `%s` is missing: build first (ninja -C %s)" % (p, a.build))
        self.floor = self.helper(prog("floor", "bench"), "floor")
        self.rss = self.helper(prog("rss", "bench"), "rss")
        self.runc = a.runc or shutil.which("runc")
        sim_dir = a.sim_dir or os.path.join(build, "sim")
        os.environ["GCTK_SIM_DIR"] = sim_dir
        self.has_sim = os.path.exists(os.path.join(sim_dir, "libnvidia-ml.so"))
        self.runc_root = os.path.join(self.tmp, "runc")
        self.out = a.out
        os.makedirs(self.out, exist_ok=True)
        self.samples = Samples(os.path.join(self.out, "samples.csv"))
        self.n = 0
        self.mounts = []  # overlays still mounted, for cleanup
        self.overlay_ok = None
        self.procs = []  # daemons started, for cleanup
        self.notes = []
        with open("/proc/loadavg") as f:
            self.load0 = " ".join(f.read().split()[:3])
        # gctk run without a part's settings (gctk list for the floor's plans)
        # keeps its discovery cache in the scratch dir too, not in /run/gctk
        os.environ["GCTK_CONFIG"] = self.config("/", "default")[0]

    def helper(self, path, name):
        """bench/NAME.c built by meson, or built here with cc (a machine that
        got gctk's binaries from elsewhere)."""
        if os.access(path, os.X_OK):
            return path
        out = os.path.join(self.tmp, name)
        cc = os.environ.get("CC", "cc")
        src = os.path.join(HERE, name + ".c")
        if subprocess.run([cc, "-O2", "-D_GNU_SOURCE", "-o", out, src]).returncode != 0:
            sys.exit("bench: `%s` is missing and `%s` does not build with %s" % (path, src, cc))
        return out

    # ---- host, config, rootfs, bundles ----

    def sim(self, gpus):
        d = os.path.join(self.tmp, "sim-%d" % gpus)
        if not os.path.isdir(d):
            run([self.gctk, "sim", "create", d, "--gpus", str(gpus)], stdout=subprocess.DEVNULL)
            # The discovery cache stores no host whose files changed in the
            # last 2 seconds (CACHE_RACY_S): without the wait, the first
            # seconds of starts would run full discoveries, which a real
            # host's driver, installed long before, never makes them do.
            time.sleep(2.5)
        return d

    def config(self, root, name, cache=True):
        """gctk's settings for a part: its driver root, its log, and the
        discovery cache in the scratch dir (cache=False: off)."""
        path = os.path.join(self.tmp, name + ".conf")
        logf = os.path.join(self.tmp, name + ".log")
        with open(path, "w") as f:
            json.dump({"root": root, "log": logf, "runtime": self.runc or "runc",
                       "discovery-cache": os.path.join(self.tmp, "cache") if cache else None}, f)
        return path, logf

    def make_base(self, path, extra_files=0):
        """A minimal image: /bin/true with its libraries, an ld.so.cache,
        the directories a distribution has; extra_files empty files make a
        big image (half of them in the library directory)."""
        for d in ["bin", "dev", "proc", "sys", "tmp", "etc", "root", "usr/bin",
                  "usr/lib/x86_64-linux-gnu", "lib64", "lib/x86_64-linux-gnu"]:
            os.makedirs(os.path.join(path, d), exist_ok=True)
        true = os.path.realpath(shutil.which("true"))
        shutil.copy(true, os.path.join(path, "bin/true"))
        ldd = subprocess.run(["ldd", true], capture_output=True, text=True).stdout
        for lib in re.findall(r"(/\S+) \(0x", ldd):
            dst = os.path.join(path, lib.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(os.path.realpath(lib), dst)
        with open(os.path.join(path, "etc/passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
        subprocess.run([ldconfig, "-r", path], stderr=subprocess.DEVNULL)
        for i in range(extra_files):
            d = "usr/lib/x86_64-linux-gnu" if i % 2 else "usr/share/big/d%03d" % (i % 200)
            os.makedirs(os.path.join(path, d), exist_ok=True)
            open(os.path.join(path, d, "f%05d.so" % i), "w").close()
        return path

    def fresh_rootfs(self, base):
        """A writable copy of base for one container, as Docker gives each
        container a fresh layer: an overlay (or a copy where overlayfs fails)."""
        self.n += 1
        d = os.path.join(self.tmp, "c%d" % self.n)
        merged = os.path.join(d, "rootfs")
        if self.overlay_ok is not False:
            for s in ("upper", "work", "rootfs"):
                os.makedirs(os.path.join(d, s))
            opts = "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (base, d, d)
            r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, merged],
                               stderr=subprocess.DEVNULL)
            self.overlay_ok = r.returncode == 0
            if self.overlay_ok:
                self.mounts.append(merged)
                return d, merged
            shutil.rmtree(d)
            self.notes.append("overlayfs unavailable: each container gets a copy of the image")
        os.makedirs(d)
        shutil.copytree(base, merged, symlinks=True)
        return d, merged

    def drop_rootfs(self, d):
        merged = os.path.join(d, "rootfs")
        if merged in self.mounts:
            subprocess.run(["umount", "-l", merged], stderr=subprocess.DEVNULL)
            self.mounts.remove(merged)
        shutil.rmtree(d, ignore_errors=True)

    def spec_template(self):
        if not hasattr(self, "_spec"):
            d = os.path.join(self.tmp, "spec")
            os.makedirs(d)
            run([self.runc, "spec"], cwd=d)
            with open(os.path.join(d, "config.json")) as f:
                self._spec = json.load(f)
        return json.loads(json.dumps(self._spec))

    def bundle(self, base, env=(), hooks=None):
        d, rootfs = self.fresh_rootfs(base)
        s = self.spec_template()
        s["root"] = {"path": rootfs, "readonly": False}
        s["process"]["terminal"] = False
        s["process"]["args"] = ["/bin/true"]
        s["process"]["env"] += list(env)
        if hooks:
            s["hooks"] = {"prestart": hooks}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(s, f)
        return d, rootfs

    def hook_entry(self, conf, rss_out=None):
        if rss_out:
            return {"path": self.rss, "args": ["rss", rss_out, self.hook, "prestart"],
                    "env": ["GCTK_CONFIG=" + conf]}
        return {"path": self.hook, "args": ["gctk-hook", "prestart"], "env": ["GCTK_CONFIG=" + conf]}

    def run_container(self, bundle, runtime=None, env=None, prefix=()):
        cid = "gb%d-%d" % (os.getpid(), self.n)
        argv = list(prefix) + [runtime or self.runc, "--root", self.runc_root, "run", "-b",
                               bundle, cid]
        out = os.path.join(self.tmp, "runc.out")
        ms, _, rc = spawn_timed(argv, env=env, out=out)
        if rc != 0:
            with open(out) as f:
                sys.exit("bench: container failed (%s):\n%s" % (" ".join(argv), f.read()[-2000:]))
        return ms, cid

    def hook_samples(self, part, case, phase_case, logf, start):
        """The own time of each hook run logged after offset start, as
        (part, case) samples, and its steps as phase samples of phase_case."""
        for _, total, ph in self.hook_times(logf, start):
            self.samples.add(part, case, "", "hook_ms", total)
            for k, v in (ph or {}).items():
                self.samples.add("phase", phase_case, k, "n" if k.startswith("n_") else "ms", v)

    def hook_times(self, logf, start):
        """The hook's log lines after offset start: [(id, total, {phase: ms})]."""
        res = []
        if not os.path.exists(logf):
            return res
        with open(logf) as f:
            f.seek(start)
            for line in f:
                m = CDI_RE.search(line)
                if m:
                    ph = dict(zip(["host", "mounts"], map(float, m.group(4, 5))))
                    ph.update(zip(["links", "ldcache", "proc"], map(float, m.group(7, 9, 10))))
                    if m.group(3) is not None:  # older builds log no state
                        ph["state"] = float(m.group(3))
                    ph["n_mounts"], ph["n_links"] = int(m.group(6)), int(m.group(8))
                    if m.group(11) != "-":
                        ph["n_cache_used"] = int(m.group(11) == "used")
                    res.append((m.group(1), float(m.group(2)), ph))
                    continue
                m = DONE_RE.search(line)
                if m:
                    ph = dict(zip(["parse", "discovery", "require", "cgroup", "mounts"],
                                  map(float, m.group(3, 4, 5, 6, 7))))
                    ph["proc"] = float(m.group(10))
                    ph["ldcache"] = float(m.group(11))
                    ph["n_mounts"] = int(m.group(8))
                    ph["n_links"] = int(m.group(9))
                    if m.group(12):  # discovery cache: 1 when the entry was used
                        ph["n_cache_used"] = int(m.group(12) == "used")
                    res.append((m.group(1), float(m.group(2)), ph))
                    continue
                m = NOTHING_RE.search(line)
                if m:
                    res.append((m.group(1), float(m.group(2)), None))
                elif " error: " in line:
                    sys.exit("bench: the hook failed: " + line)
        return res

    def logsize(self, logf):
        return os.path.getsize(logf) if os.path.exists(logf) else 0

    def listing(self, root, devices):
        j = subprocess.run([self.gctk, "--root", root, "list", "--json", "--device", devices],
                           capture_output=True, text=True, check=True).stdout
        return json.loads(j)

    def floor_plan(self, root, devices, name, prepared=None):
        """The plan file of the floor program: the very nodes and files
        `gctk list` names, at the paths the hook gives them in a container.
        prepared (prepared_driver()'s names): no nodes, and each file a link
        into the prepared directory where the container has it instead of a
        bind mount."""
        p = self.listing(root, devices)
        lines = []
        for d in p["devices"] if prepared is None else ():
            lines.append("b\t%s\t%s" % (d["host_path"], d["path"]))
        for f in p["files"]:
            base = os.path.basename(f["path"])
            if f["kind"] in ("lib", "lib32"):
                libdir = "/usr/lib/x86_64-linux-gnu" if f["kind"] == "lib" else "/usr/lib/i386-linux-gnu"
                dst = libdir + "/" + base
            elif f["kind"] == "bin":
                dst = "/usr/bin/" + base
            else:
                dst = f["path"]
            if prepared is None:
                lines.append("b\t%s\t%s" % (f["host_path"], dst))
            else:
                lines.append("l\t%s/%s\t%s" % (PREPARED, prepared[f["host_path"]], dst))
            so = f.get("soname")
            if f["kind"] in ("lib", "lib32") and so and so != base:
                lines.append("l\t%s\t%s/%s" % (base, libdir, so))
            for dev in ("libcuda.so", "libnvidia-ml.so"):
                if f["kind"] in ("lib", "lib32") and so and base.startswith(dev + "."):
                    lines.append("l\t%s\t%s/%s" % (so, libdir, dev))
        path = os.path.join(self.tmp, name + ".plan")
        with open(path, "w") as fp:
            fp.write("\n".join(lines) + "\n")
        return path

    def prepared_driver(self, root):
        """An experiment, not what gctk does: the driver's files of `gctk
        list --device all`, each bind mounted read-only once on the host into
        one private directory laid out as GKE's /usr/local/nvidia (lib64,
        lib, bin, and etc for the rest), with the soname links of the
        libraries, for a container to get them all with a single recursive
        bind mount at PREPARED. Returns (directory, {host path: its path in
        the directory}); cleanup() unmounts it with the rest of the scratch
        dir."""
        if hasattr(self, "_prepared"):
            return self._prepared
        d = os.path.join(self.tmp, "driver")
        os.makedirs(d)
        run(["mount", "--bind", d, d])
        self.mounts.append(d)
        run(["mount", "--make-private", d])
        names = {}
        sub = {"lib": "lib64", "lib32": "lib", "bin": "bin"}
        for f in self.listing(root, "all")["files"]:
            rel = os.path.join(sub.get(f["kind"], "etc"), os.path.basename(f["path"]))
            if rel in names.values():
                rel = "%s-%d" % (rel, len(names))
            names[f["host_path"]] = rel
            dst = os.path.join(d, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.isdir(f["host_path"]):
                os.mkdir(dst)
            else:
                open(dst, "w").close()
            run(["mount", "--bind", f["host_path"], dst])
            run(["mount", "-o", "remount,bind,ro,nosuid,nodev", dst])
            so, base = f.get("soname"), os.path.basename(rel)
            if f["kind"] in sub and so and so != base:
                os.symlink(base, os.path.join(d, os.path.dirname(rel), so))
        self._prepared = (d, names)
        return self._prepared

    def prepared_config(self, root, devices, env=False):
        """config.json of the prepared-directory experiment: no hook; the
        nodes of `gctk list --device DEVICES` in linux.devices with their
        cgroup rules, the prepared directory as one read-only rbind mount,
        the /proc entries of the GPUs not asked for in maskedPaths. Links
        into it are written into the rootfs before the start, or with env
        none: LD_LIBRARY_PATH and PATH name its directories, as the images
        of nvidia/cuda set them."""
        d, _ = self.prepared_driver(root)
        p = self.listing(root, devices)
        s = self.spec_template()
        s["root"] = {"path": "", "readonly": False}
        s["process"]["terminal"] = False
        s["process"]["args"] = ["/bin/true"]
        if env:
            s["process"]["env"] = [e for e in s["process"]["env"] if not e.startswith("PATH=")]
            s["process"]["env"] += ["PATH=%s/bin:/usr/sbin:/usr/bin:/sbin:/bin" % PREPARED,
                                    "LD_LIBRARY_PATH=%s/lib64:%s/lib" % (PREPARED, PREPARED)]
        self.device_edits(s, root, p)
        s["mounts"].append({"destination": PREPARED, "type": "bind", "source": d,
                            "options": ["rbind", "ro", "nosuid", "nodev"]})
        return s

    def device_edits(self, s, root, p):
        """Into config.json s, the nodes of listing p for runc to make, in
        linux.devices with their cgroup rules, and the /proc entries of the
        GPUs not asked for in maskedPaths."""
        lx = s["linux"]
        lx.setdefault("devices", [])
        for n in p["devices"]:
            lx["devices"].append({"path": n["path"], "type": "c", "major": n["major"],
                                  "minor": n["minor"], "fileMode": 0o666, "uid": 0, "gid": 0})
            lx["resources"]["devices"].append({"allow": True, "type": "c", "major": n["major"],
                                               "minor": n["minor"], "access": "rwm"})
        asked = {g["bus_id"] for g in p["gpus"]}
        for g in self.listing(root, "all")["gpus"]:
            if g["bus_id"] not in asked:
                lx.setdefault("maskedPaths", []).append(
                    "/proc/driver/nvidia/gpus/" + g["bus_id"][-12:].lower())

    def pre_config(self, root, devices):
        """config.json of the experiment of mounts made before the runtime
        (`floor --exec`): no hook; the nodes and the /proc mask as in
        prepared_config()."""
        s = self.spec_template()
        s["root"] = {"path": "", "readonly": False}
        s["process"]["terminal"] = False
        s["process"]["args"] = ["/bin/true"]
        self.device_edits(s, root, self.listing(root, devices))
        return s

    # ---- the parts ----

    def host(self):
        """The host of the start, floor and memory parts: the simulated
        8-GPU host, or --host-root (a real driver)."""
        if self.a.host_root:
            return self.a.host_root
        return self.sim(8)

    def part_start(self):
        root = self.host()
        conf, logf = self.config(root, "start")
        # the same log: the runs are one at a time, and hook_times() reads from an offset
        nocache = self.config(root, "start-nocache", cache=False)[0]
        with open(nocache) as f:
            nc = json.load(f)
        nc["log"] = logf
        with open(nocache, "w") as f:
            json.dump(nc, f)
        base, libs_base = self.base(), self.base_libs()
        # CDI names through gctk-runtime: the spec `gctk cdi generate` writes
        # (one hook process) and the same spec with the hooks as gctk wrote
        # them before (three top-level ones, one per GPU with DRM nodes)
        directs = {}  # case: the config.json it runs, its rootfs set per run
        cdi = self.cdi_specs(root, conf) if self.has_cdi() else None
        if cdi is None:
            self.notes.append("start: no CDI cases (the build has no `cdi` command)")
        floor_log = os.path.join(self.tmp, "floor-hook.log")
        plans = {"1gpu": self.floor_plan(root, "0", "plan-1gpu"),
                 "all": self.floor_plan(root, "all", "plan-all")}
        cases = [
            ("plain", [], None, None),
            ("hook-nogpu", [], [self.hook_entry(conf)], None),
            ("hook-1gpu", ["NVIDIA_VISIBLE_DEVICES=0"], [self.hook_entry(conf)], None),
            ("hook-all", ["NVIDIA_VISIBLE_DEVICES=all"], [self.hook_entry(conf)], None),
            # what every image of nvidia/cuda sets: the driver's CUDA version is checked
            ("hook-1gpu-cuda", ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=12.0"],
             [self.hook_entry(conf)], None),
            # the image with a distribution's share of libraries (base_libs)
            ("hook-1gpu-libs", ["NVIDIA_VISIBLE_DEVICES=0"], [self.hook_entry(conf)], None),
            ("hook-1gpu-nocache", ["NVIDIA_VISIBLE_DEVICES=0"], [self.hook_entry(nocache)], None),
            ("hook-all-nocache", ["NVIDIA_VISIBLE_DEVICES=all"], [self.hook_entry(nocache)], None),
            ("runtime-all", ["NVIDIA_VISIBLE_DEVICES=all"], None, "runtime"),
            # the shim alone: a container that asks for no GPU, config.json
            # read and left as it is, then runc
            ("runtime-nogpu", [], None, "runtime"),
        ]
        if cdi:
            cases += [("cdi-1gpu", ["NVIDIA_VISIBLE_DEVICES=%s=0" % cdi[0]], None, "runtime"),
                      ("cdi-1gpu-libs", ["NVIDIA_VISIBLE_DEVICES=%s=0" % cdi[0]], None, "runtime"),
                      ("cdi-all", ["NVIDIA_VISIBLE_DEVICES=%s=all" % cdi[0]], None, "runtime"),
                      ("cdi-1gpu-split", ["NVIDIA_VISIBLE_DEVICES=%s=0" % cdi[1]], None, "runtime"),
                      ("cdi-all-split", ["NVIDIA_VISIBLE_DEVICES=%s=all" % cdi[1]], None, "runtime"),
                      # cdi-1gpu's config.json as gctk-runtime writes it, run by
                      # runc itself: cdi-1gpu less this is the shim's part
                      ("cdi-1gpu-direct", [], None, None),
                      # the same with the spec's mounts made by runc, as an
                      # engine that reads CDI itself (Docker 25+, containerd
                      # 1.7, Podman) writes them, the hook making the rest
                      ("cdi-1gpu-runc", [], None, None),
                      # ... and without the hook: runc makes the spec's nodes
                      # and mounts, nothing its links, ld.so.cache, /proc mask:
                      # the floor of a start with no hook process
                      ("cdi-1gpu-nohook", [], None, None),
                      # cdi-1gpu-runc's config.json (the engine applied the
                      # spec) through gctk-runtime, which hands the spec's
                      # mounts back to the hook
                      ("cdi-1gpu-engine", [], None, "runtime")]
            direct = self.runtime_config(base, ["NVIDIA_VISIBLE_DEVICES=%s=0" % cdi[0]], conf)
            directs.update({"cdi-1gpu-direct": direct,
                            "cdi-1gpu-runc": self.mounts_to_runc(direct, True),
                            "cdi-1gpu-nohook": self.mounts_to_runc(direct, False)})
            directs["cdi-1gpu-engine"] = directs["cdi-1gpu-runc"]
        cases += [
            ("floor-1gpu", [], "floor-1gpu", None),
            ("floor-all", [], "floor-all", None),
        ]
        # an experiment: no hook, the driver's files in one rbind mount of a
        # directory prepared once on the host, links to them written into
        # the rootfs before the start (their time is the `links` phase), the
        # nodes and the /proc mask in config.json; with env, nothing written:
        # the libraries found through LD_LIBRARY_PATH, as GKE gives the
        # driver to nvidia/cuda images. case: (devices, env)
        prep_cases = {"prep-1gpu": ("0", False), "prep-all": ("all", False),
                      "prep-env-1gpu": ("0", True)}
        # an experiment: the floor's mounts and links made before the runtime,
        # by a process that then execs runc, in a mount namespace of its own
        # that runc's container copies (`floor --exec`); no hook, the nodes
        # and the /proc mask in config.json. case: devices
        pre_cases = {"pre-1gpu": "0", "pre-all": "all"}
        cases += [(c, [], None, None) for c in list(prep_cases) + list(pre_cases)]
        prepared = {}
        if not self.a.cases or set(prep_cases) & set(self.a.cases.split(",")):
            names = self.prepared_driver(root)[1]
            for c, (dev, with_env) in prep_cases.items():
                if not with_env:
                    prepared[c] = self.floor_plan(root, dev, "plan-" + c, names)
                directs[c] = self.prepared_config(root, dev, env=with_env)
        pre = {c: plans["1gpu" if dev == "0" else "all"] for c, dev in pre_cases.items()}
        for c, dev in pre_cases.items():
            directs[c] = self.pre_config(root, dev)
        if self.a.cases:
            want = set(self.a.cases.split(",")) | {"plain"}
            unknown = want - {c[0] for c in cases}
            if unknown:
                sys.exit("bench: --cases: no start case %s" % ", ".join(sorted(unknown)))
            cases = [c for c in cases if c[0] in want]
        env = dict(os.environ, GCTK_CONFIG=conf)
        env_split = dict(os.environ, GCTK_CONFIG=conf + ".split")
        env_listed = dict(os.environ, GCTK_CONFIG=conf + ".runtime-mounts")
        log("start: %s, %d runs each, interleaved" % (", ".join(c[0] for c in cases), self.a.runs))
        # round-robin over the cases: a change of load on a shared machine
        # then hits every case alike instead of one of them
        for i in range(self.a.runs + 2):  # two warm-up rounds
            for case, cenv, hooks, via in cases:
                if isinstance(hooks, str):
                    h = [{"path": self.floor, "args": ["floor", "--hook", plans[hooks.split("-")[1]],
                                                        "ROOTFS", floor_log]}]
                else:
                    h = hooks
                d, rootfs = self.bundle(libs_base if case.endswith("-libs") else base, cenv, h)
                if case in directs:
                    s = json.loads(json.dumps(directs[case]))
                    s["root"]["path"] = rootfs
                    with open(os.path.join(d, "config.json"), "w") as f:
                        json.dump(s, f)
                if isinstance(hooks, str):
                    # the floor's args name the rootfs, known only now
                    cfgp = os.path.join(d, "config.json")
                    with open(cfgp) as f:
                        s = json.load(f)
                    s["hooks"]["prestart"][0]["args"][3] = rootfs
                    with open(cfgp, "w") as f:
                        json.dump(s, f)
                off, foff = self.logsize(logf), self.logsize(floor_log)
                if case in prepared:
                    if subprocess.run([self.floor, prepared[case], rootfs, floor_log]).returncode:
                        sys.exit("bench: floor failed to write the links of " + case)
                prefix = [self.floor, "--exec", pre[case], rootfs, floor_log] if case in pre else []
                runenv = env_split if case.endswith("-split") else \
                    env_listed if case == "cdi-1gpu-engine" else env
                ms, cid = self.run_container(d, self.runtime if via else None, runenv, prefix)
                self.drop_rootfs(d)
                if i < 2:
                    continue
                self.samples.add("start", case, root_label(root), "wall_ms", ms)
                self.hook_samples("hook", case, case, logf, off)
                if case in prepared or case in pre:
                    with open(floor_log) as f:
                        f.seek(foff)
                        m = FLOOR_RE.search(f.read())
                    if case in pre:
                        self.samples.add("phase", case, "mounts", "ms", float(m.group(3)))
                        self.samples.add("phase", case, "n_mounts", "n", int(m.group(4)))
                    else:
                        self.samples.add("phase", case, "links", "ms", float(m.group(3)))
                    self.samples.add("phase", case, "n_links", "n", int(m.group(5)))
                if isinstance(hooks, str):
                    with open(floor_log) as f:
                        f.seek(foff)
                        for line in f:
                            m = FLOOR_RE.search(line)
                            if m:
                                self.samples.add("hook", case, "", "hook_ms", float(m.group(1)))
                                self.samples.add("phase", case, "namespace", "ms", float(m.group(2)))
                                self.samples.add("phase", case, "mounts", "ms", float(m.group(3)))
                                self.samples.add("phase", case, "n_mounts", "n", int(m.group(4)))
                                self.samples.add("phase", case, "n_links", "n", int(m.group(5)))

    @staticmethod
    def mounts_to_runc(config, keep_hook):
        """config (gctk-runtime's, for a CDI name) with the mounts it handed
        its hook (`--mount HOST::DST::OPTIONS`) back in `mounts` for runc to
        make; keep_hook False: no createContainer hook at all."""
        c = json.loads(json.dumps(config))
        h = c["hooks"]["createContainer"][0]
        args, it = [], iter(h["args"])
        for a in it:
            if a != "--mount":
                args.append(a)
                continue
            host, dst, opts = next(it).split("::")
            c["mounts"].append({"destination": dst, "type": "bind", "source": host,
                                "options": opts.split(",")})
        if args == h["args"]:
            raise SystemExit("bench: the runtime handed its CDI hook no mounts")
        if keep_hook:
            h["args"] = args
        else:
            del c["hooks"]["createContainer"]
        return c

    def runtime_config(self, base, env, conf):
        """The config.json gctk-runtime writes for a container of env: run
        once with `true` as the OCI runtime it hands over to."""
        with open(conf) as f:
            c = json.load(f)
        c["runtime"] = shutil.which("true") or "/bin/true"
        capture = conf + ".capture"
        with open(capture, "w") as f:
            json.dump(c, f)
        d, _ = self.bundle(base, env, None)
        run([self.runtime, "run", "-b", d, "capture"], env=dict(os.environ, GCTK_CONFIG=capture))
        with open(os.path.join(d, "config.json")) as f:
            s = json.load(f)
        self.drop_rootfs(d)
        return s

    def cdi_specs(self, root, conf):
        """Two specs of root in a private CDI directory that conf names:
        gctk's, and the same edits as gctk wrote them before: the driver's
        files as the spec's mounts (--runtime-mounts), the hooks split
        (create-symlinks, update-ldcache, mask-proc; a create-symlinks per
        GPU device for its DRM nodes' by-path links). Their kinds."""
        d = os.path.join(self.tmp, "cdi")
        os.makedirs(d, mode=0o755, exist_ok=True)
        one = os.path.join(d, "gctk.json")
        gen = [self.gctk, "cdi", "generate", "--root", root, "--vendor", "gctk.bench",
               "--format", "json"]
        env = dict(os.environ, GCTK_CONFIG=conf)
        run(gen + ["--output", one], stdout=subprocess.DEVNULL, env=env)
        # the --runtime-mounts spec itself, for cdi-1gpu-engine: gctk-runtime
        # hands the mounts an engine wrote to the hook only where a spec of
        # its directories gives them
        listed_dir = os.path.join(self.tmp, "cdi-runtime-mounts")
        os.makedirs(listed_dir, mode=0o755, exist_ok=True)
        listed = os.path.join(listed_dir, "gctk.json")
        run(gen + ["--runtime-mounts", "--output", listed], stdout=subprocess.DEVNULL, env=env)
        with open(listed) as f:
            spec = json.load(f)
        hook = spec["containerEdits"]["hooks"][0]
        args = hook["args"][3:]
        opts = list(zip(args[0::2], args[1::2]))

        def split_hook(verb, names, pairs=None):
            a = ["gctk", "hook", verb]
            for k, v in (pairs if pairs is not None else opts):
                if k in names:
                    a += ["--link" if k == "--node-link" else k, v]
            return dict(hook, args=a)
        spec["kind"] = "split.gctk.bench/gpu"
        spec["containerEdits"]["hooks"] = [split_hook("create-symlinks", ["--link"]),
                                           split_hook("update-ldcache", ["--folder", "--host-driver-version"]),
                                           split_hook("mask-proc", ["--driver-root"])]
        node_links = [v for k, v in opts if k == "--node-link"]
        for dev in spec["devices"]:
            nodes = {n["path"] for n in dev["containerEdits"].get("deviceNodes", [])}
            mine = [("--node-link", v) for v in node_links
                    if os.path.normpath(os.path.join(os.path.dirname(v.split("::")[1]),
                                                     v.split("::")[0])) in nodes]
            if mine:
                dev["containerEdits"]["hooks"] = [split_hook("create-symlinks", ["--node-link"], mine)]
        # each in a directory of its own, named by a settings file of its
        # own: a host has one spec, and the runtime reads every spec of its
        # directories
        split_dir = os.path.join(self.tmp, "cdi-split")
        os.makedirs(split_dir, mode=0o755, exist_ok=True)
        with open(os.path.join(split_dir, "split.json"), "w") as f:
            json.dump(spec, f)
        with open(conf) as f:
            c = json.load(f)
        for path, dirs in ((conf, [d]), (conf + ".split", [split_dir]),
                           (conf + ".runtime-mounts", [listed_dir])):
            c["cdi-spec-dirs"] = dirs
            with open(path, "w") as f:
                json.dump(c, f)
        return "gctk.bench/gpu", "split.gctk.bench/gpu"

    def part_nvconfig(self):
        """What NVIDIA's config.toml costs the hook. gctk-hook reads its
        settings before anything else, and loads the TOML module (the C++
        runtime with it) only when NVIDIA's file exists and its translation
        is not in the cache directory: the whole hook process for a
        container that asks for no GPU (settings, config.json, nothing
        else), runc run with the hook and 1 GPU, and the same through
        gctk-runtime (which reads the settings too), each without NVIDIA's
        default file, with it, and with it but its translation removed
        before each run, interleaved."""
        root = self.host()
        conf, logf = self.config(root, "nvconfig")
        base = self.base()
        toml = os.path.join(self.tmp, "nvidia-config.toml")
        with open(toml, "w") as f:
            f.write(NVIDIA_DEFAULT_TOML)
        # without: XDG_CONFIG_HOME names a directory without the file, so
        # that a real host's /etc/nvidia-container-runtime/config.toml (the
        # --host-root case) is not read either
        empty = os.path.join(self.tmp, "no-nvidia-config")
        os.makedirs(empty, exist_ok=True)
        envs = {"without": ["XDG_CONFIG_HOME=" + empty],
                "with": ["NVIDIA_CTK_CONFIG_FILE_PATH=" + toml],
                "with-first": ["NVIDIA_CTK_CONFIG_FILE_PATH=" + toml]}
        cache = os.path.join(self.tmp, "cache")

        def forget_translation():
            """with-first: the file's translation is not kept (the first
            container after the file changed): the TOML module each time"""
            for name in os.listdir(cache) if os.path.isdir(cache) else []:
                if name.startswith("nvconfig-"):
                    os.unlink(os.path.join(cache, name))
        nogpu, _ = self.bundle(base)
        state = os.path.join(self.tmp, "nvconfig-state.json")
        with open(state, "w") as f:
            json.dump({"ociVersion": "1.0.2", "id": "nvconfig", "status": "created", "pid": 1,
                       "bundle": nogpu}, f)
        log("nvconfig: the hook without and with NVIDIA's config.toml, %d runs each" % self.a.runs)
        for i in range(self.a.runs + 2):
            for case, extra in envs.items():
                env = dict(GCTK_CONFIG=conf, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
                env.update(e.split("=", 1) for e in extra)
                if case == "with-first":
                    forget_translation()
                fd = os.open(state, os.O_RDONLY)
                t0 = time.perf_counter_ns()
                pid = os.posix_spawn(self.hook, [self.hook, "prestart"], env,
                                     file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0)])
                _, status, _ = os.wait4(pid, 0)
                ms = (time.perf_counter_ns() - t0) / 1e6
                os.close(fd)
                if os.waitstatus_to_exitcode(status) != 0:
                    sys.exit("bench: gctk-hook failed (%s)" % case)
                hook = self.hook_entry(conf)
                hook["env"] += extra
                d, _ = self.bundle(base, ["NVIDIA_VISIBLE_DEVICES=0"], [hook])
                if case == "with-first":
                    forget_translation()
                off = self.logsize(logf)
                start_ms, _ = self.run_container(d, None, dict(os.environ, GCTK_CONFIG=conf))
                self.drop_rootfs(d)
                # through gctk-runtime, which reads the settings too and
                # hands their variables to the hook it adds
                d, _ = self.bundle(base, ["NVIDIA_VISIBLE_DEVICES=0"])
                if case == "with-first":
                    forget_translation()
                renv = dict(os.environ, GCTK_CONFIG=conf)
                renv.update(e.split("=", 1) for e in extra)
                runtime_ms, _ = self.run_container(d, self.runtime, renv)
                self.drop_rootfs(d)
                if i < 2:
                    continue
                self.samples.add("nvconfig", "hook-nogpu-" + case, "", "wall_ms", ms)
                self.samples.add("nvconfig", "start-1gpu-" + case, "", "wall_ms", start_ms)
                self.samples.add("nvconfig", "runtime-1gpu-" + case, "", "wall_ms", runtime_ms)
                for _, total, _ in self.hook_times(logf, off):
                    self.samples.add("nvconfig", "start-1gpu-" + case, "", "hook_ms", total)
        self.drop_rootfs(nogpu)

    def part_floor(self):
        """The floor on its own: a process that does the mounts in a fresh
        mount namespace, against gctk's whole hook."""
        root = self.host()
        base = self.base()
        flog = os.path.join(self.tmp, "floor.log")
        plans = {c: self.floor_plan(root, dev, "plan-" + c) for c, dev in (("1gpu", "0"), ("all", "all"))}
        log("floor: standalone, 1 GPU and all, %d runs each" % self.a.runs)
        for i in range(self.a.runs + 2):
            for case, plan in plans.items():
                d, rootfs = self.fresh_rootfs(base)
                off = self.logsize(flog)
                ms, _, rc = spawn_timed([self.floor, plan, rootfs, flog])
                self.drop_rootfs(d)
                if rc != 0:
                    sys.exit("bench: floor failed")
                if i < 2:
                    continue
                self.samples.add("floor", "standalone-" + case, "", "wall_ms", ms)
                with open(flog) as f:
                    f.seek(off)
                    m = FLOOR_RE.search(f.read())
                    c = "standalone-" + case
                    self.samples.add("floor", c, "", "floor_ms", float(m.group(1)))
                    self.samples.add("floor", c, "namespace", "ms", float(m.group(2)))
                    self.samples.add("floor", c, "mounts", "ms", float(m.group(3)))
                    self.samples.add("floor", c, "n_mounts", "n", int(m.group(4)))
                    self.samples.add("floor", c, "n_links", "n", int(m.group(5)))

    def part_image(self):
        """The hook's time must not grow with the image: the same container
        on the small image and on one with 20000 more files."""
        root = self.host()
        conf, logf = self.config(root, "image")
        bases = (("small", self.base()), ("big", self.base(20000)))
        log("image: small and big, %d runs each" % self.a.runs)
        for i in range(self.a.runs + 2):
            for case, base in bases:
                d, _ = self.bundle(base, ["NVIDIA_VISIBLE_DEVICES=0"], [self.hook_entry(conf)])
                off = self.logsize(logf)
                ms, _ = self.run_container(d)
                self.drop_rootfs(d)
                if i < 2:
                    continue
                self.samples.add("image", case, "", "wall_ms", ms)
                for _, total, ph in self.hook_times(logf, off):
                    self.samples.add("image", case, "", "hook_ms", total)
                    self.samples.add("image", case, "", "ldcache_ms", ph["ldcache"])

    def has_cdi(self):
        r = subprocess.run([self.gctk, "cdi", "--help"], capture_output=True)
        return r.returncode == 0

    def part_scale(self):
        base = self.base()
        cdi = self.has_cdi()
        if not cdi:
            self.notes.append("`gctk cdi` is not in this build: `cdi generate` was skipped")
        runs = self.a.scale_runs
        for gpus in (1, 8, 64, 256):
            root = self.sim(gpus)
            conf, logf = self.config(root, "scale-%d" % gpus)
            nocache, logf_nc = self.config(root, "scale-nocache-%d" % gpus, cache=False)
            log("scale: %d GPUs (%d runs)" % (gpus, runs))
            # spawn: what starting any program costs the bench, in every time below
            cmds = [("spawn", ["/bin/true"]),
                    ("info", [self.gctk, "--root", root, "info"]),
                    ("info-no-nvml", [self.gctk, "--root", root, "info", "--no-nvml"]),
                    ("list", [self.gctk, "--root", root, "list"]),
                    ("list-nocache", ["/usr/bin/env", "GCTK_CONFIG=" + nocache, self.gctk, "--root", root,
                                      "list"])]
            if cdi:
                cmds.append(("cdi-generate", [self.gctk, "--root", root, "cdi", "generate"]))
            for name, argv in cmds:
                for i in range(runs + 2):
                    ms, _, rc = spawn_timed(argv, env=dict(os.environ, GCTK_CONFIG=conf))
                    if rc != 0:
                        sys.exit("bench: %s failed" % " ".join(argv))
                    if i >= 2:
                        self.samples.add("scale", name, gpus, "wall_ms", ms)
                for i in range(5):
                    self.samples.add("rss", name, gpus, "rss_kib", peak_rss(self.rss, argv, self.tmp))
            # with the discovery cache and without, interleaved
            for i in range(runs + 2):
                for sfx, c, lf in (("", conf, logf), ("-nocache", nocache, logf_nc)):
                    d, _ = self.bundle(base, ["NVIDIA_VISIBLE_DEVICES=all"], [self.hook_entry(c)])
                    off = self.logsize(lf)
                    ms, _ = self.run_container(d)
                    self.drop_rootfs(d)
                    if i < 2:
                        continue
                    self.samples.add("scale", "runc-hook" + sfx, gpus, "wall_ms", ms)
                    for _, total, ph in self.hook_times(lf, off):
                        self.samples.add("scale", "hook" + sfx, gpus, "hook_ms", total)
                        self.samples.add("scale", "hook-mounts" + sfx, gpus, "ms", ph["mounts"])
                        self.samples.add("scale", "hook-discovery" + sfx, gpus, "ms",
                                         ph["discovery"])
                        self.samples.add("scale", "hook-n-mounts" + sfx, gpus, "n",
                                         ph["n_mounts"])

    def part_conc(self):
        root = self.host()
        conf, logf = self.config(root, "conc")
        base = self.base()
        # spread the containers over the GPUs this host has (8 simulated, or
        # the real machine's)
        info = subprocess.run([self.gctk, "--root", root, "info", "--json", "--no-nvml"],
                              capture_output=True, text=True, check=True).stdout
        ngpus = max(1, len(json.loads(info)["gpus"]))
        for k in (1, 16, 64):
            rounds = max(2, self.a.runs // k) if k > 1 else self.a.runs
            log("concurrency: %d at once, %d rounds" % (k, rounds))
            for r in range(rounds + 1):
                # K plain containers at once, then K GPU containers: what the
                # machine does with K starts at all, beside what the hook adds
                plain, plain_batch = self.batch(base, [], None, k, "p%d" % r)
                off = self.logsize(logf)
                walls, batch = self.batch(base, ["NVIDIA_VISIBLE_DEVICES=%d" % (i % ngpus) for i in range(k)],
                                          self.hook_entry(conf), k, "c%d" % r)
                if r == 0:
                    continue  # warm-up
                self.samples.add("conc", "batch", k, "wall_ms", batch)
                for w in walls:
                    self.samples.add("conc", "runc-hook", k, "wall_ms", w[0])
                for w in plain:
                    self.samples.add("conc", "runc-plain", k, "wall_ms", w[0])
                for _, total, ph in self.hook_times(logf, off):
                    self.samples.add("conc", "hook", k, "hook_ms", total)
                    # which of the hook's steps the concurrent starts slow down
                    for name, v in (ph or {}).items():
                        if not name.startswith("n_"):
                            self.samples.add("conc-phase", name, k, "ms", v)

    def batch(self, base, envs, hook, k, tag):
        """Starts k containers at once (envs[i]: container i's variable, none
        when envs is empty; hook: their prestart hook or None); returns their
        (wall, rss, rc) and the batch's wall ms."""
        bundles = [self.bundle(base, [envs[i]] if envs else [], [hook] if hook else [])[0]
                   for i in range(k)]
        walls = [None] * k

        def one(i):
            cid = "gb%d-%s-%d" % (os.getpid(), tag, i)
            argv = [self.runc, "--root", self.runc_root, "run", "-b", bundles[i], cid]
            walls[i] = spawn_timed(argv)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(k)]
        t0 = time.perf_counter_ns()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = (time.perf_counter_ns() - t0) / 1e6
        for d in bundles:
            self.drop_rootfs(d)
        if any(w[2] != 0 for w in walls):
            sys.exit("bench: a concurrent container failed")
        return walls, wall

    def part_rss(self):
        """Peak RSS of gctk-hook in a real start (through a wrapper that
        reads the hook's rusage) and of gctk info / list."""
        base = self.base()
        hosts = [(self.a.host_root, root_label(self.a.host_root))] if self.a.host_root else []
        if self.has_sim:
            hosts += [(self.sim(g), g) for g in (1, 8, 64)]
        for i in range(5):
            self.samples.add("rss", "baseline", "", "rss_kib",
                             peak_rss(self.rss, [shutil.which("true")], self.tmp))
        for root, label in hosts:
            conf, _ = self.config(root, "rss")
            out = os.path.join(self.tmp, "rss.out")
            log("rss: gctk-hook on %s" % label)
            for case, dev in (("gctk-hook-1gpu", "0"), ("gctk-hook-all", "all")):
                for i in range(5):
                    if os.path.exists(out):
                        os.unlink(out)
                    d, _ = self.bundle(base, ["NVIDIA_VISIBLE_DEVICES=" + dev],
                                       [self.hook_entry(conf, rss_out=out)])
                    self.run_container(d)
                    self.drop_rootfs(d)
                    with open(out) as f:
                        self.samples.add("rss", case, label, "rss_kib", float(f.read()))
            if self.a.host_root and root == self.a.host_root:
                for name, argv in (("info", [self.gctk, "--root", root, "info"]),
                                   ("info-no-nvml", [self.gctk, "--root", root, "info",
                                                     "--no-nvml"]),
                                   ("list", [self.gctk, "--root", root, "list"]),
                                   ("spawn", ["/bin/true"])):
                    for i in range(self.a.scale_runs):
                        ms, _, _ = spawn_timed(argv)
                        self.samples.add("scale", name, label, "wall_ms", ms)
                    for i in range(5):
                        self.samples.add("rss", name, label, "rss_kib",
                                         peak_rss(self.rss, argv, self.tmp))

    def start_dockerd(self, conf, name, part, daemon_json=None):
        """A private dockerd (own socket, data root, exec root and containerd
        namespace under the scratch dir, stopped at exit) whose --gpus runs
        gctk-hook with conf; daemon_json: its settings file's content.
        (docker client, socket), or None with a note."""
        dockerd, docker = shutil.which("dockerd"), shutil.which("docker")
        if not dockerd or not docker:
            self.notes.append("%s: dockerd or docker is not installed: part skipped" % part)
            return None
        d = os.path.join(self.tmp, name)
        bindir = os.path.join(d, "bin")
        os.makedirs(bindir)
        # Docker's --gpus runs `nvidia-container-runtime-hook prestart` found
        # on dockerd's PATH, with an empty environment: installed, a link to
        # gctk-hook that reads the settings at its default path. dockerd runs
        # in a mount namespace of its own where an overlay on that path's
        # directory holds conf, so that the host's files stay as they are
        # and the hook is timed as a user has it (no wrapper process); where
        # that cannot be set up, a two-line wrapper hands gctk-hook conf
        # (one exec of /bin/sh more)
        hook = os.path.join(bindir, "nvidia-container-runtime-hook")
        prefix = self.config_overlay(conf, d)
        if prefix:
            os.symlink(self.hook, hook)
        else:
            with open(hook, "w") as f:
                f.write("#!/bin/sh\nGCTK_CONFIG=%s exec %s \"$@\"\n" % (conf, self.hook))
            os.chmod(hook, 0o755)
            self.notes.append("%s: gctk-hook run through a /bin/sh wrapper that names its "
                              "settings (one process more than installed)" % part)
        sock = "unix://%s/docker.sock" % d
        settings = []
        if daemon_json is not None:
            with open(os.path.join(d, "daemon.json"), "w") as f:
                json.dump(daemon_json, f)
            settings = ["--config-file", os.path.join(d, "daemon.json")]
        env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))
        env.pop("GCTK_CONFIG", None)
        dlog = open(os.path.join(d, "dockerd.log"), "w")
        p = subprocess.Popen(prefix + [dockerd, "--host", sock, "--data-root", d + "/data",
                              "--exec-root", d + "/exec", "--pidfile", d + "/docker.pid",
                              "--iptables=false", "--ip-masq=false", "--bridge=none",
                              # no port is published: no docker-proxy needed (a
                              # docker.tar of dockerd and containerd has none)
                              "--userland-proxy=false"] + settings + [
                              "--containerd-namespace", "gctk" + name,
                              "--containerd-plugins-namespace", "gctk%s-plugins" % name],
                             env=env, stdout=dlog, stderr=dlog, start_new_session=True)
        self.procs.append(p)
        for _ in range(120):
            if subprocess.run([docker, "-H", sock, "info"], capture_output=True).returncode == 0:
                break
            if p.poll() is not None:
                break
            time.sleep(0.5)
        else:
            p = None
        if p is None or p.poll() is not None:
            dlog.close()
            with open(os.path.join(d, "dockerd.log")) as f:
                tail = " | ".join(line.strip() for line in f.readlines()[-3:])
            self.notes.append("%s: the private dockerd did not start: part skipped (its log "
                              "ends: %s)" % (part, tail))
            return None
        return docker, sock

    def config_overlay(self, conf, d):
        """The command prefix that runs a program in a mount namespace of
        its own where gctk's default settings file (named by `gctk-hook
        --help`) is conf: an overlay on the nearest directory of that path
        that exists. [] where that path or `unshare` cannot be had, or where
        that directory holds a mount (the overlay would hide it: the H200
        machines' driver is a mount in /usr/local)."""
        text = subprocess.run([self.hook, "--help"], capture_output=True, text=True).stdout
        m = re.search(r"else (/\S+)\.$", text, re.M)
        unshare = shutil.which("unshare")
        if not m or not unshare:
            return []
        path, lower = m.group(1), os.path.dirname(m.group(1))
        while not os.path.isdir(lower):
            lower = os.path.dirname(lower)
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        if any(p == lower or p.startswith(lower.rstrip("/") + "/") for p in points):
            return []
        upper, work = os.path.join(d, "etc-upper"), os.path.join(d, "etc-work")
        os.makedirs(upper)
        os.makedirs(work)
        script = ('mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$1" && '
                  'mkdir -p "${4%/*}" && cp "$5" "$4" && shift 5 && exec "$@"')
        return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                lower, upper, work, path, conf]

    def docker_cdi(self, root, conf):
        """Docker 25 and later apply CDI specs themselves (`--device`, with
        features.cdi): a directory with gctk's spec (kind gctk.bench/gpu,
        its hook mounting the driver's files) and the one of --runtime-mounts
        (rm.gctk.bench/gpu, the mounts runc's, as earlier gctk wrote them),
        made under conf so that their hook logs there. (daemon.json
        settings, kinds), or (None, None) with a note."""
        dockerd = shutil.which("dockerd")
        out = subprocess.run([dockerd, "--version"], capture_output=True, text=True).stdout \
            if dockerd else ""
        m = re.search(r"version (\d+)\.", out)
        if not m or int(m.group(1)) < 25:
            self.notes.append("docker: dockerd %s applies no CDI spec (25 and later do): no "
                              "CDI cases" % (m.group(1) if m else "?"))
            return None, None
        if not self.has_cdi():
            self.notes.append("docker: `gctk cdi` is not in this build: no CDI cases")
            return None, None
        d = os.path.join(self.tmp, "docker-cdi")
        os.makedirs(d, mode=0o755)
        env = dict(os.environ, GCTK_CONFIG=conf)
        for vendor, extra in (("gctk.bench", []), ("rm.gctk.bench", ["--runtime-mounts"])):
            run([self.gctk, "cdi", "generate", "--root", root, "--vendor", vendor,
                 "--format", "json", "--output", os.path.join(d, vendor + ".json")] + extra,
                stdout=subprocess.DEVNULL, env=env)
        return ({"features": {"cdi": True}, "cdi-spec-dirs": [d]},
                ("gctk.bench/gpu", "rm.gctk.bench/gpu"))

    def part_docker(self):
        root = self.host()
        conf, logf = self.config(root, "docker")
        daemon_json, kinds = self.docker_cdi(root, conf)
        started = self.start_dockerd(conf, "bench", "docker", daemon_json)
        if started is None:
            return
        docker, sock = started
        d = os.path.join(self.tmp, "bench")
        tar = subprocess.Popen(["tar", "-C", self.base(), "-c", "."], stdout=subprocess.PIPE)
        run([docker, "-H", sock, "import", "-", "gctk-bench:latest"], stdin=tar.stdout,
            stdout=subprocess.DEVNULL)
        tar.wait()
        runs = self.a.docker_runs
        cases = [("plain", []), ("gpus-all", ["--gpus", "all"])]
        # Docker applies the spec, runc is its runtime: gctk's spec has the
        # hook mount the driver's files, --runtime-mounts' has runc mount them
        if kinds:
            cases += [("cdi-1gpu", ["--device", kinds[0] + "=0"]),
                      ("cdi-1gpu-runtime-mounts", ["--device", kinds[1] + "=0"])]
        log("docker: %s, %d runs each, interleaved" % (", ".join(c[0] for c in cases), runs))
        # one run of each case in turn, as the start part: a change of load
        # (or of the machine's speed) then hits both alike
        for i in range(runs + 2):
            for case, extra in cases:
                off = self.logsize(logf)
                argv = [docker, "-H", sock, "run", "--rm", "--network", "none"] + extra + \
                    ["gctk-bench:latest", "/bin/true"]
                out = os.path.join(d, "run.out")
                ms, _, rc = spawn_timed(argv, out=out)
                if rc != 0:
                    with open(out) as f:
                        self.notes.append("docker: `%s` failed: %s" % (" ".join(argv[3:]),
                                                                        f.read()[-300:].strip()))
                    return
                if i < 2:
                    continue
                self.samples.add("docker", case, root_label(root), "wall_ms", ms)
                self.hook_samples("docker", case, "docker-" + case, logf, off)

    def part_ps(self):
        """`gctk ps` on the simulated 8-GPU host whose NVML reports 100
        processes: 10 containers of 10 processes each, (a) runc containers
        under Docker's cgroup names, no engine socket, (b) Docker containers
        named through the private dockerd's socket; and (c) no process."""
        root = self.sim(8)
        activity = os.path.join(root, "proc/driver/nvidia/gctk-sim-activity")
        image = os.path.join(self.tmp, "image-ps")
        if not os.path.isdir(image):
            self.make_base(image)
            self.add_binary(image, "sleep")
        cases = []
        containers = []  # runc ids, killed at the end
        tag = "gctk-bench-%d" % os.getpid()
        try:
            log("ps: 10 runc containers of 10 processes")
            pids = []
            for c in range(10):
                d, _ = self.bundle(image)
                cfg = os.path.join(d, "config.json")
                with open(cfg) as f:
                    spec = json.load(f)
                spec["process"]["args"] = ["/bin/sleep", "3600"]
                cid = "%s-%d" % (tag, c)
                spec["linux"]["cgroupsPath"] = "/%s/docker/%064x" % (tag, c + 1)
                with open(cfg, "w") as f:
                    json.dump(spec, f)
                with open(os.devnull, "r+") as null:
                    run([self.runc, "--root", self.runc_root, "run", "-d", "-b", d, cid],
                        stdin=null, stdout=null, stderr=null)
                containers.append(cid)
                for i in range(9):
                    run([self.runc, "--root", self.runc_root, "exec", "-d", cid,
                         "/bin/sleep", "3600"])
                state = json.loads(subprocess.run([self.runc, "--root", self.runc_root, "ps",
                                                   "--format", "json", cid],
                                                  capture_output=True, text=True).stdout or "[]")
                pids += state
            cases.append(("runc", pids, {}))
            started = self.start_dockerd(self.config(root, "ps")[0], "ps", "ps (docker)")
            if started is not None:
                docker, sock = started
                log("ps: 10 Docker containers of 10 processes")
                tar = subprocess.Popen(["tar", "-C", image, "-c", "."], stdout=subprocess.PIPE)
                run([docker, "-H", sock, "import", "-", "gctk-ps:latest"], stdin=tar.stdout,
                    stdout=subprocess.DEVNULL)
                tar.wait()
                dpids = []
                for c in range(10):
                    name = "ps-%d" % c
                    run([docker, "-H", sock, "run", "-d", "--network", "none", "--name", name,
                         "gctk-ps:latest", "/bin/sleep", "3600"], stdout=subprocess.DEVNULL)
                    for i in range(9):
                        run([docker, "-H", sock, "exec", "-d", name, "/bin/sleep", "3600"])
                    top = subprocess.run([docker, "-H", sock, "top", name, "-o", "pid"],
                                         capture_output=True, text=True, check=True).stdout
                    dpids += [int(x) for x in top.split()[1:]]
                cases.append(("docker", dpids, {"DOCKER_HOST": sock}))
            cases.append(("none", [], {}))
            for label, procs, extra in cases:
                if label != "none" and len(procs) != 100:
                    sys.exit("bench: ps: %d processes in the %s containers, not 100"
                             % (len(procs), label))
                with open(activity, "w") as f:
                    for i, pid in enumerate(procs):
                        f.write("process %d %d C %d\n" % (i % 8, pid, 1000 + i))
                    for g in range(8):
                        f.write("utilization %d %d %d\n" % (g, 10 * g, 5 * g))
                env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
                env.update(extra)
                for case, args in (("table", []), ("json", ["--json"])):
                    argv = [self.gctk, "--root", root, "ps"] + args
                    out = os.path.join(self.tmp, "ps.out")
                    log("ps: %s, %s (%d runs)" % (label, case, self.a.scale_runs))
                    for i in range(self.a.scale_runs + 2):
                        ms, _, rc = spawn_timed(argv, env=env, out=out)
                        if rc != 0:
                            with open(out) as f:
                                sys.exit("bench: `%s` failed: %s" % (" ".join(argv), f.read()))
                        if i >= 2:
                            self.samples.add("ps", case, label, "wall_ms", ms)
                    for i in range(3):
                        self.samples.add("ps", "rss-" + case, label, "rss_kib",
                                         peak_rss(self.rss, argv, self.tmp))
                # the output must name the processes' containers
                j = json.loads(subprocess.run(argv, env=env, capture_output=True, text=True,
                                              check=True).stdout)
                named = sum(1 for p in j["processes"] if p["container"] and p["container"]["id"])
                if named != len(procs):
                    sys.exit("bench: ps: %d of %d processes in a container" % (named, len(procs)))
        finally:
            for cid in containers:
                subprocess.run([self.runc, "--root", self.runc_root, "delete", "-f", cid],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for fs in glob.glob("/sys/fs/cgroup/*/" + tag) + glob.glob("/sys/fs/cgroup/" + tag):
                for dirpath, _, _ in sorted(os.walk(fs), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass
            if os.path.exists(activity):
                os.unlink(activity)

    def add_binary(self, image, name):
        """Copies a program of this machine and its libraries into image."""
        path = os.path.realpath(shutil.which(name))
        shutil.copy(path, os.path.join(image, "bin", name))
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for lib in re.findall(r"(/\S+) \(0x", ldd):
            dst = os.path.join(image, lib.lstrip("/"))
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy(os.path.realpath(lib), dst)

    def base(self, extra=0):
        path = os.path.join(self.tmp, "image-%d" % extra)
        if not os.path.isdir(path):
            self.make_base(path, extra)
        return path

    def base_libs(self, n=IMAGE_LIBS):
        """The minimal image with n shared libraries of this machine (the
        smallest, each with its SONAME link) in its library directory and
        its ld.so.cache made by ldconfig, as a distribution image has a few
        hundred: what a CDI hook's ld.so.cache step finds there. The count
        is in the notes."""
        path = os.path.join(self.tmp, "image-libs")
        if os.path.isdir(path):
            return path
        self.make_base(path)
        libdir = os.path.join(path, "usr/lib/x86_64-linux-gnu")
        host = "/usr/lib/x86_64-linux-gnu"
        links = {}  # the real file -> its SONAME link
        for name in os.listdir(host):
            p = os.path.join(host, name)
            if re.match(r"lib.*\.so\.\d+$", name) and os.path.islink(p):
                real = os.path.realpath(p)
                if os.path.dirname(real) == host and os.path.isfile(real):
                    links.setdefault(os.path.basename(real), name)
        small = sorted(links, key=lambda f: (os.path.getsize(os.path.join(host, f)), f))
        copied = 0
        for real in small:
            if copied == n:
                break
            if os.path.exists(os.path.join(libdir, real)) or os.path.exists(os.path.join(libdir, links[real])):
                continue
            shutil.copy(os.path.join(host, real), os.path.join(libdir, real))
            os.symlink(real, os.path.join(libdir, links[real]))
            copied += 1
        ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
        subprocess.run([ldconfig, "-r", path], stderr=subprocess.DEVNULL)
        self.notes.append("image-libs: %d libraries of %s in the image's library directory" % (copied, host))
        return path

    def machine(self):
        def sh(cmd):
            r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
            return r.stdout.strip().splitlines()[0] if r.stdout.strip() else "?"
        fs = sh("stat -f -c %T /sys/fs/cgroup")
        cg = "v2" if fs == "cgroup2fs" else ("v1 hybrid (v2 at /sys/fs/cgroup/unified)"
                                             if os.path.isdir("/sys/fs/cgroup/unified") else "v1")
        info = [
            ("date", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
            ("load average at start / end", "%s / %s" % (self.load0, sh("cut -d' ' -f1-3 /proc/loadavg"))),
            ("cpu", sh("lscpu | sed -n 's/^Model name: *//p'")),
            ("cpus", str(os.cpu_count())),
            ("memory", sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")),
            ("kernel", platform.release()),
            ("os", sh(". /etc/os-release && echo $PRETTY_NAME")),
            ("cgroup", cg),
            # on cgroup v2 the hook keeps its device programs in bpffs; without
            # one there every GPU container loads its own (docs/cgroups.md)
            ("bpffs at /sys/fs/bpf", "yes" if sh("stat -f -c %T /sys/fs/bpf") == "bpf_fs" else "no"),
            ("runc", sh("runc --version | head -n 1")),
            ("docker", sh("dockerd --version 2>/dev/null")),
            ("gctk", sh("%s --version" % self.gctk)),
            ("host", self.a.host_root or "simulated (gctk sim create)"),
            ("gpus", sh("nvidia-smi -L 2>/dev/null | head -n 1") if self.a.host_root else "simulated"),
            ("runs", "%d (start), %d (scaling), %d (docker)" % (self.a.runs, self.a.scale_runs,
                                                              self.a.docker_runs)),
            ("command", " ".join(sys.argv)),
        ]
        info += [("note", n) for n in dict.fromkeys(self.notes)]
        with open(os.path.join(self.out, "machine.csv"), "w") as f:
            f.write("key,value\n")
            for k, v in info:
                f.write("%s,\"%s\"\n" % (k, v.replace('"', "'")))

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        # whatever is still mounted under our scratch dir (overlays, dockerd's layers)
        with open("/proc/self/mountinfo") as f:
            mnts = [l.split()[4] for l in f if l.split()[4].startswith(self.tmp + "/")]
        for m in sorted(mnts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def root_label(root):
    m = re.search(r"sim-(\d+)$", root or "")
    return m.group(1) if m else (root or "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=50, help="runs per start case (default 50)")
    ap.add_argument("--scale-runs", type=int, default=30)
    ap.add_argument("--docker-runs", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="5 runs each: checks the scripts")
    ap.add_argument("--host-root", help="a real driver's root (/) instead of the simulated host")
    ap.add_argument("--only", default=",".join(ALL_PARTS))
    ap.add_argument("--cases", help="the start part's cases to run, comma-separated (plain always)")
    ap.add_argument("--tmp", default=None, help="scratch directory parent (default $TMPDIR)")
    ap.add_argument("--bin", help="take gctk, gctk-hook, gctk-runtime (and floor, rss if there) "
                                  "from this directory instead of BUILD")
    ap.add_argument("--runc", help="the runc binary (default: runc on PATH)")
    ap.add_argument("--sim-dir", help="the mock driver libraries (default BUILD/sim)")
    a = ap.parse_args()
    if a.quick:
        a.runs = a.scale_runs = a.docker_runs = 5
    if os.geteuid() != 0:
        sys.exit("bench: run as root (runc, mounts)")
    parts = a.only.split(",")
    for p in parts:
        if p not in ALL_PARTS:
            sys.exit("bench: unknown part `%s` (%s)" % (p, ",".join(ALL_PARTS)))
    b = Bench(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for p in ALL_PARTS:
            if p not in parts:
                continue
            if p in NEEDS_RUNC and not b.runc:
                b.notes.append("runc is not installed (or --runc): part `%s` skipped" % p)
            elif (p in NEEDS_SIM or not a.host_root) and not b.has_sim:
                b.notes.append("no mock driver libraries (--sim-dir): part `%s` skipped" % p)
            else:
                getattr(b, "part_" + p)()
        b.machine()
    finally:
        b.cleanup()
    log("samples in %s" % os.path.join(a.out, "samples.csv"))


if __name__ == "__main__":
    main()
