package workload

import "testing"

func TestDeploymentOf(t *testing.T) {
	for _, tc := range []struct {
		rs, hash string
		want     Ref
		ok       bool
	}{
		{"web-5d4f8", "5d4f8", Ref{Kind: "Deployment", Name: "web"}, true},
		{"my-web-app-7c9d8b4f6", "7c9d8b4f6", Ref{Kind: "Deployment", Name: "my-web-app"}, true},
		{"web-5d4f8", "", Ref{}, false},      // no label: a ReplicaSet of its own
		{"web-5d4f8", "abcde", Ref{}, false}, // the label does not end the name
		{"-5d4f8", "5d4f8", Ref{}, false},    // no Deployment name left
		{"web5d4f8", "5d4f8", Ref{}, false},  // no dash before the hash
		{"5d4f8", "5d4f8", Ref{}, false},
	} {
		got, ok := DeploymentOf(tc.rs, tc.hash)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DeploymentOf(%q, %q) = %v, %v; want %v, %v", tc.rs, tc.hash, got, ok, tc.want, tc.ok)
		}
	}
}
