#!/usr/bin/python3
"""A small CRI client that plays the kubelet for one pod at a time, for
tests/e2e/test-cri.sh. Made from Debian's packages: python3-grpcio, and the
stubs that `python3 -m grpc_tools.protoc` (python3-grpc-tools) generates at
test time from the CRI api.proto of golang-github-kubernetes-cri-api-dev
(its gogoproto lines dropped); --stubs names their directory.

  cri.py image --rootfs DIR --name REF --out TAR [--env K=V]... [--entrypoint ARG]...
      an image archive (`docker save`'s layout: manifest.json, config, one
      layer) for `ctr -n k8s.io images import`: no registry is needed
  cri.py --socket SOCK --stubs DIR version
  cri.py --socket SOCK --stubs DIR run --name NAME --image REF [--handler H]
         [--privileged] [--env K=V]... [--annotation K=V]... [--cdi NAME]...
         [--mount HOST:CONTAINER]... [--logs DIR] -- CMD...
      RunPodSandbox (host network, empty hostname, the runtime handler),
      CreateContainer, StartContainer, the container's exit, its log, then
      everything removed again, as the kubelet does. Prints the container's
      output, then `exit: N`; a refused call prints `refused: <CRI method>:
      <message>` and exits 3.
  cri.py --socket SOCK --stubs DIR leftovers
      the pods and containers the runtime still has (`pods: N containers: N`)
  cri.py --socket SOCK --stubs DIR cleanup
      stops and removes every pod (for a test that stopped half-way)
"""
import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import time

TIMEOUT = 60  # seconds for any one CRI call and for a container to exit


def image(args):
    """Writes an image archive of a root filesystem: the layer, its config
    and a manifest naming the reference, as `docker save` lays them out."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.GNU_FORMAT) as t:

        def owned_by_root(info):
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            return info

        for entry in sorted(os.listdir(args.rootfs)):
            t.add(os.path.join(args.rootfs, entry), arcname=entry, filter=owned_by_root)
    layer_bytes = layer.getvalue()
    layer_sha = hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/bin:/bin"] + args.env,
            "Entrypoint": args.entrypoint or None,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_sha]},
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [
        {"Config": config_name, "RepoTags": [args.name], "Layers": [layer_sha + "/layer.tar"]}
    ]
    with tarfile.open(args.out, mode="w") as out:
        for name, data in (
            (layer_sha + "/layer.tar", layer_bytes),
            (config_name, config_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return 0


def connect(args):
    sys.path.insert(0, args.stubs)
    import grpc  # noqa: E402 (python3-grpcio)
    import api_pb2  # noqa: E402 (generated at test time)
    import api_pb2_grpc  # noqa: E402

    channel = grpc.insecure_channel("unix://" + args.socket)
    return grpc, api_pb2, api_pb2_grpc.RuntimeServiceStub(channel)


def pairs(items):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit("cri.py: `%s` is not KEY=VALUE" % item)
        out[key] = value
    return out


def read_log(path):
    """The text of a CRI log file: `TIME STREAM TAG MESSAGE` per line, a
    partial line (P) continued on the next."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return ""
    out = []
    for line in lines:
        parts = line.split(" ", 3)
        if len(parts) < 4:
            continue
        out.append(parts[3] + ("\n" if parts[2] == "F" else ""))
    return "".join(out)


def run(args):
    grpc, api, rt = connect(args)
    uid = "%d-%d" % (os.getpid(), int(time.monotonic() * 1000))
    node = api.NamespaceOption(network=api.NODE)
    pod_config = api.PodSandboxConfig(
        metadata=api.PodSandboxMetadata(name=args.name, uid=uid, namespace="gctk-test"),
        hostname="",  # host network: the node's own name
        log_directory=args.logs,
        linux=api.LinuxPodSandboxConfig(
            security_context=api.LinuxSandboxSecurityContext(
                namespace_options=node, privileged=args.privileged
            )
        ),
    )
    step = "RunPodSandbox"
    pod = container = None
    try:
        pod = rt.RunPodSandbox(
            api.RunPodSandboxRequest(config=pod_config, runtime_handler=args.handler),
            timeout=TIMEOUT,
        ).pod_sandbox_id
        mounts = []
        for m in args.mount:
            host, _, ctr = m.partition(":")
            mounts.append(api.Mount(host_path=host, container_path=ctr))
        config = api.ContainerConfig(
            metadata=api.ContainerMetadata(name=args.name),
            image=api.ImageSpec(image=args.image),
            command=args.cmd,
            envs=[api.KeyValue(key=k, value=v) for k, v in pairs(args.env).items()],
            mounts=mounts,
            annotations=pairs(args.annotation),
            log_path=args.name + ".log",
            linux=api.LinuxContainerConfig(
                security_context=api.LinuxContainerSecurityContext(
                    namespace_options=node, privileged=args.privileged
                )
            ),
            CDI_devices=[api.CDIDevice(name=n) for n in args.cdi],
        )
        step = "CreateContainer"
        container = rt.CreateContainer(
            api.CreateContainerRequest(
                pod_sandbox_id=pod, config=config, sandbox_config=pod_config
            ),
            timeout=TIMEOUT,
        ).container_id
        step = "StartContainer"
        rt.StartContainer(api.StartContainerRequest(container_id=container), timeout=TIMEOUT)
        step = "ContainerStatus"
        deadline = time.monotonic() + TIMEOUT
        while True:
            status = rt.ContainerStatus(
                api.ContainerStatusRequest(container_id=container), timeout=TIMEOUT
            ).status
            if status.state == api.CONTAINER_EXITED:
                break
            if time.monotonic() > deadline:
                print("refused: the container did not exit within %d s" % TIMEOUT)
                return 3
            time.sleep(0.05)
        sys.stdout.write(read_log(os.path.join(args.logs, args.name + ".log")))
        print("exit: %d" % status.exit_code)
        return 0
    except grpc.RpcError as e:
        print("refused: %s: %s" % (step, e.details()))
        return 3
    finally:
        # as the kubelet tears a pod down; errors here are the test's to see
        if container is not None:
            rt.RemoveContainer(api.RemoveContainerRequest(container_id=container), timeout=TIMEOUT)
        if pod is not None:
            rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=TIMEOUT)
            rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=TIMEOUT)


def version(args):
    _, api, rt = connect(args)
    v = rt.Version(api.VersionRequest(), timeout=TIMEOUT)
    print("%s %s (CRI %s)" % (v.runtime_name, v.runtime_version, v.runtime_api_version))
    return 0


def leftovers(args):
    _, api, rt = connect(args)
    pods = rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=TIMEOUT).items
    containers = rt.ListContainers(api.ListContainersRequest(), timeout=TIMEOUT).containers
    print("pods: %d containers: %d" % (len(pods), len(containers)))
    return 0


def cleanup(args):
    _, api, rt = connect(args)
    for pod in rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=TIMEOUT).items:
        rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod.id), timeout=TIMEOUT)
        rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod.id), timeout=TIMEOUT)
    return 0


def main():
    p = argparse.ArgumentParser(description="a CRI client that plays the kubelet")
    p.add_argument("--socket")
    p.add_argument("--stubs")
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("image")
    i.add_argument("--rootfs", required=True)
    i.add_argument("--name", required=True)
    i.add_argument("--out", required=True)
    i.add_argument("--env", action="append", default=[])
    i.add_argument("--entrypoint", action="append", default=[])
    sub.add_parser("version")
    sub.add_parser("leftovers")
    sub.add_parser("cleanup")
    r = sub.add_parser("run")
    r.add_argument("--name", required=True)
    r.add_argument("--image", required=True)
    r.add_argument("--handler", default="")
    r.add_argument("--privileged", action="store_true")
    r.add_argument("--env", action="append", default=[])
    r.add_argument("--annotation", action="append", default=[])
    r.add_argument("--cdi", action="append", default=[])
    r.add_argument("--mount", action="append", default=[])
    r.add_argument("--logs", required=True)
    r.add_argument("cmd", nargs="+")
    args = p.parse_args()
    if args.command == "image":
        return image(args)
    if not args.socket or not args.stubs:
        p.error("--socket and --stubs are needed")
    commands = {"version": version, "leftovers": leftovers, "cleanup": cleanup, "run": run}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
