//go:build runtime

package runtimetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// outcome is what a container got, or that it did not start. The same type
// holds the prediction and the measurement.
type outcome struct {
	Refused bool
	// By and Message: who refused ("kubelet", "runtime") and what it said.
	// Only measured outcomes carry them.
	By, Message string

	Bounding, Permitted, Effective, Ambient capability.Set
	NoNewPrivs                              bool
	// Inheritable and UID are recorded, not compared: the engine does not
	// model the inheritable set, and the UID is the harness's own input.
	Inheritable capability.Set
	UID         string
}

// status is capprobe's JSON line.
type probeStatus struct {
	CapInh, CapPrm, CapEff, CapBnd, CapAmb string
	NoNewPrivs                             string
	UID                                    string `json:"uid"`
}

func parseMask(s string) (capability.Set, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 16, 64)
	return capability.Set(v), err
}

// parseStatus turns capprobe's output into an outcome.
func parseStatus(line string) (outcome, error) {
	var st probeStatus
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		return outcome{}, fmt.Errorf("capprobe printed %q: %v", line, err)
	}
	var o outcome
	for _, f := range []struct {
		s   string
		dst *capability.Set
	}{{st.CapBnd, &o.Bounding}, {st.CapPrm, &o.Permitted}, {st.CapEff, &o.Effective}, {st.CapAmb, &o.Ambient}, {st.CapInh, &o.Inheritable}} {
		v, err := parseMask(f.s)
		if err != nil {
			return outcome{}, fmt.Errorf("capprobe printed %q: %v", line, err)
		}
		*f.dst = v
	}
	o.NoNewPrivs = st.NoNewPrivs == "1"
	o.UID = st.UID
	return o, nil
}

// hostBounding reads the bounding set of this process, which every
// container's is a subset of: a runtime cannot give a container a
// capability the host's own bounding set lacks (prctl(2) PR_CAPBSET_DROP;
// containerd and moby take "ALL" and privileged from the daemon's current
// set). Read, never assumed.
func hostBounding() (capability.Set, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapBnd:"); ok {
			return parseMask(v)
		}
	}
	return 0, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// predict is the engine's answer for a case, as a user gets it from
// `kubectl caps audit`, intersected with the host's bounding set.
//
// For the first process: root (or a user the engine cannot know and takes
// for root) holds its bounding set as permitted and effective; non-root
// holds nothing (ambient stays empty: Kubernetes sets none). For the
// file-capability entrypoint and the setuid-root helper, the process the
// probe measures is the one after that exec, which the engine describes in
// Reachable.
func predict(c *tcase, p runtimes.Profile, host capability.Set) (outcome, engine.Result) {
	r := engine.Evaluate(engine.Input{
		Pod: c.Pod, Container: c.container(), Type: c.Ref.Type, Index: c.Ref.Index,
		FieldPrefix: "spec", Profile: p,
	})
	o := outcome{NoNewPrivs: r.NoNewPrivs}
	if r.CreateFails || r.KubeletRefuses {
		o.Refused = true
		return o, r
	}
	if miss, why := hostRefuses(&r, p, host); miss != 0 {
		o.Refused = true
		o.By = "host"
		o.Message = "the host's bounding set lacks " + names(miss) + ", which " + why
		return o, r
	}
	o.Bounding = r.Bounding & host
	o.Permitted = r.Effective & host
	o.Effective = r.Effective & host
	if r.User.Kind == engine.UserNonRoot {
		switch c.Mode {
		case modeFcap:
			// The file's capabilities have no effective bit (see
			// fileCapsAll): they land in permitted only.
			o.Permitted = r.Reachable.ViaFileCaps & host
			o.Effective = 0
		case modeSetuid:
			o.Permitted = r.Reachable.ViaSetuid & host
			o.Effective = o.Permitted
		}
		if r.Privileged && p.Kind == runtimes.CRIO {
			o.Ambient = o.Effective
		}
	}
	return o, r
}

// diff lists the differences between the prediction and the measurement,
// each set by name; nil when they agree.
func diff(want, got outcome) []string {
	if want.Refused || got.Refused {
		if want.Refused == got.Refused {
			return nil
		}
		if got.Refused {
			return []string{fmt.Sprintf("predicted to run, but refused by the %s: %s", got.By, got.Message)}
		}
		return []string{fmt.Sprintf("predicted to be refused, but it ran with bounding %s", names(got.Bounding))}
	}
	var d []string
	for _, f := range []struct {
		name      string
		want, got capability.Set
	}{
		{"bounding", want.Bounding, got.Bounding},
		{"permitted", want.Permitted, got.Permitted},
		{"effective", want.Effective, got.Effective},
		{"ambient", want.Ambient, got.Ambient},
	} {
		if f.want != f.got {
			d = append(d, fmt.Sprintf("%s: predicted %s, measured %s (missing %s, extra %s)",
				f.name, names(f.want), names(f.got), names(f.want&^f.got), names(f.got&^f.want)))
		}
	}
	if want.NoNewPrivs != got.NoNewPrivs {
		d = append(d, fmt.Sprintf("no_new_privs: predicted %v, measured %v", want.NoNewPrivs, got.NoNewPrivs))
	}
	return d
}

func names(s capability.Set) string {
	if s == 0 {
		return "{}"
	}
	return "{" + strings.Join(s.Names(), ",") + "}"
}

// namedAdds is what the spec adds by name (not through ALL) and the
// runtime keeps.
func namedAdds(r *engine.Result) capability.Set {
	if r.Privileged {
		return 0
	}
	var s capability.Set
	for _, e := range r.Applied.Entries {
		if e.List == "add" && e.Known && !e.All {
			s = s.Add(e.Cap)
		}
	}
	return s & r.Bounding
}

// hostRefuses is the host adjustment that is not a mere intersection. runc
// puts the container's permitted set in place with capset(2), which fails
// with EPERM for a capability the runtime's own process lacks ("unable to
// apply caps: operation not permitted"); only a node whose own bounding set
// is short, such as a node in a container, sees it. What runc is asked for
// is the spec's named adds on every runtime, and, where the runtime expands
// ALL and privileged from a static list rather than from its own set
// (runtimes.AllFromDaemon), everything it expanded. Nothing is asked for when
// the runtime gives a non-root process no permitted set (Docker before
// 24.0.6: bounding only, which PR_CAPBSET_DROP narrows without failing).
func hostRefuses(r *engine.Result, p runtimes.Profile, host capability.Set) (capability.Set, string) {
	if r.User.Kind == engine.UserNonRoot && p.NonRootNoPermitted() {
		return 0, ""
	}
	if miss := namedAdds(r) &^ host; miss != 0 {
		return miss, "the spec adds by name"
	}
	if !p.AllFromDaemon() && (r.Privileged || r.Applied.AddAll) {
		if miss := r.Bounding &^ host; miss != 0 {
			return miss, p.Name() + " puts into every container given ALL or privileged (a static list, not its own set)"
		}
	}
	return 0, ""
}
