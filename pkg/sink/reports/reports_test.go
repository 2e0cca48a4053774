package reports

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
)

// Check says which CRD to install when the cluster serves no such report
// kind, and passes when it does.
func TestCheck(t *testing.T) {
	served := []*metav1.APIResourceList{{GroupVersion: "wgpolicyk8s.io/v1alpha2", APIResources: []metav1.APIResource{{Name: "policyreports", Namespaced: true, Kind: "PolicyReport"}}}}
	for _, tt := range []struct {
		api  policyreport.API
		want string // "" for no error
	}{
		{policyreport.WGPolicy, ""},
		{policyreport.OpenReports, "install the CRD reports.openreports.io (config/crd/openreports.io_reports.yaml of github.com/openreports/reports-api v0.2.1)"},
	} {
		w := &Writer{Kind: policyreport.KindOf(tt.api), discovery: &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: served}}}
		err := w.Check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.api, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one containing %q", tt.api, err, tt.want)
		}
	}
}

// The writer's requests go out without client-go's client-side limiter,
// whatever the kubeconfig's config says, and the caller's config is left
// as it was.
func TestWriterHasNoClientLimiter(t *testing.T) {
	for _, qps := range []float32{0, 5, 50} {
		cfg := &rest.Config{Host: "https://example.invalid", QPS: qps, Burst: 10}
		if got := unlimited(cfg); got.QPS != -1 || got.RateLimiter != nil {
			t.Errorf("QPS %v: writer config has QPS %v, limiter %v; want -1 and none", qps, got.QPS, got.RateLimiter)
		}
		if cfg.QPS != qps {
			t.Errorf("the caller's config changed: QPS %v, want %v", cfg.QPS, qps)
		}
	}
}
