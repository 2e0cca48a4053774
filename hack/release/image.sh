#!/usr/bin/env bash
# Assembles the reporter's container image (deploy/cronjob.yaml,
# docs/fleet.md#install) from the release's static linux binaries, without
# Docker or any daemon, as an OCI image layout (the OCI Image Layout
# Specification, image-spec v1.1 image-layout.md) holding one image index
# with a linux/amd64 and a linux/arm64 image:
#
#   hack/release/image.sh DIST OUT
#
# DIST is goreleaser's dist/ (make dist): the binaries are
# DIST/kubectl-caps_linux_{amd64_v1,arm64_v8.0}/kubectl-caps (the directory
# suffixes vary with goreleaser's defaults; any DIST/kubectl-caps_linux_ARCH*/
# directory is taken). OUT is created. Each image is one layer holding
# /kubectl-caps (mode 0755, owner 0:0), with the entrypoint /kubectl-caps,
# the user 65532:65532 and no shell or other file: the binary needs none
# (CGO_ENABLED=0). Nothing varies with the clock or the machine: file
# times and the config's created come from SOURCE_DATE_EPOCH (default: the
# commit's time), so the same binaries give the same digests. Push it with
# any OCI tool, e.g. `crane push OUT REGISTRY/kubectl-caps:TAG --index`
# or `skopeo copy --all oci:OUT docker://REGISTRY/kubectl-caps:TAG`.
set -euo pipefail

if [[ $# -ne 2 ]]; then
	printf 'usage: %s DIST OUT\n' "$0" >&2
	exit 2
fi
dist="$1"
out="$2"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"

rm -rf "$out"
mkdir -p "$out/blobs/sha256"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# blob FILE: moves FILE into the layout under its digest; prints
# "sha256:HEX SIZE".
blob() {
	local sum size
	sum="$(sha256sum "$1" | cut -d' ' -f1)"
	size="$(stat -c %s "$1")"
	mv -f "$1" "$out/blobs/sha256/$sum"
	printf 'sha256:%s %s\n' "$sum" "$size"
}

manifests=()
for arch in amd64 arm64; do
	bins=("$dist"/kubectl-caps_linux_"$arch"*/kubectl-caps)
	if [[ ${#bins[@]} -ne 1 || ! -f "${bins[0]}" ]]; then
		printf 'image: want one linux/%s binary in %s, found: %s\n' "$arch" "$dist" "${bins[*]}" >&2
		exit 1
	fi
	root="$work/$arch/root"
	mkdir -p "$root"
	install -m 0755 "${bins[0]}" "$root/kubectl-caps"
	# The layer: an uncompressed tar (media type ...tar, so its diff_id is
	# its digest), with fixed order, times and owners.
	tar --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		--sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		-C "$root" -cf "$work/$arch/layer.tar" kubectl-caps
	read -r layer layer_size < <(blob "$work/$arch/layer.tar")
	jq -cn --arg arch "$arch" --arg created "$created" --arg layer "$layer" '{
		architecture: $arch, os: "linux", created: $created,
		config: {Entrypoint: ["/kubectl-caps"], User: "65532:65532", WorkingDir: "/",
			Env: ["PATH=/"], Labels: {"org.opencontainers.image.source": "https://github.com/kubectl-caps/kubectl-caps"}},
		rootfs: {type: "layers", diff_ids: [$layer]},
		history: [{created: $created, created_by: "hack/release/image.sh"}]
	}' | tr -d '\n' >"$work/$arch/config.json"
	read -r config config_size < <(blob "$work/$arch/config.json")
	jq -cn --arg config "$config" --argjson config_size "$config_size" --arg layer "$layer" --argjson layer_size "$layer_size" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $config, size: $config_size},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $layer, size: $layer_size}]
	}' | tr -d '\n' >"$work/$arch/manifest.json"
	read -r manifest manifest_size < <(blob "$work/$arch/manifest.json")
	manifests+=("$(jq -cn --arg d "$manifest" --argjson s "$manifest_size" --arg arch "$arch" \
		'{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s, platform: {architecture: $arch, os: "linux"}}')")
done

printf '%s\n' "${manifests[@]}" | jq -cs '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' |
	tr -d '\n' >"$out/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
printf 'image: OCI layout of linux/amd64 and linux/arm64 in %s\n' "$out" >&2
