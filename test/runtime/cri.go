//go:build runtime

package runtimetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerdSetup says how to start one containerd.
type containerdSetup struct {
	name       string // for logs: "containerd 2.4 (module proxy)"
	containerd string // binary
	ctr        string
	runc       string
	path       string // PATH for containerd, so that it finds its shim
	configV3   bool   // containerd 2.x config (version 3) or 1.x (version 2)
}

// criDaemon is a running containerd and its CRI client.
type criDaemon struct {
	setup   containerdSetup
	dir     string
	sock    string
	cmd     *exec.Cmd
	logFile *os.File
	conn    *grpc.ClientConn
	rt      runtimeapi.RuntimeServiceClient
	version string // RuntimeVersion as the kubelet reads it
	sandbox string
	sbCfg   *runtimeapi.PodSandboxConfig
	logDir  string
}

// config writes containerd's configuration: its own root, state and
// socket; the CRI plugin with restrict_oom_score_adj (the kubelet asks for
// oom_score_adj -998 for the sandbox, which needs CAP_SYS_RESOURCE; where
// the host's bounding set lacks it runc fails, and a node in a container is
// exactly where containerd's docs say to set this), runc as the only
// runtime (the harness's own binary), overlayfs, and the pause image the
// harness imported. No CNI: every sandbox uses the host network.
func (d *criDaemon) config(snapshotter string) string {
	s := d.setup
	if s.configV3 {
		return fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      snapshotter = %[6]q
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = %[4]q
[plugins."io.containerd.cri.v1.images"]
  snapshotter = %[6]q
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = %[5]q
`, filepath.Join(d.dir, "root"), filepath.Join(d.dir, "state"), d.sock, s.runc, pauseImage, snapshotter)
	}
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  enable_selinux = false
  sandbox_image = %[5]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = %[6]q
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = %[4]q
`, filepath.Join(d.dir, "root"), filepath.Join(d.dir, "state"), d.sock, s.runc, pauseImage, snapshotter)
}

// startContainerd starts containerd in dir, imports the images and runs
// the one pod sandbox every case's container joins.
func startContainerd(ctx context.Context, s containerdSetup, dir, images, snapshotter string) (*criDaemon, error) {
	d := &criDaemon{setup: s, dir: dir, sock: filepath.Join(dir, "containerd.sock"), logDir: filepath.Join(dir, "logs")}
	if err := os.MkdirAll(d.logDir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(d.config(snapshotter)), 0o644); err != nil {
		return nil, err
	}
	var err error
	if d.logFile, err = os.Create(filepath.Join(dir, "containerd.log")); err != nil {
		return nil, err
	}
	d.cmd = exec.Command(s.containerd, "--config", cfg, "--log-level", "warn")
	d.cmd.Env = append(os.Environ(), "PATH="+s.path)
	d.cmd.Stdout, d.cmd.Stderr = d.logFile, d.logFile
	// Its own process group, so that a test killed midway does not leave a
	// daemon behind in the test binary's group, and so Stop ends only it.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.containerd, err)
	}
	if err := waitSocket(ctx, d.sock, d.cmd, 30*time.Second); err != nil {
		d.stop()
		return nil, fmt.Errorf("%s did not start: %w\n%s", s.name, err, tail(d.logFile.Name()))
	}
	if out, err := exec.CommandContext(ctx, s.ctr, "--address", d.sock, "-n", "k8s.io", "images", "import", "--snapshotter", snapshotter, images).CombinedOutput(); err != nil {
		d.stop()
		return nil, fmt.Errorf("ctr images import: %v\n%s", err, out)
	}
	d.conn, err = grpc.NewClient("unix://"+d.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		d.stop()
		return nil, err
	}
	d.rt = runtimeapi.NewRuntimeServiceClient(d.conn)
	v, err := d.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("CRI Version: %w", err)
	}
	d.version = v.RuntimeName + "://" + v.RuntimeVersion
	// The CRI plugin learns of images imported through ctr from
	// containerd's events, a moment after the import returns; until then
	// RunPodSandbox would try to pull the pause image from a registry. The
	// kubelet asks ImageStatus before it pulls; so does the harness.
	if err := d.waitImages(ctx, pauseImage, probeImage, probeNonRootImage); err != nil {
		d.stop()
		return nil, err
	}
	d.sbCfg = &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "capprobe", Uid: "kubectl-caps-capprobe", Namespace: "kubectl-caps"},
		LogDirectory: d.logDir,
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			// The kubelet marks the sandbox privileged when any container
			// of the pod is (kubernetes v1.37.2
			// pkg/kubelet/kuberuntime/kuberuntime_sandbox.go
			// generatePodSandboxLinuxConfig), and containerd refuses a
			// privileged container in an unprivileged sandbox. The one
			// shared sandbox hosts both kinds, so it is privileged; that
			// changes nothing for the unprivileged containers in it.
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				Privileged:       true,
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
			},
		},
	}
	sb, err := d.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: d.sbCfg})
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("RunPodSandbox: %w\n%s", err, tail(d.logFile.Name()))
	}
	d.sandbox = sb.PodSandboxId
	return d, nil
}

func (d *criDaemon) waitImages(ctx context.Context, refs ...string) error {
	is := runtimeapi.NewImageServiceClient(d.conn)
	deadline := time.Now().Add(60 * time.Second)
	for _, ref := range refs {
		for {
			r, err := is.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
			if err == nil && r.Image != nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the CRI does not see the imported image %s (last error: %v)", ref, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// run creates, starts and waits for one container, the kubelet's calls
// for a container of a running pod, and reads what capprobe printed.
func (d *criDaemon) run(ctx context.Context, name string, c *tcase) outcome {
	img, uid := c.image()
	sc := effectiveSecurityContext(c.Pod, c.container())
	if err := verifyRunAsNonRoot(sc, c.container().Name, uid); err != nil {
		return outcome{Refused: true, By: "kubelet", Message: err.Error()}
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: img},
		Command:  c.command(),
		LogPath:  name + ".log",
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       &runtimeapi.LinuxContainerResources{},
			SecurityContext: criSecurityContext(sc, uid),
		},
	}
	cr, err := d.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: d.sandbox, Config: cfg, SandboxConfig: d.sbCfg})
	if err != nil {
		return outcome{Refused: true, By: "runtime", Message: "CreateContainer: " + status.Convert(err).Message()}
	}
	id := cr.ContainerId
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		d.rt.RemoveContainer(rctx, &runtimeapi.RemoveContainerRequest{ContainerId: id})
	}()
	if _, err := d.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		return outcome{Refused: true, By: "runtime", Message: "StartContainer: " + status.Convert(err).Message()}
	}
	var st *runtimeapi.ContainerStatus
	for {
		r, err := d.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		if err != nil {
			return harnessError("ContainerStatus: %v", err)
		}
		if r.Status.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			st = r.Status
			break
		}
		select {
		case <-ctx.Done():
			return harnessError("container did not exit: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return readProbe(filepath.Join(d.logDir, cfg.LogPath), st.ExitCode, st.Reason+" "+st.Message)
}

// harnessError is an outcome that is neither a measurement nor a refusal:
// the harness itself failed, and the case fails whatever was predicted.
func harnessError(format string, args ...any) outcome {
	return outcome{Refused: true, By: "harness", Message: fmt.Sprintf(format, args...)}
}

// readProbe reads capprobe's line from a CRI log file (the kubelet's log
// format: "<time> <stream> <tag> <content>", docs of
// k8s.io/cri-api ContainerConfig.log_path). The runtime may still be
// copying the output when the exit is reported, so it retries briefly.
func readProbe(path string, exitCode int32, reason string) outcome {
	deadline := time.Now().Add(3 * time.Second)
	for {
		var stdout, stderr []string
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				parts := strings.SplitN(sc.Text(), " ", 4)
				if len(parts) < 4 {
					continue
				}
				if parts[1] == "stdout" {
					stdout = append(stdout, parts[3])
				} else {
					stderr = append(stderr, parts[3])
				}
			}
			f.Close()
		}
		for _, l := range stdout {
			if strings.HasPrefix(l, "{") {
				o, err := parseStatus(l)
				if err != nil {
					return harnessError("%v", err)
				}
				return o
			}
		}
		if time.Now().After(deadline) {
			return harnessError("capprobe printed no status (exit code %d, %s): stderr %q", exitCode, strings.TrimSpace(reason), strings.Join(stderr, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop removes the sandbox and ends containerd (SIGTERM, then SIGKILL),
// which takes its shims with it once their containers are gone.
func (d *criDaemon) stop() {
	if d.rt != nil && d.sandbox != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: d.sandbox})
		d.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: d.sandbox})
		cancel()
	}
	if d.conn != nil {
		d.conn.Close()
	}
	stopProcess(d.cmd)
	if d.logFile != nil {
		d.logFile.Close()
	}
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func waitSocket(ctx context.Context, sock string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(sock); err == nil {
			return nil
		}
		if cmd.ProcessState != nil {
			return fmt.Errorf("exited: %v", cmd.ProcessState)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("no socket %s after %v", sock, timeout)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
