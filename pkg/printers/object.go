package printers

import (
	"encoding/json"
	"fmt"
	"io"
)

// Formats every command's -o flag accepts besides its own extras.
const (
	FormatWide = "wide"
	FormatJSON = "json"
	FormatYAML = "yaml"
)

// WriteObject prints v as indented JSON or as YAML, always ending in a
// newline, so that `-o json | jq` and `-o yaml | kubectl apply -f -` style
// pipelines work.
func WriteObject(w io.Writer, format string, v any) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		return enc.Encode(v)
	case FormatYAML:
		b, err := marshalYAML(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	return fmt.Errorf("unknown object format %q", format)
}
