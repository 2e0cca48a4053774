//go:build runtime

package runtimetest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// The images the harness builds. No registry is reachable, so they are
// built here from the capprobe binary and imported into each runtime.
const (
	probeImage        = "localhost/kubectl-caps/capprobe:test"
	probeNonRootImage = "localhost/kubectl-caps/capprobe-nonroot:test"
	pauseImage        = "localhost/kubectl-caps/pause:test"

	// Paths inside the images.
	probePath    = "/capprobe"      // plain copy
	probeFcap    = "/capprobe-fcap" // carries file capabilities: all 41 permitted, no effective bit
	probeSetuid  = "/capprobe-suid" // owned by root, mode 04755
	nonRootImgID = 1000             // the USER of probeNonRootImage
)

// fileCapsAll is the security.capability extended attribute that
// `setcap =p` would write for all 41 capabilities: struct vfs_cap_data
// revision 2 (include/uapi/linux/capability.h), little-endian: magic_etc =
// VFS_CAP_REVISION_2, then {permitted, inheritable} for the low and the
// high 32 bits. The effective flag is left clear on purpose: with it, the
// kernel refuses the exec (EPERM) whenever the bounding set lacks one of
// the file's permitted capabilities (security/commoncap.c
// bprm_caps_from_vfs_caps, "insufficient to execute correctly"), which is
// every container's case. Without it the exec succeeds, the new permitted
// set is the file's permitted set within the bounding set (and, with
// no_new_privs, within the old permitted set), and the effective set stays
// empty until the program raises it: the probe measures the permitted set.
func fileCapsAll() string {
	var b [20]byte
	binary.LittleEndian.PutUint32(b[0:], 0x02000000)
	binary.LittleEndian.PutUint32(b[4:], 0xffffffff) // permitted, caps 0-31
	binary.LittleEndian.PutUint32(b[8:], 0)          // inheritable
	binary.LittleEndian.PutUint32(b[12:], 0x1ff)     // permitted, caps 32-40
	binary.LittleEndian.PutUint32(b[16:], 0)
	return string(b[:])
}

// buildProbe compiles test/runtime/capprobe as a static binary.
func buildProbe(dir string) (string, error) {
	out := filepath.Join(dir, "capprobe")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./capprobe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building capprobe: %v\n%s", err, b)
	}
	return out, nil
}

type layerFile struct {
	name   string
	mode   int64
	xattrs map[string]string
}

// layerTar is one uncompressed layer holding the probe three times. The
// file capability travels as a PAX "SCHILY.xattr." record, which both
// containerd's and moby's tar appliers write back with setxattr.
func layerTar(probe []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	for _, f := range []layerFile{
		{name: probePath[1:], mode: 0o755},
		{name: probeFcap[1:], mode: 0o755, xattrs: map[string]string{"security.capability": fileCapsAll()}},
		{name: probeSetuid[1:], mode: 0o4755},
	} {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(probe)), ModTime: mtime, Format: tar.FormatPAX}
		if f.xattrs != nil {
			h.PAXRecords = map[string]string{}
			for k, v := range f.xattrs {
				h.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		must(tw.WriteHeader(h))
		_, err := tw.Write(probe)
		must(err)
	}
	for _, d := range []string{"proc/", "sys/", "dev/", "etc/", "tmp/"} {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}))
	}
	must(tw.Close())
	return buf.Bytes()
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type imageSpec struct {
	ref        string
	entrypoint []string
	user       string
}

// writeImages writes one archive holding the three images in both formats
// at once: an OCI image layout (oci-layout, index.json, blobs/), which
// `ctr images import` reads, and the legacy manifest.json beside it, the
// only format `docker load` reads before Docker 25 (moby
// image/tarexport/load.go). Docker 25+ writes archives the same way.
func writeImages(path string, probe []byte) error {
	layer := layerTar(probe)
	layerDigest := digestOf(layer)
	blobs := map[string][]byte{layerDigest: layer}
	type dockerManifest struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var legacy []dockerManifest
	var index []map[string]any
	for _, im := range []imageSpec{
		{ref: probeImage, entrypoint: []string{probePath}},
		{ref: probeNonRootImage, entrypoint: []string{probePath}, user: fmt.Sprint(nonRootImgID)},
		{ref: pauseImage, entrypoint: []string{probePath, "pause"}},
	} {
		cfg, err := json.Marshal(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"created":      "1970-01-01T00:00:00Z",
			"config":       map[string]any{"Entrypoint": im.entrypoint, "User": im.user, "Env": []string{"PATH=/"}},
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
		})
		if err != nil {
			return err
		}
		cfgDigest := digestOf(cfg)
		blobs[cfgDigest] = cfg
		man, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfgDigest, "size": len(cfg)},
			"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": len(layer)}},
		})
		if err != nil {
			return err
		}
		manDigest := digestOf(man)
		blobs[manDigest] = man
		index = append(index, map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest":    manDigest,
			"size":      len(man),
			"platform":  map[string]string{"architecture": "amd64", "os": "linux"},
			"annotations": map[string]string{
				"io.containerd.image.name":          im.ref,
				"org.opencontainers.image.ref.name": "test",
			},
		})
		legacy = append(legacy, dockerManifest{Config: blobPath(cfgDigest), RepoTags: []string{im.ref}, Layers: []string{blobPath(layerDigest)}})
	}
	idx, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": index})
	if err != nil {
		return err
	}
	lm, err := json.Marshal(legacy)
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	add := func(name string, b []byte) {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: mtime}))
		_, err := tw.Write(b)
		must(err)
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime}))
	}
	add("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	add("index.json", idx)
	add("manifest.json", lm)
	for d, b := range blobs {
		add(blobPath(d), b)
	}
	must(tw.Close())
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func blobPath(digest string) string { return "blobs/sha256/" + digest[len("sha256:"):] }
