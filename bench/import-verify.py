#!/usr/bin/env python3
"""import-verify.py BENCH_CSV OUT_DIR [KEY=VALUE...]: turns the bench.csv of
tools/gpu-verify.sh (case,run,wall_us) into OUT_DIR/samples.csv and
OUT_DIR/machine.csv of bench/run.py, so that report.sh shows real-GPU runs
next to the simulated ones. KEY=VALUE pairs (cpu=..., gpus=...) go to
machine.csv. Cases: nohook, void, gpu1, all (runc run), hook-<case> (the
hook's own time), gpu1-nocache, all-nocache (without the discovery cache),
docker-plain, docker-gpus."""
import csv
import os
import sys

MAP = {
    "nohook": ("start", "plain"), "void": ("start", "hook-nogpu"),
    "gpu1": ("start", "hook-1gpu"), "all": ("start", "hook-all"),
    "hook-gpu1": ("hook", "hook-1gpu"), "hook-all": ("hook", "hook-all"),
    "hook-void": ("hook", "hook-nogpu"),
    "gpu1-nocache": ("start", "hook-1gpu-nocache"), "all-nocache": ("start", "hook-all-nocache"),
    "hook-gpu1-nocache": ("hook", "hook-1gpu-nocache"),
    "hook-all-nocache": ("hook", "hook-all-nocache"),
    "docker-plain": ("docker", "plain"), "docker-gpus": ("docker", "gpus-all"),
}

if len(sys.argv) < 3:
    sys.exit(__doc__)
os.makedirs(sys.argv[2], exist_ok=True)
skipped = set()
with open(sys.argv[1]) as f, open(os.path.join(sys.argv[2], "samples.csv"), "w") as out:
    out.write("group,case,param,metric,value\n")
    for r in csv.DictReader(f):
        if r["case"] not in MAP:
            skipped.add(r["case"])
            continue
        group, case = MAP[r["case"]]
        metric = "hook_ms" if group == "hook" else "wall_ms"
        param = "" if group == "hook" else "/"
        out.write("%s,%s,%s,%s,%.4f\n" % (group, case, param, metric, float(r["wall_us"]) / 1000))
with open(os.path.join(sys.argv[2], "machine.csv"), "w") as m:
    m.write("key,value\nhost,\"/ (real driver, tools/gpu-verify.sh)\"\n")
    for kv in sys.argv[3:]:
        k, _, v = kv.partition("=")
        m.write("%s,\"%s\"\n" % (k, v.replace('"', "'")))
    for c in sorted(skipped):
        m.write("note,\"case `%s` of bench.csv not imported\"\n" % c)
