"""The `gctk ps` check of tools/gpu-verify.sh:
  ps-check.py PS_JSON APPS_CSV TORCH_JSON CONTAINER INFO_JSON
PS_JSON is `gctk ps --container CONTAINER --json`, APPS_CSV `nvidia-smi
--query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits`,
TORCH_JSON the line tools/gpu/torch-alloc.py printed in the container,
INFO_JSON `gctk info --json`. Prints the figures side by side and PASS or FAIL:
one process, under the container's engine and name, with the PID the container
gives it, on the host's GPU 0, with exactly nvidia-smi's memory for that PID,
which is PyTorch's reserved memory plus a CUDA context under 2 GiB."""
import json
import sys

ps = json.load(open(sys.argv[1]))
apps = {}
for line in open(sys.argv[2]):
    f = [x.strip() for x in line.split(",")]
    if len(f) == 3 and f[0].isdigit():
        apps[int(f[0])] = (int(f[1]), f[2])
torch = json.loads(sys.argv[3])
name = sys.argv[4]
gpu0 = json.load(open(sys.argv[5]))["gpus"][0]["uuid"]


def mib(b):
    return b / (1 << 20)


bad = []
procs = ps["processes"]
if len(procs) != 1:
    bad.append("%d processes listed for %s, not 1" % (len(procs), name))
p = procs[0] if procs else {}
c = p.get("container") or {}
print("gctk ps:    pid %s (%s in the container) on %s: %s MiB; %s %s %s" % (
    p.get("pid"), p.get("container_pid"), p.get("gpu_uuid"), p.get("used_memory_mib"),
    c.get("engine"), (c.get("id") or "")[:12], c.get("name")))
print("PyTorch %s: pid %d in the container, allocated %.0f MiB, reserved %.0f MiB, "
      "device memory in use %.0f MiB, GPU %s" % (
          torch["torch"], torch["pid"], mib(torch["allocated"]), mib(torch["reserved"]),
          mib(torch["device_used"]), torch["uuid"] or "?"))
smi = apps.get(p.get("pid"))
print("nvidia-smi: pid %s: %s" % (p.get("pid"), "%d MiB on %s" % smi if smi else "not listed"))
if c.get("engine") != "docker" or c.get("name") != name:
    bad.append("container %s/%s, not docker/%s" % (c.get("engine"), c.get("name"), name))
if p.get("container_pid") != torch["pid"]:
    bad.append("container pid %s, PyTorch's os.getpid() %d" % (p.get("container_pid"), torch["pid"]))
if p.get("gpu_uuid") != gpu0:
    bad.append("GPU %s, not the host's GPU 0 %s" % (p.get("gpu_uuid"), gpu0))
if torch["uuid"] and not gpu0.endswith(torch["uuid"].replace("GPU-", "")):
    bad.append("PyTorch's GPU %s is not the host's GPU 0 %s" % (torch["uuid"], gpu0))
if smi is None or smi[0] != p.get("used_memory_mib") or smi[1] != p.get("gpu_uuid"):
    bad.append("nvidia-smi says %s for that pid" % (smi,))
used = p.get("used_memory_bytes") or 0
over = mib(used - torch["reserved"])
print("NVML's figure minus PyTorch's reserved memory (CUDA context, libraries): %.0f MiB" % over)
if not 0 <= over < 2048:
    bad.append("the process uses %.0f MiB: not PyTorch's reserved %.0f MiB plus a context "
               "under 2 GiB" % (mib(used), mib(torch["reserved"])))
for b in bad:
    print("  mismatch: " + b)
print("gctk ps check:", "PASS" if not bad else "FAIL")
sys.exit(1 if bad else 0)
