package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The decoders' errors name no field, quote whole documents or count lines
// from the start of a document. The functions here restate them in the
// user's terms, from the data where possible.

// stopped ends every syntax error: a stream cannot go on after one.
const stopped = "; fix it and run again (kubectl also stops reading an input at its first syntax error, so nothing after this point was read)"

var (
	jsonOffsetRE = regexp.MustCompile(`^json: offset (\d+): (.*)$`)
	yamlLineRE   = regexp.MustCompile(`\bline (\d+)\b`)
)

// syntaxError locates and explains the error that stopped a stream.
// ordinal is the number of documents decoded before it.
func syntaxError(pos *positions, source string, ordinal int, inner string) (loc, string) {
	if rest, ok := strings.CutPrefix(inner, "invalid Yaml document separator: "); ok {
		at := loc{source: source}
		if pos != nil {
			at.line = pos.badSep
		}
		return at, fmt.Sprintf("invalid document separator: only a comment may follow \"---\" on its line, not %q%s", rest, stopped)
	}
	d := pos.next(ordinal + 1) // the failing document
	at := loc{source: source, doc: d.doc, line: d.first}
	if m := jsonOffsetRE.FindStringSubmatch(inner); m != nil {
		return at, fmt.Sprintf("invalid JSON at byte offset %s: %s%s", m[1], m[2], stopped)
	}
	msg := strings.TrimPrefix(inner, "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	if !yamlLineRE.MatchString(msg) {
		return at, "invalid YAML: " + msg + stopped
	}
	if d.start == 0 {
		return at, "invalid YAML: " + msg + " (lines counted from the start of the document)" + stopped
	}
	// go-yaml counts lines from the start of the document; make them
	// lines of the file, and let the first one be the problem's line.
	at.line = 0
	msg = yamlLineRE.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(strings.TrimPrefix(s, "line "))
		line := d.start + n - 1
		if at.line == 0 {
			at.line = line
		}
		return "line " + strconv.Itoa(line)
	})
	msg = strings.TrimPrefix(msg, "line "+strconv.Itoa(at.line)+": ")
	return at, "invalid YAML: " + msg + stopped
}

// explainDecodeError says why a well-formed document is not an object
// kubectl can decode. data is the document as JSON.
func explainDecodeError(data []byte, source string, err error) string {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] != '{' {
		return fmt.Sprintf("not a Kubernetes object: the document is %s, where a mapping with apiVersion and kind is needed", article(valueKind(data)))
	}
	var head struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Kind       json.RawMessage `json:"kind"`
		Items      json.RawMessage `json:"items"`
	}
	if len(data) > 0 && json.Unmarshal(data, &head) == nil {
		switch {
		case isEmptyValue(head.Kind):
			return "the object has no kind; every object needs apiVersion and kind (for example apiVersion: apps/v1 and kind: Deployment)"
		case head.Kind[0] != '"':
			return fmt.Sprintf("kind is %s, but it must be a string such as Deployment", article(valueKind(head.Kind)))
		case !isEmptyValue(head.APIVersion) && head.APIVersion[0] != '"':
			return fmt.Sprintf("apiVersion is %s, but it must be a string such as apps/v1", article(valueKind(head.APIVersion)))
		}
		if msg := explainItems(head.Items); msg != "" {
			return msg
		}
		// kubectl checks metadata against ObjectMeta; do the same to find the field.
		var meta struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			if msg, ok := fieldTypeError(err); ok {
				return msg
			}
			return "invalid metadata: " + err.Error()
		}
	}
	msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("unable to decode %q: ", source))
	return "cannot decode the object: " + msg
}

// explainItems checks the items of what the decoder took for a List (any
// object with an "items" field).
func explainItems(items json.RawMessage) string {
	if isEmptyValue(items) {
		return ""
	}
	if items[0] != '[' {
		return fmt.Sprintf("items is %s, but a List needs a list of objects there", article(valueKind(items)))
	}
	var list []json.RawMessage
	if json.Unmarshal(items, &list) != nil {
		return ""
	}
	for i, item := range list {
		if item = bytes.TrimSpace(item); len(item) > 0 && item[0] != '{' {
			return fmt.Sprintf("items[%d] is %s, but a List's items must be objects with apiVersion and kind", i, article(valueKind(item)))
		}
	}
	return ""
}

func isEmptyValue(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null" || string(v) == `""`
}

// valueKind names a JSON value's type in YAML terms.
func valueKind(v []byte) string {
	switch v[0] {
	case '"':
		return "string"
	case '[':
		return "list"
	case '{':
		return "mapping"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// explainConversion turns the converter's error, which names no field
// ("cannot restore slice from string"), into one that does, by decoding the
// same object with encoding/json. Only failing objects pay for this.
func explainConversion(u map[string]any, into any, convErr error) error {
	data, err := json.Marshal(u)
	if err != nil {
		return convErr
	}
	if err := json.Unmarshal(data, into); err != nil {
		if msg, ok := fieldTypeError(err); ok {
			return errors.New(msg)
		}
		return err
	}
	return convErr
}

// fieldTypeError phrases a JSON type mismatch in YAML terms, with the path
// of the field.
func fieldTypeError(err error) (string, bool) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field == "" {
		return "", false
	}
	got := te.Value
	switch {
	case got == "array":
		got = "list"
	case got == "object":
		got = "mapping"
	case got == "bool":
		got = "boolean"
	case strings.HasPrefix(got, "number"):
		got = "number"
	}
	return fmt.Sprintf("%s is %s, but Kubernetes expects %s there", te.Field, article(got), article(goKind(te.Type))), true
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // []byte is base64 text
		}
		return "list"
	case reflect.Map, reflect.Struct:
		return "mapping"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.String()
}

func article(s string) string {
	if s != "" && strings.IndexByte("aeiou", s[0]) >= 0 {
		return "an " + s
	}
	return "a " + s
}
