package risk

import (
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
)

func TestOf(t *testing.T) {
	set := capability.SetOf
	tests := []struct {
		name     string
		cap      capability.Cap
		held     capability.Set
		ctx      engine.PodContext
		risk     catalog.Risk
		contexts string
		text     string
	}{
		{"base tier", capability.NET_RAW, set(capability.NET_RAW), engine.PodContext{}, catalog.RiskHigh, "", "high"},
		{"pod context", capability.NET_RAW, set(capability.NET_RAW), engine.PodContext{HostNetwork: true}, catalog.RiskCritical,
			"hostNetwork", "critical with hostNetwork"},
		{"held together", capability.BPF, set(capability.BPF, capability.PERFMON), engine.PodContext{}, catalog.RiskCritical,
			"with:PERFMON", "critical held with PERFMON"},
		{"two contexts, both listed", capability.KILL, set(capability.KILL), engine.PodContext{HostPID: true, ShareProcessNamespace: true},
			catalog.RiskMedium, "hostPID,shareProcessNamespace", "medium with hostPID, with shareProcessNamespace"},
		{"hostPath only when mounted", capability.DAC_OVERRIDE, set(capability.DAC_OVERRIDE), engine.PodContext{}, catalog.RiskMedium, "", "medium"},
		{"hostPath mounted", capability.DAC_OVERRIDE, set(capability.DAC_OVERRIDE), engine.PodContext{HostPathMounted: true}, catalog.RiskHigh,
			"hostPath", "high with hostPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Of(tt.cap, tt.held, tt.ctx)
			if a.Risk != tt.risk {
				t.Errorf("risk %s, want %s", a.Risk, tt.risk)
			}
			got := ""
			for i, c := range a.Contexts() {
				if i > 0 {
					got += ","
				}
				got += c
			}
			if got != tt.contexts {
				t.Errorf("contexts %q, want %q", got, tt.contexts)
			}
			if a.String() != tt.text {
				t.Errorf("text %q, want %q", a.String(), tt.text)
			}
		})
	}
}
