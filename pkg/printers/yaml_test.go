package printers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// marshalYAML is kubectl's YAML for every ordinary document, a multi-line
// string included, and quotes the strings of a document where one could
// start a line with "::" (a line of it does, or a fold before " ::");
// either way the document reads back as what was written.
func TestMarshalYAML(t *testing.T) {
	type doc struct {
		Name  string            `json:"name"`
		Items []string          `json:"items"`
		Map   map[string]string `json:"map,omitempty"`
		N     int               `json:"n"`
	}
	tests := []struct {
		name    string
		in      doc
		kubectl bool // byte for byte what sigs.k8s.io/yaml writes
		want    string
	}{
		{"plain", doc{Name: "web", Items: []string{"a", "yes", "1"}, N: 3}, true, ""},
		{"multi-line, no ::", doc{Name: "web", Items: []string{"a\nb\n  c::d"}}, true, ""},
		{"a long line", doc{Name: "web", Items: []string{strings.Repeat("long ", 40)}}, true, ""},
		{"a long line folded before ::", doc{Name: "web", Items: []string{strings.Repeat("x", 75) + " ::error::x"}}, false,
			"\"items\":\n- \"" + strings.Repeat("x", 75) + " ::error::x\"\n\"n\": 0\n\"name\": \"web\"\n"},
		{"a leading ::", doc{Name: "::warning::ns", Items: []string{}}, false, "\"items\": []\n\"n\": 0\n\"name\": \"::warning::ns\"\n"},
		{"line breaks", doc{Name: "web\n::error::x", Items: []string{"a\r\n::b", "ok"}, Map: map[string]string{"k": "v\u2028::c"}}, false,
			"\"items\":\n- \"a\\r\\n::b\"\n- \"ok\"\n\"map\":\n  \"k\": \"v\\L::c\"\n\"n\": 0\n\"name\": \"web\\n::error::x\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := marshalYAML(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.kubectl {
				want, _ := yaml.Marshal(tt.in)
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("not kubectl's YAML (-want +got):\n%s", diff)
				}
			} else if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			for _, line := range strings.Split(string(got), "\n") {
				if strings.HasPrefix(strings.TrimLeft(line, " -"), "::") {
					t.Errorf("line %q starts with a workflow command", line)
				}
			}
			var back doc
			if err := yaml.UnmarshalStrict(got, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.in, back); diff != "" {
				t.Errorf("does not read back (-want +got):\n%s", diff)
			}
		})
	}
}
