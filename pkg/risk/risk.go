// Package risk is the one rule that turns a capability's catalog risk into
// its risk in one container: the catalog's base tier, raised by each
// amplifier whose context the pod has (hostPID, a mounted hostPath, a
// capability held with it). The audit report, suggest-drop and explain
// all read risk and its wording from here.
package risk

import (
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
)

// Assessment is a capability's risk in one container.
type Assessment struct {
	// Risk is the base tier raised by the applying amplifiers.
	Risk catalog.Risk
	// Amplifiers are every amplifier whose context applies, in catalog
	// order. Each raises the risk above the base tier (the catalog's
	// Validate requires it), so each alone explains part of Risk.
	Amplifiers []*catalog.Amplifier
}

// Of is the risk of c for a container that holds held in the pod context
// ctx.
func Of(c capability.Cap, held capability.Set, ctx engine.PodContext) Assessment {
	e := catalog.Default().Get(c)
	a := Assessment{Risk: e.Risk}
	for i := range e.Amplifiers {
		amp := &e.Amplifiers[i]
		if !Applies(amp, held, ctx) {
			continue
		}
		a.Amplifiers = append(a.Amplifiers, amp)
		if amp.Risk.Level() > a.Risk.Level() {
			a.Risk = amp.Risk
		}
	}
	return a
}

// Applies reports whether an amplifier's context holds for a container
// that holds held in the pod context ctx.
func Applies(a *catalog.Amplifier, held capability.Set, ctx engine.PodContext) bool {
	if c, ok := a.With(); ok {
		return held.Has(c)
	}
	switch a.When {
	case "hostPID":
		return ctx.HostPID
	case "hostNetwork":
		return ctx.HostNetwork
	case "hostIPC":
		return ctx.HostIPC
	case "hostPath":
		// Only a container that mounts a host path can abuse it; its
		// siblings in the same pod cannot reach the volume.
		return ctx.HostPathMounted
	case "shareProcessNamespace":
		return ctx.ShareProcessNamespace
	}
	return false
}

// Contexts are the amplifiers' When values, as the report's
// findings[].amplified lists them.
func (a Assessment) Contexts() []string {
	if len(a.Amplifiers) == 0 {
		return nil
	}
	out := make([]string, len(a.Amplifiers))
	for i, amp := range a.Amplifiers {
		out[i] = amp.When
	}
	return out
}

// String is the risk as text says it: "high", or "critical with hostPID",
// or "critical held with PERFMON".
func (a Assessment) String() string {
	if len(a.Amplifiers) == 0 {
		return string(a.Risk)
	}
	labels := make([]string, len(a.Amplifiers))
	for i, amp := range a.Amplifiers {
		labels[i] = amp.Label()
	}
	return string(a.Risk) + " " + strings.Join(labels, ", ")
}
