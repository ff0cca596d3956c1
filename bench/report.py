#!/usr/bin/env python3
"""Turns the CSVs of bench/run.py into bench/results/results.md and the data
files and gnuplot scripts of the plots (bench/report.sh runs gnuplot).

  report.py RESULTS_DIR     every RESULTS_DIR/LABEL/samples.csv is one machine
"""
import collections
import csv
import math
import os
import sys

START_CASES = [
    ("plain", "no GPU, no hook (a)"),
    ("hook-nogpu", "gctk-hook, container asks for no GPU"),
    ("hook-1gpu", "gctk-hook, 1 GPU (b)"),
    ("hook-all", "gctk-hook, all GPUs (c)"),
    ("hook-1gpu-cuda", "gctk-hook, 1 GPU, NVIDIA_REQUIRE_CUDA=cuda>=12.0"),
    ("hook-1gpu-libs", "gctk-hook, 1 GPU, an image with 200 libraries"),
    ("hook-1gpu-nocache", "gctk-hook, 1 GPU, no discovery cache"),
    ("hook-all-nocache", "gctk-hook, all GPUs, no discovery cache"),
    ("runtime-all", "gctk-runtime, all GPUs (d)"),
    ("runtime-nogpu", "gctk-runtime, container asks for no GPU"),
    ("cdi-1gpu", "gctk-runtime, CDI name, 1 GPU: one hook process (e)"),
    ("cdi-1gpu-libs", "gctk-runtime, CDI name, 1 GPU, an image with 200 libraries"),
    ("cdi-all", "gctk-runtime, CDI name, all GPUs: one hook process"),
    ("cdi-1gpu-split", "gctk-runtime, CDI name, 1 GPU: the hooks split (4 processes)"),
    ("cdi-all-split", "gctk-runtime, CDI name, all GPUs: the hooks split (4 processes)"),
    ("cdi-1gpu-direct", "runc alone with cdi-1gpu's config.json as gctk-runtime writes it "
     "(and an engine that applies gctk's spec: Docker 25+, containerd 1.7, Podman)"),
    ("cdi-1gpu-runc", "the same, the spec's mounts made by runc (as such an engine writes a "
     "`--runtime-mounts` spec)"),
    ("cdi-1gpu-nohook", "the same, no hook: the spec's nodes and mounts alone, by runc"),
    ("cdi-1gpu-engine", "cdi-1gpu-runc's config.json through gctk-runtime (mounts back to the hook)"),
    ("floor-1gpu", "floor as prestart hook, 1 GPU"),
    ("floor-all", "floor as prestart hook, all GPUs"),
    ("prep-1gpu", "experiment: no hook, the driver in one rbind of a prepared directory, 1 GPU"),
    ("prep-all", "experiment: the same, all GPUs"),
    ("prep-env-1gpu", "experiment: the same, 1 GPU, no links: LD_LIBRARY_PATH names the directory"),
    ("pre-1gpu", "experiment: no hook, the floor's mounts made before runc in its mount namespace, 1 GPU"),
    ("pre-all", "experiment: the same, all GPUs"),
]
PHASES = ["parse", "discovery", "require", "cgroup", "namespace", "mounts", "proc", "ldcache"]
SCALE_ROWS = [
    ("scale", "hook", "hook_ms", "gctk-hook, all GPUs (own time)"),
    ("scale", "hook-discovery", "ms", "  of which discovery"),
    ("scale", "hook-nocache", "hook_ms", "gctk-hook, all GPUs, no discovery cache"),
    ("scale", "hook-discovery-nocache", "ms", "  of which discovery"),
    ("scale", "hook-mounts", "ms", "  of which mounts"),
    ("scale", "hook-n-mounts", "n", "  mounts made (count)"),
    ("scale", "runc-hook", "wall_ms", "`runc run` with the hook, all GPUs"),
    ("scale", "info", "wall_ms", "`gctk info` (NVML)"),
    ("scale", "info-no-nvml", "wall_ms", "`gctk info --no-nvml`"),
    ("scale", "list", "wall_ms", "`gctk list`"),
    ("scale", "list-nocache", "wall_ms", "`gctk list`, no discovery cache"),
    ("scale", "cdi-generate", "wall_ms", "`gctk cdi generate`"),
    ("scale", "spawn", "wall_ms", "`/bin/true` (starting any program, in every row above)"),
]


def pct(v, p):
    """Nearest-rank percentile of sorted v."""
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


class Stats:
    def __init__(self, values):
        v = sorted(values)
        self.n = len(v)
        self.median = (v[(self.n - 1) // 2] + v[self.n // 2]) / 2
        self.p95 = pct(v, 95)
        self.min = v[0]
        self.max = v[-1]


def load(d):
    s = collections.defaultdict(list)
    with open(os.path.join(d, "samples.csv")) as f:
        for r in csv.DictReader(f):
            s[(r["group"], r["case"], r["param"], r["metric"])].append(float(r["value"]))
    machine = []
    mp = os.path.join(d, "machine.csv")
    if os.path.exists(mp):
        with open(mp) as f:
            machine = [(r["key"], r["value"]) for r in csv.DictReader(f)]
    return {k: Stats(v) for k, v in s.items()}, machine


def f(x, unit=""):
    if x is None:
        return "-"
    if unit == "n":
        return "%d" % x
    return "%.2f" % x if x < 100 else "%.0f" % x


def cells(vals, kind=None):
    """The medians of vals as table cells, "-" where one is missing."""
    return " | ".join((f(v.median, kind) if kind else f(v.median)) if v else "-" for v in vals)


def find(st, group, case, metric, param=None):
    for k, v in st.items():
        if k[0] == group and k[1] == case and k[3] == metric and (param is None or k[2] == param):
            return v
    return None


def params(st, group):
    ps = {k[2] for k in st if k[0] == group and k[2] != "" and k[1] != "baseline"}
    return sorted(ps, key=lambda p: (not p.isdigit(), int(p) if p.isdigit() else 0, p))


def section(label, st, machine, out, plots, pngs):
    w = out.append
    m = dict(machine)
    w("## %s: %s\n" % (label, m.get("host", "")))
    w("| | |\n|---|---|")
    for k, v in machine:
        w("| %s | %s |" % (k, v.replace("|", "\\|")))
    w("")

    # 1. container start
    plain = find(st, "start", "plain", "wall_ms")
    if plain:
        w("### Container start: `runc run` of a container running /bin/true (ms)\n")
        w("| case | n | median | p95 | min | added (median) | ratio to (a) |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        rows = []
        for case, name in START_CASES:
            s = find(st, "start", case, "wall_ms")
            if s:
                w("| %s | %d | %s | %s | %s | %s | %.2f |" % (
                    name, s.n, f(s.median), f(s.p95), f(s.min), f(s.median - plain.median),
                    s.median / plain.median))
                rows.append((case, s))
        w("")
        data = os.path.join(plots, label + "-start.dat")
        with open(data, "w") as fp:
            for i, (case, s) in enumerate(rows):
                fp.write("%d %s %.3f %.3f %.3f\n" % (i, case, s.median, s.min, s.p95))
        pngs.append((label + "-start.png", """
set title "container start: runc run (median, bars min..p95)"
set ylabel "ms"
set style fill solid 0.6
set boxwidth 0.6
set xtics rotate by -30
set yrange [0:*]
plot "%s" using 1:3:xtic(2) with boxes notitle lc rgb "#4477aa", \\
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0
""" % data))

    dp = find(st, "docker", "plain", "wall_ms")
    dg = find(st, "docker", "gpus-all", "wall_ms")
    if dp and dg:
        w("### Docker: `docker run --rm --network none IMAGE /bin/true` (ms) (e)\n")
        w("| case | n | median | p95 | min | added (median) | ratio |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        rows = (("plain `docker run`", dp), ("`docker run --gpus all` (gctk-hook)", dg),
                ("`--device` of gctk's spec, 1 GPU (its hook mounts the driver's files)",
                 find(st, "docker", "cdi-1gpu", "wall_ms")),
                ("`--device` of a `--runtime-mounts` spec, 1 GPU (runc mounts them)",
                 find(st, "docker", "cdi-1gpu-runtime-mounts", "wall_ms")))
        for name, s in rows:
            if s:
                w("| %s | %d | %s | %s | %s | %s | %.2f |" % (name, s.n, f(s.median), f(s.p95),
                                                            f(s.min), f(s.median - dp.median),
                                                            s.median / dp.median))
        h = find(st, "docker", "gpus-all", "hook_ms")
        if h:
            w("\ngctk-hook's own time under Docker: median %s ms, p95 %s ms." % (f(h.median),
                                                                              f(h.p95)))
        for c, name in (("cdi-1gpu", "gctk's spec"), ("cdi-1gpu-runtime-mounts",
                                                      "the `--runtime-mounts` spec")):
            h = find(st, "docker", c, "hook_ms")
            if h:
                w("\nThe hook of %s under Docker: median %s ms, p95 %s ms." % (
                    name, f(h.median), f(h.p95)))
        w("")

    if find(st, "ps", "table", "wall_ms"):
        w("### `gctk ps` on the simulated 8-GPU host (ms)\n")
        w("| processes NVML reports | output | n | median | p95 | min | peak RSS (KiB) |")
        w("|---|---|---:|---:|---:|---:|---:|")
        for lab, name in (("docker", "100, in 10 Docker containers, named through Docker's socket"),
                          ("runc", "100, in 10 runc containers under Docker's cgroup names, "
                                   "no engine socket"),
                          ("none", "none")):
            for case in ("table", "json"):
                t = find(st, "ps", case, "wall_ms", lab)
                r = find(st, "ps", "rss-" + case, "rss_kib", lab)
                if t:
                    w("| %s | %s | %d | %s | %s | %s | %s |" % (
                        name, "table" if case == "table" else "`--json`", t.n, f(t.median),
                        f(t.p95), f(t.min), f(r.median, "n") if r else "-"))
        w("")

    if find(st, "nvconfig", "hook-nogpu-without", "wall_ms"):
        w("### NVIDIA's config.toml: what it costs the hook (ms)\n")
        w("The hook reads its settings first; with NVIDIA's config.toml on the host it uses")
        w("the file's translation kept in the cache directory, or, the first time (`with-first`:")
        w("the translation removed before each run), loads the TOML module (tomlplusplus and")
        w("the C++ runtime) and parses the file; without it one `open` fails.\n")
        w("| case | n | median | p95 | min | added (median) |")
        w("|---|---:|---:|---:|---:|---:|")
        for case, name in (("hook-nogpu", "the whole gctk-hook process, container asks for no GPU"),
                           ("start-1gpu", "`runc run` with gctk-hook, 1 GPU"),
                           ("runtime-1gpu", "`gctk-runtime run`, 1 GPU")):
            a = find(st, "nvconfig", case + "-without", "wall_ms")
            for suffix, lab in (("-without", "without config.toml"),
                                ("-with", "with NVIDIA's default config.toml"),
                                ("-with-first", "the same, its translation not kept")):
                s_ = find(st, "nvconfig", case + suffix, "wall_ms")
                if s_:
                    w("| %s, %s | %d | %s | %s | %s | %s |" % (
                        name, lab, s_.n, f(s_.median), f(s_.p95), f(s_.min),
                        f(s_.median - a.median) if a and s_ is not a else "-"))
        w("")

    # 2. hook vs floor
    if find(st, "hook", "hook-1gpu", "hook_ms"):
        w("### The hook against the floor: own time of the prestart hook (ms)\n")
        w("| GPUs | gctk-hook median | p95 | min | floor hook median | p95 | min "
          "| ratio (median) | floor standalone median |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for sfx, name in (("1gpu", "1"), ("all", "all"), ("1gpu-cuda", "1, NVIDIA_REQUIRE_CUDA"),
                          ("1gpu-nocache", "1, no cache"), ("all-nocache", "all, no cache")):
            h = find(st, "hook", "hook-" + sfx, "hook_ms")
            fl = find(st, "hook", "floor-" + sfx.split("-")[0], "hook_ms")
            fs = find(st, "floor", "standalone-" + sfx.split("-")[0], "floor_ms")
            if h:
                w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    name, f(h.median), f(h.p95), f(h.min), f(fl and fl.median), f(fl and fl.p95),
                    f(fl and fl.min), "%.2f" % (h.median / fl.median) if fl else "-",
                    f(fs.median if fs else None)))
        nh = find(st, "hook", "hook-nogpu", "hook_ms")
        if nh:
            w("\nA container that asks for no GPU costs the hook %s ms (median; p95 %s)." % (
                f(nh.median), f(nh.p95)))
        w("")

    # the CDI spec's hook
    cdi = [c for c in ("cdi-1gpu", "cdi-1gpu-libs", "cdi-all", "cdi-1gpu-direct", "cdi-1gpu-runc",
                       "cdi-1gpu-engine")
           if find(st, "hook", c, "hook_ms")]
    if cdi:
        w("### The CDI spec's hook: own time of `gctk hook create-container` (ms, from its log)\n")
        cols = ["state", "host", "mounts", "links", "ldcache", "proc"]
        w("| case | n | median | p95 | " + " | ".join(cols) + " | mounts made | links made |")
        w("|---|---:|---:|---:|" + "---:|" * (len(cols) + 2))
        for c in cdi:
            h = find(st, "hook", c, "hook_ms")
            vals = [find(st, "phase", c, "ms", ph) for ph in cols]
            counts = [find(st, "phase", c, "n", k) for k in ("n_mounts", "n_links")]
            w("| %s | %d | %s | %s | %s | %s |" % (
                c, h.n, f(h.median), f(h.p95), cells(vals), cells(counts, "n")))
        w("")

    # the prepared-directory experiment: the links written before the start
    prep = [c for c in ("prep-1gpu", "prep-all") if find(st, "phase", c, "ms", "links")]
    if prep:
        w("### The prepared-directory experiment: links written into the rootfs before the start "
          "(ms, the floor's log)\n")
        w("| case | median | p95 | links made |")
        w("|---|---:|---:|---:|")
        for c in prep:
            lk = find(st, "phase", c, "ms", "links")
            w("| %s | %s | %s | %s |" % (c, f(lk.median), f(lk.p95),
                                         cells([find(st, "phase", c, "n", "n_links")], "n")))
        w("")

    # 5. phases
    cases = [c for c in ("hook-1gpu", "hook-all", "hook-1gpu-cuda", "hook-1gpu-nocache",
                         "hook-all-nocache", "floor-1gpu", "floor-all", "pre-1gpu", "pre-all",
                         "docker-gpus-all")
             if find(st, "phase", c, "ms")]
    if cases:
        w("### Where the time goes: the hook's phases, median ms (from its log)\n")
        w("| phase | " + " | ".join(cases) + " |")
        w("|---|" + "---:|" * len(cases))
        for ph in PHASES:
            vals = [find(st, "phase", c, "ms", ph) for c in cases]
            if any(vals):
                w("| %s | %s |" % (ph, cells(vals)))
        for k, name in (("n_mounts", "mounts made"), ("n_links", "links made")):
            w("| %s | %s |" % (name, cells([find(st, "phase", c, "n", k) for c in cases], "n")))
        w("")
        data = os.path.join(plots, label + "-phases.dat")
        with open(data, "w") as fp:
            fp.write("case " + " ".join(PHASES) + "\n")
            for c in cases:
                fp.write(c + " " + " ".join("%.3f" % (find(st, "phase", c, "ms", ph).median
                                                      if find(st, "phase", c, "ms", ph) else 0)
                                            for ph in PHASES) + "\n")
        pngs.append((label + "-phases.png", """
set title "prestart hook: time per phase (median)"
set ylabel "ms"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set key outside right
set yrange [0:*]
plot for [i=2:%d] "%s" using i:xtic(1) title columnheader(i)
""" % (len(PHASES) + 1, data)))

    # 3. scaling
    gp = params(st, "scale")
    gp = [p for p in gp if p.isdigit()]
    if gp:
        w("### Scaling with the number of GPUs (simulated hosts): median ms (p95)\n")
        w("| | " + " | ".join("%s GPUs" % p for p in gp) + " |")
        w("|---|" + "---:|" * len(gp))
        series = []
        for g, c, met, name in SCALE_ROWS:
            vals = [find(st, g, c, met, p) for p in gp]
            if not any(vals):
                if c == "cdi-generate":
                    w("| %s | skipped: not in this build |" % name)
                continue
            if met == "n":
                w("| %s | %s |" % (name, " | ".join(f(v.median, "n") if v else "-" for v in vals)))
            else:
                w("| %s | %s |" % (name, " | ".join("%s (%s)" % (f(v.median), f(v.p95)) if v else "-"
                                                    for v in vals)))
                if c in ("hook", "info", "info-no-nvml", "list", "cdi-generate"):
                    series.append((c, [(p, v.median) for p, v in zip(gp, vals) if v]))
        w("")
        data = os.path.join(plots, label + "-scaling.dat")
        with open(data, "w") as fp:
            for c, pts in series:
                fp.write("# %s\n" % c)
                for p, v in pts:
                    fp.write("%s %.3f\n" % (p, v))
                fp.write("\n\n")
        plot = ", \\\n     ".join('"%s" index %d using 1:2 with linespoints title "%s"' % (data, i, c)
                                 for i, (c, _) in enumerate(series))
        pngs.append((label + "-scaling.png", """
set title "scaling with GPUs (median)"
set xlabel "GPUs"
set ylabel "ms"
set logscale xy
set key left top
plot %s
""" % plot))

    # concurrency
    cp = params(st, "conc")
    if cp:
        w("### Concurrent starts: the hook's own time with K containers started at once (ms)\n")
        w("| K | hook n | hook median | p95 | max | `runc run` median | p95 | batch wall median "
          "| plain `runc run` median (K at once, no hook) | ratio |")
        w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        data = os.path.join(plots, label + "-concurrency.dat")
        with open(data, "w") as fp:
            for k in cp:
                h = find(st, "conc", "hook", "hook_ms", k)
                r = find(st, "conc", "runc-hook", "wall_ms", k)
                b = find(st, "conc", "batch", "wall_ms", k)
                pl = find(st, "conc", "runc-plain", "wall_ms", k)
                w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    k, h.n, f(h.median), f(h.p95), f(h.max), f(r.median), f(r.p95), f(b.median),
                    f(pl.median if pl else None),
                    "%.2f" % (r.median / pl.median) if pl and pl.median else "-"))
                fp.write("%s %.3f %.3f %.3f %.3f\n" % (k, h.median, h.p95, r.median, r.p95))
        w("")
        phases = sorted({k[1] for k in st if k[0] == "conc-phase"})
        if phases:
            w("The hook's steps with K containers started at once (ms, median):\n")
            w("| K | " + " | ".join(phases) + " |")
            w("|---:|" + "---:|" * len(phases))
            for k in cp:
                w("| %s | %s |" % (k, cells([find(st, "conc-phase", ph, "ms", k) for ph in phases])))
            w("")
        pngs.append((label + "-concurrency.png", """
set title "concurrent starts (1 GPU each)"
set xlabel "containers started at once"
set ylabel "ms"
set logscale xy
set key left top
plot "%s" using 1:2 with linespoints title "hook median", \\
     "" using 1:3 with linespoints title "hook p95", \\
     "" using 1:4 with linespoints title "runc run median", \\
     "" using 1:5 with linespoints title "runc run p95"
""" % data))

    # 4. memory
    rp = params(st, "rss")
    if rp:
        w("### Peak RSS (KiB, median)\n")
        w("| | " + " | ".join("%s GPUs" % p if p.isdigit() else "host `%s`" % p for p in rp) + " |")
        w("|---|" + "---:|" * len(rp))
        for c, name in (("gctk-hook-1gpu", "gctk-hook, 1 GPU"), ("gctk-hook-all", "gctk-hook, all GPUs"),
                        ("info", "`gctk info` (NVML)"), ("info-no-nvml", "`gctk info --no-nvml`"),
                        ("list", "`gctk list`"), ("cdi-generate", "`gctk cdi generate`")):
            vals = [find(st, "rss", c, "rss_kib", p) for p in rp]
            if any(vals):
                w("| %s | %s |" % (name, " | ".join(f(v.median, "n") if v else "-" for v in vals)))
        b = find(st, "rss", "baseline", "rss_kib")
        if b:
            w("\nMeasured through bench/rss (wait4's ru_maxrss), which counts its own pages "
              "too: `/bin/true` measures %d KiB." % b.median)
        w("")

    # image size
    sm, bg = find(st, "image", "small", "hook_ms"), find(st, "image", "big", "hook_ms")
    if sm and bg:
        w("### Image size: the hook on a minimal image and on one with 20000 more files (ms)\n")
        w("| image | hook median | p95 | ldcache median | `runc run` median |")
        w("|---|---:|---:|---:|---:|")
        for name, c in (("minimal", "small"), ("+20000 files", "big")):
            h = find(st, "image", c, "hook_ms")
            w("| %s | %s | %s | %s | %s |" % (name, f(h.median), f(h.p95),
                                              f(find(st, "image", c, "ldcache_ms").median),
                                              f(find(st, "image", c, "wall_ms").median)))
        w("")
    plot_list = [p for p, _ in pngs if p.startswith(label + "-")]
    if plot_list:
        w("Plots: " + ", ".join("[%s](%s)" % (p, p) for p in plot_list) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    res = sys.argv[1]
    labels = sorted(d for d in os.listdir(res) if os.path.exists(os.path.join(res, d, "samples.csv")))
    if not labels:
        sys.exit("report: no RESULTS_DIR/LABEL/samples.csv under `%s`" % res)
    plots = os.path.join(res, "plots")
    os.makedirs(plots, exist_ok=True)
    out = ["# gctk benchmark results\n",
           "Generated by `bench/report.sh` from the CSVs of `bench/run.py` (bench/README.md says "
           "how to read them). Times in ms: median, p95 (nearest rank) and min of the runs; "
           "two warm-up runs are dropped.\n"]
    pngs = []
    for label in labels:
        st, machine = load(os.path.join(res, label))
        section(label, st, machine, out, plots, pngs)
    with open(os.path.join(res, "results.md"), "w") as fp:
        fp.write("\n".join(out))
    with open(os.path.join(plots, "plots.gp"), "w") as fp:
        fp.write("set terminal pngcairo size 640,400 font ',9'\n")
        for png, script in pngs:
            fp.write("reset\nset output '%s'\n%s\n" % (os.path.join(res, png), script))
    print(os.path.join(plots, "plots.gp"))


if __name__ == "__main__":
    main()
