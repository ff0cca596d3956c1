# Run in a PyTorch container by tools/gpu-verify.sh (the `gctk ps` step):
# allocates 4 GiB on the container's first GPU, prints what PyTorch says about
# it on one line ("torch {json}"), then holds the memory for `gctk ps` to see.
import json
import os
import time

import torch

x = torch.empty(4 << 30, dtype=torch.uint8, device="cuda:0")
torch.cuda.synchronize()
free, total = torch.cuda.mem_get_info(0)
props = torch.cuda.get_device_properties(0)
print("torch " + json.dumps({
    "pid": os.getpid(),
    "allocated": torch.cuda.memory_allocated(0),
    "reserved": torch.cuda.memory_reserved(0),
    "device_used": total - free,
    "uuid": str(getattr(props, "uuid", "")),
    "torch": torch.__version__,
}), flush=True)
time.sleep(600)
