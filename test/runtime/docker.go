//go:build runtime

package runtimetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// dockerAPI is the Engine API version of Docker 20.10.
const dockerAPI = "/v1.41"

// dockerDaemon is a running dockerd with its own data-root, exec-root and
// socket, and no bridge or iptables (containers use the host network, as a
// hostNetwork pod's containers do under cri-dockerd).
type dockerDaemon struct {
	dir     string
	sock    string
	cmd     *exec.Cmd
	logFile *os.File
	http    *http.Client
	version string // "docker://<Engine version>", as cri-dockerd reports it
}

func startDocker(ctx context.Context, dockerd, dir, images string) (*dockerDaemon, error) {
	d := &dockerDaemon{dir: dir, sock: filepath.Join(dir, "docker.sock")}
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}
	var err error
	if d.logFile, err = os.Create(filepath.Join(dir, "dockerd.log")); err != nil {
		return nil, err
	}
	d.cmd = exec.Command(dockerd,
		"--config-file", cfg,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://"+d.sock,
		"--bridge", "none", "--iptables=false", "--ip-masq=false",
		"--storage-driver", "overlay2",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
	)
	// Debian's containerd and runc, which dockerd starts and calls by name.
	d.cmd.Env = append(os.Environ(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	d.cmd.Stdout, d.cmd.Stderr = d.logFile, d.logFile
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", dockerd, err)
	}
	d.http = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.sock)
	}}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var v struct{ Version string }
		if err := d.call(ctx, "GET", "/version", nil, &v); err == nil {
			d.version = "docker://" + v.Version
			break
		}
		if time.Now().After(deadline) {
			d.stop()
			return nil, fmt.Errorf("dockerd did not answer on %s\n%s", d.sock, tail(d.logFile.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	f, err := os.Open(images)
	if err != nil {
		d.stop()
		return nil, err
	}
	defer f.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://docker"+dockerAPI+"/images/load?quiet=1", f)
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := d.http.Do(req)
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("docker images/load: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || bytes.Contains(body, []byte(`"error"`)) {
		d.stop()
		return nil, fmt.Errorf("docker images/load: %s: %s", resp.Status, body)
	}
	return d, nil
}

// call does one Engine API request with a JSON body and decodes a JSON
// answer; an HTTP error becomes an error carrying the daemon's message.
func (d *dockerDaemon) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+dockerAPI+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var m struct{ Message string }
		if json.Unmarshal(b, &m) == nil && m.Message != "" {
			return fmt.Errorf("%s", m.Message)
		}
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	if out != nil {
		if rw, ok := out.(*[]byte); ok {
			*rw = b
			return nil
		}
		return json.Unmarshal(b, out)
	}
	return nil
}

// run creates a container the way cri-dockerd does for a CRI
// CreateContainer (cri-dockerd core/security_context.go modifyHostConfig
// and modifyContainerConfig: HostConfig.CapAdd and CapDrop are the CRI
// strings unchanged, Privileged, SecurityOpt "no-new-privileges" when
// no_new_privs is set, Config.User the decimal run_as_user; and
// "seccomp=unconfined" from getSeccompDockerOpts when the pod sets no
// seccomp profile), starts it, waits and reads the probe's output.
func (d *dockerDaemon) run(ctx context.Context, name string, c *tcase) outcome {
	img, uid := c.image()
	sc := effectiveSecurityContext(c.Pod, c.container())
	if err := verifyRunAsNonRoot(sc, c.container().Name, uid); err != nil {
		return outcome{Refused: true, By: "kubelet", Message: err.Error()}
	}
	cri := criSecurityContext(sc, uid)
	hc := map[string]any{
		"NetworkMode": "host",
		"Privileged":  cri.Privileged,
		"SecurityOpt": []string{"seccomp=unconfined"},
		"LogConfig":   map[string]any{"Type": "json-file"},
	}
	if cri.Capabilities != nil {
		hc["CapAdd"] = cri.Capabilities.AddCapabilities
		hc["CapDrop"] = cri.Capabilities.DropCapabilities
	}
	if cri.NoNewPrivs {
		hc["SecurityOpt"] = append(hc["SecurityOpt"].([]string), "no-new-privileges")
	}
	user := strconv.FormatInt(cri.RunAsUser.Value, 10)
	if cri.RunAsGroup != nil {
		user += ":" + strconv.FormatInt(cri.RunAsGroup.Value, 10)
	}
	cfg := map[string]any{
		"Image":      img,
		"Entrypoint": c.command(),
		"User":       user,
		"HostConfig": hc,
	}
	var created struct{ Id string }
	if err := d.call(ctx, "POST", "/containers/create?name="+name, cfg, &created); err != nil {
		return outcome{Refused: true, By: "runtime", Message: "create: " + err.Error()}
	}
	defer d.call(context.WithoutCancel(ctx), "DELETE", "/containers/"+created.Id+"?force=1", nil, nil)
	if err := d.call(ctx, "POST", "/containers/"+created.Id+"/start", nil, nil); err != nil {
		return outcome{Refused: true, By: "runtime", Message: "start: " + err.Error()}
	}
	var w struct{ StatusCode int64 }
	if err := d.call(ctx, "POST", "/containers/"+created.Id+"/wait", nil, &w); err != nil {
		return harnessError("wait: %v", err)
	}
	var logs []byte
	if err := d.call(ctx, "GET", "/containers/"+created.Id+"/logs?stdout=1&stderr=1", nil, &logs); err != nil {
		return harnessError("logs: %v", err)
	}
	stdout, stderr := demux(logs)
	for _, l := range bytes.Split(stdout, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("{")) {
			o, err := parseStatus(string(l))
			if err != nil {
				return harnessError("%v", err)
			}
			return o
		}
	}
	return harnessError("capprobe printed no status (exit code %d): stderr %q", w.StatusCode, stderr)
}

// demux splits the Engine API's multiplexed log stream (8-byte headers:
// stream, 3 zero bytes, big-endian length).
func demux(b []byte) (stdout, stderr []byte) {
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b[4:8]))
		if 8+n > len(b) {
			break
		}
		if b[0] == 2 {
			stderr = append(stderr, b[8:8+n]...)
		} else {
			stdout = append(stdout, b[8:8+n]...)
		}
		b = b[8+n:]
	}
	return stdout, stderr
}

func (d *dockerDaemon) stop() {
	stopProcess(d.cmd)
	if d.logFile != nil {
		d.logFile.Close()
	}
}
