#!/usr/bin/env bash
# node-config.sh DIR PAUSE [SETTING]...: prints a Kubernetes node's own
# containerd main file (version 2), as a node has it before gctk configures
# containerd: its root, state, sockets, opt plugin and CNI directory under
# DIR, PAUSE its sandbox image, each SETTING one more line of the CRI
# plugin's table. For tests/e2e/test-cri.sh and tools/gpu-cri.sh.
set -u
dir=$1 pause=$2
shift 2
# without CAP_SYS_RESOURCE (a user namespace; the GPU machines' commands) the
# CRI must not set a sandbox's oom_score_adj: runc would fail the sandbox
# with `failed to update /proc/self/oom_score_adj`
restrict=false
capeff=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
(( (0x$capeff >> 24) & 1 )) || restrict=true
cat <<CONF
# a node's main file
version = 2
root = "$dir/root"
state = "$dir/state"
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  restrict_oom_score_adj = $restrict
  disable_apparmor = true
CONF
for s in "$@"; do printf '  %s\n' "$s"; done
cat <<CONF
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$dir/cni"
CONF
