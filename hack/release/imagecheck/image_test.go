// Package imagecheck holds the test of hack/release/image.sh: the
// reporter's container image as an OCI image layout, checked against the
// OCI image specification (v1.1: image-layout.md, image-index.md,
// manifest.md, config.md, descriptor.md, layer.md) without a container
// tool.
package imagecheck

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Platform  *struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	} `json:"platform"`
}

// build runs image.sh on fake binaries (their bytes name the platform).
func build(t *testing.T) (string, map[string]string) {
	t.Helper()
	dist := t.TempDir()
	bins := map[string]string{}
	for _, dir := range []string{"kubectl-caps_linux_amd64_v1", "kubectl-caps_linux_arm64_v8.0", "kubectl-caps_darwin_arm64_v8.0"} {
		if err := os.MkdirAll(filepath.Join(dist, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		body := "binary of " + dir
		bins[strings.Split(dir, "_")[1]+"/"+strings.Split(dir, "_")[2]] = body
		if err := os.WriteFile(filepath.Join(dist, dir, "kubectl-caps"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "image")
	cmd := exec.Command("../image.sh", dist, out)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1796096384")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("image.sh: %v\n%s", err, b)
	}
	return out, bins
}

// blob reads a descriptor's blob and checks its digest, size and media
// type.
func blob(t *testing.T, layout string, d descriptor, mediaType string) []byte {
	t.Helper()
	if d.MediaType != mediaType {
		t.Errorf("%s: media type %s, want %s", d.Digest, d.MediaType, mediaType)
	}
	hexd, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", hexd))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != hexd || int64(len(b)) != d.Size {
		t.Errorf("blob %s: sha256 %x and size %d, descriptor says %d", d.Digest, sum, len(b), d.Size)
	}
	return b
}

func TestImageLayout(t *testing.T) {
	layout, bins := build(t)
	if b, err := os.ReadFile(filepath.Join(layout, "oci-layout")); err != nil || string(b) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout: %q %v", b, err)
	}
	var index struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if index.SchemaVersion != 2 || index.MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("index: schemaVersion %d, mediaType %s", index.SchemaVersion, index.MediaType)
	}
	var platforms []string
	blobs := 0
	for _, m := range index.Manifests {
		platform := m.Platform.OS + "/" + m.Platform.Architecture
		platforms = append(platforms, platform)
		var man struct {
			SchemaVersion int          `json:"schemaVersion"`
			MediaType     string       `json:"mediaType"`
			Config        descriptor   `json:"config"`
			Layers        []descriptor `json:"layers"`
		}
		if err := json.Unmarshal(blob(t, layout, m, "application/vnd.oci.image.manifest.v1+json"), &man); err != nil {
			t.Fatal(err)
		}
		if man.SchemaVersion != 2 || man.MediaType != "application/vnd.oci.image.manifest.v1+json" || len(man.Layers) != 1 {
			t.Fatalf("%s: manifest %+v", platform, man)
		}
		var cfg struct {
			Architecture, OS, Created string
			Config                    struct {
				Entrypoint []string
				User       string
			}
			RootFS struct {
				Type    string   `json:"type"`
				DiffIDs []string `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(blob(t, layout, man.Config, "application/vnd.oci.image.config.v1+json"), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.OS+"/"+cfg.Architecture != platform || cfg.Created != "2026-12-01T03:39:44Z" {
			t.Errorf("%s: config is for %s/%s, created %s", platform, cfg.OS, cfg.Architecture, cfg.Created)
		}
		if !slices.Equal(cfg.Config.Entrypoint, []string{"/kubectl-caps"}) || cfg.Config.User != "65532:65532" {
			t.Errorf("%s: entrypoint %q, user %q", platform, cfg.Config.Entrypoint, cfg.Config.User)
		}
		// An uncompressed layer's diff_id is its digest.
		if cfg.RootFS.Type != "layers" || !slices.Equal(cfg.RootFS.DiffIDs, []string{man.Layers[0].Digest}) {
			t.Errorf("%s: rootfs %+v, layer %s", platform, cfg.RootFS, man.Layers[0].Digest)
		}
		tr := tar.NewReader(bytes.NewReader(blob(t, layout, man.Layers[0], "application/vnd.oci.image.layer.v1.tar")))
		var files []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			files = append(files, h.Name)
			body, _ := io.ReadAll(tr)
			if h.Name == "kubectl-caps" && (h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 || string(body) != bins[platform] || h.ModTime.Unix() != 1796096384) {
				t.Errorf("%s: /kubectl-caps mode %o owner %d:%d time %d, body %q, want %q", platform, h.Mode, h.Uid, h.Gid, h.ModTime.Unix(), body, bins[platform])
			}
		}
		if !slices.Equal(files, []string{"kubectl-caps"}) {
			t.Errorf("%s: layer holds %q, want only kubectl-caps", platform, files)
		}
		blobs += 3
	}
	if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %q", platforms)
	}
	if es, _ := os.ReadDir(filepath.Join(layout, "blobs", "sha256")); len(es) != blobs {
		t.Errorf("%d blobs, want %d: one manifest, config and layer per platform", len(es), blobs)
	}
}

// The same binaries and SOURCE_DATE_EPOCH give the same bytes.
func TestImageReproducible(t *testing.T) {
	a, _ := build(t)
	b, _ := build(t)
	for _, name := range []string{"index.json", "oci-layout"} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds:\n%s\n%s", name, x, y)
		}
	}
}
