#!/bin/sh
# An OCI runtime for podman/buildah (`--runtime=<this file>`) on hosts with "hybrid"
# cgroups: the cgroup v1 controllers under /sys/fs/cgroup plus a cgroup v2 hierarchy
# at /sys/fs/cgroup/unified that holds a controller of its own (hugetlb, say). crun
# refuses such a host ("cgroups in hybrid mode not supported, drop all controllers
# from cgroupv2") and Debian 12 has no runc. This runs crun in a private mount
# namespace in which that v2 mount is hidden, so crun sees a plain cgroup v1 host; the
# host's mounts are not changed. Every podman command that calls the runtime (run,
# stop, rm, exec, build) must be given the same --runtime.
exec unshare --mount --propagation private \
  sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec crun "$@"' crun "$@"
