//go:build runtime

package runtimetest

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

// Probe modes: what the container runs.
const (
	modePlain  = "plain"  // /capprobe as the entrypoint
	modeFcap   = "fcap"   // /capprobe-fcap (file capabilities) as the entrypoint
	modeSetuid = "setuid" // /capprobe execs /capprobe-suid (setuid root)
)

// tcase is one container to run: a pod spec as a user writes it, and which
// of its containers.
type tcase struct {
	Name  string
	Group string // "matrix", "examples", "corpus"
	Pod   *corev1.PodSpec
	Ref   engine.Ref
	Mode  string
}

func (c *tcase) container() *corev1.Container { return c.Ref.Container }

// command is the container's command: the harness replaces the manifest's
// image and command with the probe; the securityContext stays as written.
func (c *tcase) command() []string {
	switch c.Mode {
	case modeFcap:
		return []string{probeFcap}
	case modeSetuid:
		return []string{probePath, "exec", probeSetuid}
	}
	return []string{probePath}
}

// image picks the probe image whose USER the kubelet would accept: a
// runAsNonRoot container without runAsUser runs the image's user, which
// must then be non-root; every other container runs the root image (an
// unset user is root in the image, which is what the engine assumes).
func (c *tcase) image() (string, int64) {
	sc := effectiveSecurityContext(c.Pod, c.container())
	if sc.RunAsUser == nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot {
		return probeNonRootImage, nonRootImgID
	}
	return probeImage, 0
}

// skipReason says why a case is not run, or "".
func (c *tcase) skipReason() string {
	switch {
	case c.Pod.OS != nil && c.Pod.OS.Name == corev1.Windows:
		return "Windows pod: no Linux capabilities"
	case c.Pod.HostUsers != nil && !*c.Pod.HostUsers:
		return "hostUsers: false: the harness does not create user namespaces"
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func pod(sc *corev1.SecurityContext) *corev1.PodSpec {
	return &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: sc}}}
}

func capsSC(add, drop []string) *corev1.SecurityContext {
	c := &corev1.Capabilities{}
	for _, a := range add {
		c.Add = append(c.Add, corev1.Capability(a))
	}
	for _, d := range drop {
		c.Drop = append(c.Drop, corev1.Capability(d))
	}
	return &corev1.SecurityContext{Capabilities: c}
}

func matrixCase(name string, p *corev1.PodSpec, mode string) tcase {
	return tcase{Name: name, Group: "matrix", Pod: p, Ref: engine.Containers(p)[0], Mode: mode}
}

// matrixCases is the generated matrix of issue 11: every capability added
// and dropped alone, every spelling of ALL, prefixes, case, unknown names,
// the same name in add and drop, privileged, users and runAsNonRoot,
// allowPrivilegeEscalation, file capabilities and setuid.
func matrixCases() []tcase {
	var cs []tcase
	add := func(name string, sc *corev1.SecurityContext) {
		cs = append(cs, matrixCase(name, pod(sc), modePlain))
	}
	add("no securityContext", nil)
	add("empty securityContext", &corev1.SecurityContext{})
	for _, n := range capability.Names() {
		add("add "+n, capsSC([]string{n}, nil))
		add("drop "+n, capsSC(nil, []string{n}))
	}
	for _, all := range []string{"ALL", "all", "All"} {
		add("add "+all, capsSC([]string{all}, nil))
		add("drop "+all, capsSC(nil, []string{all}))
	}
	add("drop ALL add NET_BIND_SERVICE", capsSC([]string{"NET_BIND_SERVICE"}, []string{"ALL"}))
	add("drop all add net_bind_service", capsSC([]string{"net_bind_service"}, []string{"all"}))
	add("add CAP_NET_ADMIN", capsSC([]string{"CAP_NET_ADMIN"}, nil))
	add("add net_admin", capsSC([]string{"net_admin"}, nil))
	add("add cap_net_admin", capsSC([]string{"cap_net_admin"}, nil))
	add("add Net_Admin", capsSC([]string{"Net_Admin"}, nil))
	add("drop CAP_CHOWN", capsSC(nil, []string{"CAP_CHOWN"}))
	add("drop chown", capsSC(nil, []string{"chown"}))
	add("drop cap_net_raw", capsSC(nil, []string{"cap_net_raw"}))
	add("add CAP_ALL", capsSC([]string{"CAP_ALL"}, nil))
	add("drop CAP_ALL", capsSC(nil, []string{"CAP_ALL"}))
	add("add unknown FOO", capsSC([]string{"FOO"}, nil))
	add("drop unknown FOO", capsSC(nil, []string{"FOO"}))
	add("add unknown CAP_FOO", capsSC([]string{"CAP_FOO"}, nil))
	add("add NET_ADMIN drop NET_ADMIN", capsSC([]string{"NET_ADMIN"}, []string{"NET_ADMIN"}))
	add("add CHOWN drop CHOWN (default)", capsSC([]string{"CHOWN"}, []string{"CHOWN"}))
	add("add ALL drop ALL", capsSC([]string{"ALL"}, []string{"ALL"}))
	add("add ALL,NET_ADMIN drop NET_ADMIN", capsSC([]string{"ALL", "NET_ADMIN"}, []string{"NET_ADMIN"}))
	add("add ALL drop NET_ADMIN", capsSC([]string{"ALL"}, []string{"NET_ADMIN"}))
	add("add SYS_ADMIN drop ALL", capsSC([]string{"SYS_ADMIN"}, []string{"ALL"}))
	add("add CAP_SYS_ADMIN drop SYS_ADMIN", capsSC([]string{"CAP_SYS_ADMIN"}, []string{"SYS_ADMIN"}))

	priv := func(sc *corev1.SecurityContext) *corev1.SecurityContext {
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		sc.Privileged = ptr(true)
		return sc
	}
	add("privileged", priv(nil))
	add("privileged add NET_ADMIN", priv(capsSC([]string{"NET_ADMIN"}, nil)))
	add("privileged drop ALL", priv(capsSC(nil, []string{"ALL"})))
	add("privileged drop CHOWN", priv(capsSC(nil, []string{"CHOWN"})))
	add("privileged add FOO", priv(capsSC([]string{"FOO"}, nil)))
	add("privileged runAsUser 1000", priv(&corev1.SecurityContext{RunAsUser: ptr(int64(1000))}))
	add("privileged false", &corev1.SecurityContext{Privileged: ptr(false)})

	user := func(name string, uid *int64, nonRoot *bool, sc *corev1.SecurityContext) {
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		sc.RunAsUser, sc.RunAsNonRoot = uid, nonRoot
		add(name, sc)
	}
	user("runAsUser 0", ptr(int64(0)), nil, nil)
	user("runAsUser 1000", ptr(int64(1000)), nil, nil)
	user("runAsUser 0 runAsNonRoot", ptr(int64(0)), ptr(true), nil)
	user("runAsUser 1000 runAsNonRoot", ptr(int64(1000)), ptr(true), nil)
	user("runAsUser unset runAsNonRoot (image USER 1000)", nil, ptr(true), nil)
	user("runAsUser 0 runAsNonRoot false", ptr(int64(0)), ptr(false), nil)
	user("runAsUser 1000 add NET_ADMIN", ptr(int64(1000)), nil, capsSC([]string{"NET_ADMIN"}, nil))
	user("runAsUser 1000 drop ALL", ptr(int64(1000)), nil, capsSC(nil, []string{"ALL"}))
	user("runAsUser 1000 add ALL", ptr(int64(1000)), nil, capsSC([]string{"ALL"}, nil))
	// Pod and container levels merged as the kubelet merges them.
	merged := func(name string, psc *corev1.PodSecurityContext, sc *corev1.SecurityContext) {
		p := pod(sc)
		p.SecurityContext = psc
		cs = append(cs, matrixCase(name, p, modePlain))
	}
	merged("pod runAsUser 0, container runAsNonRoot", &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))}, &corev1.SecurityContext{RunAsNonRoot: ptr(true)})
	merged("pod runAsNonRoot, container runAsUser 0", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, &corev1.SecurityContext{RunAsUser: ptr(int64(0))})
	merged("pod runAsUser 1000, container runAsUser 0", &corev1.PodSecurityContext{RunAsUser: ptr(int64(1000))}, &corev1.SecurityContext{RunAsUser: ptr(int64(0))})
	merged("pod runAsUser 1000", &corev1.PodSecurityContext{RunAsUser: ptr(int64(1000))}, nil)
	merged("pod runAsNonRoot, container runAsNonRoot false, runAsUser 0", &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)}, &corev1.SecurityContext{RunAsNonRoot: ptr(false), RunAsUser: ptr(int64(0))})

	nnp := func(sc *corev1.SecurityContext) *corev1.SecurityContext {
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		sc.AllowPrivilegeEscalation = ptr(false)
		return sc
	}
	add("allowPrivilegeEscalation false", nnp(nil))
	add("allowPrivilegeEscalation true", &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)})
	add("allowPrivilegeEscalation false runAsUser 1000", nnp(&corev1.SecurityContext{RunAsUser: ptr(int64(1000))}))
	add("allowPrivilegeEscalation false drop ALL add NET_BIND_SERVICE", nnp(capsSC([]string{"NET_BIND_SERVICE"}, []string{"ALL"})))

	for _, m := range []struct{ mode, what string }{{modeFcap, "file-capability entrypoint"}, {modeSetuid, "setuid-root helper"}} {
		for _, v := range []struct {
			name string
			sc   func() *corev1.SecurityContext
		}{
			{"runAsUser 1000", func() *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: ptr(int64(1000))} }},
			{"runAsUser 1000 allowPrivilegeEscalation false", func() *corev1.SecurityContext {
				return nnp(&corev1.SecurityContext{RunAsUser: ptr(int64(1000))})
			}},
			{"runAsUser 1000 drop ALL add NET_BIND_SERVICE", func() *corev1.SecurityContext {
				sc := capsSC([]string{"NET_BIND_SERVICE"}, []string{"ALL"})
				sc.RunAsUser = ptr(int64(1000))
				return sc
			}},
			{"runAsUser 1000 drop ALL add NET_BIND_SERVICE allowPrivilegeEscalation false", func() *corev1.SecurityContext {
				sc := capsSC([]string{"NET_BIND_SERVICE"}, []string{"ALL"})
				sc.RunAsUser = ptr(int64(1000))
				return nnp(sc)
			}},
			{"runAsUser 1000 add NET_ADMIN", func() *corev1.SecurityContext {
				sc := capsSC([]string{"NET_ADMIN"}, nil)
				sc.RunAsUser = ptr(int64(1000))
				return sc
			}},
			{"runAsUser 1000 privileged", func() *corev1.SecurityContext {
				return &corev1.SecurityContext{RunAsUser: ptr(int64(1000)), Privileged: ptr(true)}
			}},
			{"runAsUser 0", func() *corev1.SecurityContext { return &corev1.SecurityContext{RunAsUser: ptr(int64(0))} }},
		} {
			cs = append(cs, matrixCase(m.what+", "+v.name, pod(v.sc()), m.mode))
		}
	}
	return cs
}

// manifestCases reads every container of the manifests under dir with the
// project's own reader (pkg/source/manifest), so the harness sees exactly
// the specs `kubectl caps audit -f` sees.
func manifestCases(group, dir string) ([]tcase, error) {
	var cs []tcase
	_, err := manifest.Read(manifest.Options{Filenames: []string{dir}, Recursive: true}, func(w manifest.Workload) error {
		src := w.Source
		if rel, err := filepath.Rel(dir, src); err == nil {
			src = rel
		}
		for _, ref := range engine.Containers(w.Spec) {
			cs = append(cs, tcase{
				Name:  fmt.Sprintf("%s %s/%s %s[%d] %s", src, w.Kind, w.Name, ref.Type, ref.Index, ref.Container.Name),
				Group: group,
				Pod:   w.Spec,
				Ref:   ref,
				Mode:  modePlain,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs, nil
}

// containerName is a CRI/Docker-safe name for case i.
func containerName(i int, name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return fmt.Sprintf("c%03d-%s", i, strings.Trim(b.String(), "-"))
}
