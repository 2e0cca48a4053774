#!/usr/bin/env bash
# The release tests, `make test-release`: the real goreleaser, the real krew
# and the real kubectl, offline except for the Go module proxy.
#
#  1. goreleaser check, then `goreleaser release --snapshot --clean` of the
#     working tree into dist/;
#  2. the archives: one per linux/darwin/windows x amd64/arm64, each with the
#     binary for its platform (read from the Go build info), LICENSE and the
#     completion shim; the checksums file matches them;
#  3. plugins/caps.yaml rendered for the snapshot from krew-manifest.yaml and
#     dist/ by hack/release/krew-render, which also checks that it agrees with
#     goreleaser's dist/krew/caps.yaml; validate-krew-manifest accepts it and
#     the committed plugins/caps.yaml;
#  4. krew installs every platform's archive with --archive (KREW_OS/KREW_ARCH),
#     and each holds the right binary, LICENSE and the shim;
#  5. on linux/amd64, as a user would: `kubectl krew install --manifest
#     --archive` into a temporary KREW_ROOT, then through the real kubectl
#     `kubectl caps explain NET_RAW`, `kubectl caps version`, `kubectl caps
#     __complete explain NET_`, and the completion shim installed as the
#     caveats say and reached through kubectl's own plugin completion;
#  6. the user's way, from a local index (a git repository) with the archives
#     served over loopback HTTP: validate-krew-manifest with its own installs
#     of every platform, then `kubectl krew update / install caps / list /
#     uninstall caps`;
#  7. the committed plugins/caps.yaml is current with krew-manifest.yaml;
#  8. the committed plugins/caps.yaml is reproduced byte for byte: a clean
#     clone of the commit it names, built with its tag, renders it again
#     (skipped, and said so, when the Go toolchain differs from the recorded
#     one, since another toolchain builds other bytes).
#
# Every step fails loudly; the last line counts the checks. Timing of each
# step goes to stderr. Tools: hack/release/tools.sh (goreleaser, krew,
# validate-krew-manifest, cached) and hack/testbin.sh (kubectl, cached).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

passed=0
skipped=0
current="setup"
ok() {
	passed=$((passed + 1))
	printf 'ok   %s\n' "$*"
}
fail() {
	printf 'FAIL %s\n' "$*" >&2
	printf '%d passed, 1 failed, %d skipped\n' "$passed" "$skipped" >&2
	exit 1
}
# Anything that fails without an explicit check (a tool exiting non-zero
# under set -e) still ends with the count and the step it happened in.
trap 'rc=$?; printf "FAIL %s (line %d: %s exited %d)\n%d passed, 1 failed, %d skipped\n" \
	"$current" "$LINENO" "$BASH_COMMAND" "$rc" "$passed" "$skipped" >&2' ERR
step() {
	current="$*"
	printf -- '--- %s\n' "$*" >&2
}
timed() { # timed LABEL CMD...: runs CMD, logs its duration
	local label="$1" t=$SECONDS
	shift
	"$@"
	printf '    (%s: %ds)\n' "$label" "$((SECONDS - t))" >&2
}

work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-test-release-XXXXXX")"
trap 'rm -rf "$work"' EXIT
start=$SECONDS

step "tools"
tools="$(timed "release tools" hack/release/tools.sh)"
kubectl_dir="$(timed "kubectl" hack/testbin.sh)"
# The wrapper supplies a remote URL to checkouts without one (see there).
goreleaser="$root/hack/release/goreleaser.sh"
# kubectl finds krew as a plugin (kubectl-krew) on PATH; this directory holds
# only that link, so no other kubectl plugin of the machine can interfere.
mkdir -p "$work/krew-bin"
ln -s "$tools/krew" "$work/krew-bin/kubectl-krew"
# A minimal PATH with the real kubectl first: the machine may have another
# kubectl, or another kubectl-caps (go install), whose presence would make
# `kubectl plugin list` warn and the test depend on the machine. kubectl and
# krew need nothing else; the shim needs sh.
base_path="$kubectl_dir:$work/krew-bin:/usr/bin:/bin"
[[ "$(PATH="$base_path" command -v kubectl)" == "$kubectl_dir/kubectl" ]] ||
	fail "kubectl on PATH is not the one from hack/testbin.sh"
# The krew started by kubectl must never reach GitHub: no upgrade check.
export KREW_NO_UPGRADE_CHECK=1

# ---------------------------------------------------------------------------
step "goreleaser check"
"$goreleaser" check >"$work/check.log" 2>&1 || { cat "$work/check.log" >&2; fail "goreleaser check"; }
ok "goreleaser check"

step "goreleaser release --snapshot --clean"
# What goreleaser should call this snapshot, derived from git rather than
# read back from dist/: the latest tag (v0.0.0 before the first release),
# -SNAPSHOT-, the short commit. Read before the build: in a shared checkout
# someone may commit while it runs.
last_tag="$(git describe --tags --abbrev=0 2>/dev/null || echo v0.0.0)"
tag="${last_tag}-SNAPSHOT-$(git show -s --format=%h HEAD)"
commit="$(git rev-parse HEAD)"
commit_date="$(date -u -d "@$(git show -s --format=%ct HEAD)" +%Y-%m-%dT%H:%M:%SZ)"
go_version="$(go env GOVERSION)"
# The test snapshot carries the SNAPSHOT marker, whatever the caller's env.
t=$SECONDS
env -u GORELEASER_CURRENT_TAG "$goreleaser" release --snapshot --clean >"$work/release.log" 2>&1 ||
	{ tail -40 "$work/release.log" >&2; fail "goreleaser release --snapshot --clean"; }
built="$(sed -n 's/.*"commit":"\([0-9a-f]*\)".*/\1/p' dist/metadata.json)"
[[ "$built" == "$commit" ]] ||
	fail "goreleaser built commit ${built:-?}, but HEAD was $commit when the test started (a commit landed meanwhile?); run again"
ok "goreleaser release --snapshot --clean ($((SECONDS - t))s)"

# ---------------------------------------------------------------------------
step "archives"
platforms=(darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64 windows/arm64)
archive_of() { # archive_of OS/ARCH
	local os="${1%/*}" arch="${1#*/}" ext=tar.gz
	[[ "$os" == windows ]] && ext=zip
	printf 'kubectl-caps_%s_%s_%s.%s' "$tag" "$os" "$arch" "$ext"
}
want_archives="$(for p in "${platforms[@]}"; do archive_of "$p"; echo; done | sort)"
got_archives="$(cd dist && { ls -1 -- *.tar.gz *.zip 2>/dev/null || true; } | sort)"
[[ "$got_archives" == "$want_archives" ]] ||
	fail "dist/ holds the archives"$'\n'"$got_archives"$'\n'"want"$'\n'"$want_archives"
ok "6 archives, one per platform: ${platforms[*]}"

sums="kubectl-caps_${tag}_checksums.txt"
(cd dist && sha256sum --check --strict --quiet "$sums") || fail "dist/$sums does not match the archives"
[[ "$(wc -l <"dist/$sums")" -eq 6 ]] || fail "dist/$sums should list exactly the 6 archives"
ok "dist/$sums matches the archives"

{
	printf '    archive sizes:\n'
	for p in "${platforms[@]}"; do
		a="$(archive_of "$p")"
		printf '    %10d bytes (%4.1f MiB)  %s\n' "$(stat -c %s "dist/$a")" \
			"$(awk -v b="$(stat -c %s "dist/$a")" 'BEGIN { print b / 1048576 }')" "$a"
	done
} >&2

# ---------------------------------------------------------------------------
step "render and validate the krew manifest"
mkdir -p "$work/index/plugins"
manifest="$work/index/plugins/caps.yaml"
# -allow-dirty: a developer's tree is rarely clean, and this manifest is for
# the test only; the committed one is rendered without it (step 6).
go run ./hack/release/krew-render -dist dist -tag "$tag" -allow-dirty \
	-goreleaser-manifest dist/krew/caps.yaml -o "$manifest" ||
	fail "krew-render"
ok "plugins/caps.yaml rendered for $tag, agrees with goreleaser's dist/krew/caps.yaml, shortDescription <= 50"

# validate-krew-manifest infers the plugin name from the file name and checks
# the structure, the selectors and that no two platforms overlap; its own
# install step downloads the URIs, which point to a release that does not
# exist, so the installs are done below from the local archives instead.
"$tools/validate-krew-manifest" -manifest "$manifest" -skip-install >"$work/validate.log" 2>&1 ||
	{ cat "$work/validate.log" >&2; fail "validate-krew-manifest rejects the rendered manifest"; }
ok "validate-krew-manifest accepts the rendered manifest"
"$tools/validate-krew-manifest" -manifest plugins/caps.yaml -skip-install >"$work/validate-committed.log" 2>&1 ||
	{ cat "$work/validate-committed.log" >&2; fail "validate-krew-manifest rejects the committed plugins/caps.yaml"; }
ok "validate-krew-manifest accepts the committed plugins/caps.yaml"

# ---------------------------------------------------------------------------
step "krew installs every platform"
for p in "${platforms[@]}"; do
	os="${p%/*}" arch="${p#*/}" exe=""
	[[ "$os" == windows ]] && exe=.exe
	kr="$work/krew-$os-$arch"
	KREW_ROOT="$kr" KREW_OS="$os" KREW_ARCH="$arch" PATH="$base_path" \
		kubectl krew install --manifest="$manifest" --archive="dist/$(archive_of "$p")" >"$work/install.log" 2>&1 ||
		{ cat "$work/install.log" >&2; fail "krew install for $p"; }
	store="$kr/store/caps/$tag"
	got="$(cd "$store" && ls -1A | sort)"
	want="$(printf '%s\n' LICENSE "kubectl-caps$exe" kubectl_complete-caps | sort)"
	[[ "$got" == "$want" ]] || fail "$p: krew installed"$'\n'"$got"$'\n'"want"$'\n'"$want"
	cmp -s "$store/LICENSE" LICENSE || fail "$p: the installed LICENSE is not the repository's"
	cmp -s "$store/kubectl_complete-caps" completion/kubectl_complete-caps || fail "$p: the installed shim differs"
	[[ -x "$store/kubectl_complete-caps" && -x "$store/kubectl-caps$exe" ]] || fail "$p: shim or binary not executable"
	[[ -e "$kr/bin/kubectl-caps$exe" ]] || fail "$p: krew made no kubectl-caps$exe in \$KREW_ROOT/bin"
	# The Go build info says what the binary is, on any platform.
	info="$(go version -m "$store/kubectl-caps$exe")"
	for want in "GOOS=$os" "GOARCH=$arch" "CGO_ENABLED=0" "-trimpath=true" "vcs.revision=$commit"; do
		grep -q -- "[[:space:]]$want\$" <<<"$info" || fail "$p: build info lacks $want:"$'\n'"$info"
	done
	grep -q "^$store/kubectl-caps$exe: $go_version\$" <<<"$info" || fail "$p: not built with $go_version"
done
ok "krew installs all 6 archives: binary for the right GOOS/GOARCH (CGO off, trimpath, commit), LICENSE, shim"

# ---------------------------------------------------------------------------
step "linux/amd64 through the real kubectl"
export KREW_ROOT="$work/krew-root"
user_path="$KREW_ROOT/bin:$base_path"
kc() { PATH="$user_path" kubectl "$@"; }
kc krew install --manifest="$manifest" --archive="dist/$(archive_of linux/amd64)" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "kubectl krew install --manifest --archive"; }
# krew prints the caveats after installing; they must tell how to get the shim.
grep -q "store/caps/$tag/kubectl_complete-caps" "$work/install.log" ||
	fail "krew install did not print caveats naming the shim:"$'\n'"$(cat "$work/install.log")"
ok "kubectl krew install --manifest --archive into a fresh KREW_ROOT, caveats shown"

# Captured first: grep -q in a pipe would exit at the first match, and under
# pipefail kubectl's SIGPIPE on its next line would fail the check at random.
out="$(kc plugin list 2>/dev/null)" || fail "kubectl plugin list exited non-zero (a plugin warning?)"
grep -qx "$KREW_ROOT/bin/kubectl-caps" <<<"$out" || fail "kubectl plugin list does not show the krew-installed kubectl-caps:"$'\n'"$out"
ok "kubectl plugin list finds \$KREW_ROOT/bin/kubectl-caps"

# CAP_NET_RAW is capability 13 (include/uapi/linux/capability.h;
# docs/sources.md#capability-numbers); the page opens
# with its name and number.
out="$(kc caps explain NET_RAW)" || fail "kubectl caps explain NET_RAW exited non-zero"
[[ "$(head -1 <<<"$out")" == "CAPABILITY: CAP_NET_RAW (13)" ]] ||
	fail "kubectl caps explain NET_RAW starts with"$'\n'"$(head -3 <<<"$out")"
# containerd grants NET_RAW by default, CRI-O (since 1.18) does not
# (docs/sources.md#containerd-defaults, #crio-1-18).
grep -Eq '^DEFAULT IN: +containerd.*not cri-o' <<<"$out" || fail "explain NET_RAW lacks the runtime defaults line"
ok "kubectl caps explain NET_RAW (through kubectl, from \$KREW_ROOT/bin)"

# The -X values of the release build: version, full commit, commit date.
out="$(kc caps version)" || fail "kubectl caps version exited non-zero"
for want in " $tag " "commit $commit" "built $commit_date" "$go_version" "linux/amd64"; do
	[[ "$out" == *"$want"* ]] || fail "kubectl caps version says \"$out\", missing \"$want\""
done
# --version is the root command's flag; it must print the same line.
[[ "$(kc caps --version)" == "$out" ]] || fail "kubectl caps --version differs from kubectl caps version: $(kc caps --version)"
ok "kubectl caps version and --version: $tag, commit $commit, built $commit_date"

# The four capabilities whose names start with NET_ (docs/sources.md#capability-numbers:
# NET_BIND_SERVICE 10, NET_BROADCAST 11, NET_ADMIN 12, NET_RAW 13).
want_net="$(printf '%s\n' NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW)"
candidates() { # cobra's __complete output: candidates (TAB description), then :directive
	grep -v '^:' | cut -f1 | grep -v '^$' | sort
}
out="$(kc caps __complete explain NET_ 2>/dev/null)" || fail "kubectl caps __complete exited non-zero"
[[ "$(candidates <<<"$out")" == "$want_net" ]] || fail "kubectl caps __complete explain NET_ offers"$'\n'"$out"
grep -q '^:[0-9]\+$' <<<"$(tail -1 <<<"$out")" || fail "kubectl caps __complete ends without a :directive line"
ok "kubectl caps __complete explain NET_ offers NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW"

# The shim, installed exactly as the caveats say, and reached the way a shell
# reaches it: kubectl's own __complete finds kubectl_complete-caps on PATH.
cp "$KREW_ROOT/store/caps/$tag/kubectl_complete-caps" "$KREW_ROOT/bin/"
out="$(kc __complete caps explain NET_ 2>/dev/null)" || fail "kubectl __complete caps exited non-zero"
[[ "$(candidates <<<"$out")" == "$want_net" ]] || fail "kubectl __complete caps explain NET_ (via the shim) offers"$'\n'"$out"
ok "kubectl __complete caps explain NET_ through kubectl_complete-caps offers the same four"

unset KREW_ROOT

# ---------------------------------------------------------------------------
step "krew from a local index, archives over HTTP"
# What users will run is `kubectl krew install caps`: krew reads the manifest
# from its index (a git repository of plugins/*.yaml) and downloads the
# archive from its uri. Here the index is a local git repository and the
# release downloads come from dist/ over a loopback HTTP server.
go build -o "$work/fileserver" ./hack/release/fileserver
"$work/fileserver" "$root/dist" >"$work/fileserver.url" 2>"$work/fileserver.log" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [[ -s "$work/fileserver.url" ]] && break; sleep 0.1; done
base_url="$(cat "$work/fileserver.url")"
[[ "$base_url" == http://127.0.0.1:*/ ]] || fail "the file server did not start: $(cat "$work/fileserver.log")"
index="$work/local-index"
mkdir -p "$index/plugins"
sed "s|https://github.com/kubectl-caps/kubectl-caps/releases/download/$tag/|$base_url|" "$manifest" >"$index/plugins/caps.yaml"
[[ "$(grep -c "^    uri: $base_url" "$index/plugins/caps.yaml")" -eq 6 ]] || fail "not all 6 uris were pointed at $base_url"

# Without -skip-install, validate-krew-manifest installs every platform
# itself (downloading, checking the sha256, unpacking, KREW_OS/KREW_ARCH) and
# requires a LICENSE among the installed files.
PATH="$base_path" "$tools/validate-krew-manifest" -manifest "$index/plugins/caps.yaml" >"$work/validate-full.log" 2>&1 ||
	{ cat "$work/validate-full.log" >&2; fail "validate-krew-manifest with installs"; }
ok "validate-krew-manifest installs all 6 platforms from their uris and finds the LICENSE"

git -C "$index" init -q
git -C "$index" add plugins/caps.yaml
git -C "$index" -c user.name=test-release -c user.email=test-release@invalid commit -q -m "caps $tag"
export KREW_ROOT="$work/krew-index-root" KREW_DEFAULT_INDEX_URI="$index"
kc krew update >"$work/update.log" 2>&1 || { cat "$work/update.log" >&2; fail "kubectl krew update from the local index"; }
kc krew install caps >"$work/install-by-name.log" 2>&1 || { cat "$work/install-by-name.log" >&2; fail "kubectl krew install caps"; }
out="$(kc krew list 2>/dev/null)" || fail "kubectl krew list"
# Piped, `krew list` prints names only; the version is in krew's receipt.
grep -qx caps <<<"$out" || fail "kubectl krew list shows"$'\n'"$out"
grep -q "^  version: $tag\$" "$KREW_ROOT/receipts/caps.yaml" || fail "krew's receipt does not record version $tag"
out="$(kc caps explain NET_RAW)" || fail "kubectl caps explain NET_RAW after install by name"
[[ "$(head -1 <<<"$out")" == "CAPABILITY: CAP_NET_RAW (13)" ]] || fail "explain after install by name starts with $(head -1 <<<"$out")"
ok "kubectl krew update / install caps / list from a local index, archive downloaded over HTTP"
kc krew uninstall caps >"$work/uninstall.log" 2>&1 || { cat "$work/uninstall.log" >&2; fail "kubectl krew uninstall caps"; }
[[ ! -e "$KREW_ROOT/bin/kubectl-caps" && ! -e "$KREW_ROOT/store/caps" ]] || fail "krew uninstall left kubectl-caps behind"
ok "kubectl krew uninstall caps removes it"
unset KREW_ROOT KREW_DEFAULT_INDEX_URI

# ---------------------------------------------------------------------------
step "the committed plugins/caps.yaml is current"
# It must be what the current krew-manifest.yaml renders, up to what depends
# on the build: the header, the tag and the sha256 values.
rec_tag="$(sed -n 's/^  version: \(v[^ ]*\)$/\1/p' plugins/caps.yaml)"
[[ -n "$rec_tag" ]] || fail "plugins/caps.yaml has no spec.version"
normalize() { # drop the header comment, blank the sha256 values
	grep -v '^#' "$1" | sed 's/^\( *sha256:\) [0-9a-f]\{64\}$/\1 -/'
}
diff -u <(normalize plugins/caps.yaml) <(normalize "$manifest" | sed "s/$tag/$rec_tag/g") >&2 ||
	fail "plugins/caps.yaml is stale: krew-manifest.yaml renders differently now; run hack/release/plugin-manifest.sh $rec_tag and commit"
ok "plugins/caps.yaml ($rec_tag) matches what krew-manifest.yaml renders, sha256 aside"

step "reproduce the committed plugins/caps.yaml"
# Its header names the commit and toolchain it was built from:
#   # archives of commit <sha> (<go version>). Do not edit; ...
rec="$(sed -n 's/^# archives of commit \([0-9a-f]\{40\}\) (\([^),]*\))\. Do not edit.*/\1 \2/p' plugins/caps.yaml)"
[[ -n "$rec" ]] || fail "plugins/caps.yaml has no '# archives of commit <sha> (<go>)' header from a clean build"
read -r rec_commit rec_go <<<"$rec"
if [[ "$rec_go" != "$go_version" ]]; then
	skipped=$((skipped + 1))
	printf 'skip plugins/caps.yaml was built with %s, this is %s: other bytes are expected\n' "$rec_go" "$go_version"
else
	# plugin-manifest.sh builds in a clone, not here: nothing of this
	# checkout (its index, its tags, others' uncommitted files) is touched or
	# seen, and the build runs in another directory, which -trimpath must
	# make irrelevant.
	t=$SECONDS
	hack/release/plugin-manifest.sh "$rec_tag" "$rec_commit" "$work/reproduced.yaml" 2>"$work/reproduce.log" ||
		{ tail -40 "$work/reproduce.log" >&2; fail "release build of $rec_commit as $rec_tag"; }
	diff -u plugins/caps.yaml "$work/reproduced.yaml" >&2 ||
		fail "plugins/caps.yaml is not what commit $rec_commit builds as $rec_tag (the build is not reproducible, or the file was edited)"
	ok "plugins/caps.yaml reproduced byte for byte from a clean clone of ${rec_commit:0:12} as $rec_tag ($((SECONDS - t))s)"
fi

current="done"
printf '%d passed, 0 failed, %d skipped (%ds)\n' "$passed" "$skipped" "$((SECONDS - start))"
