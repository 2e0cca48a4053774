package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// The wire format ListPods reads, walked field by field so that a page is
// never decoded whole. Field numbers are those of the .proto files of
// k8s.io/apimachinery and k8s.io/api v0.37.2 (go.mod); the tests encode
// with those modules' generated Marshal and serializer, so a renumbering
// in a later version fails them:
//
//   - the envelope: k8s.io/apimachinery pkg/runtime/serializer/protobuf
//     (protoEncodingPrefix "k8s\x00"), then message Unknown of
//     k8s.io/apimachinery pkg/runtime/generated.proto: typeMeta = 1,
//     raw = 2, contentEncoding = 3, contentType = 4; TypeMeta: apiVersion = 1,
//     kind = 2.
//   - message PodList of k8s.io/api core/v1/generated.proto: metadata
//     (ListMeta) = 1, items (repeated Pod) = 2; message Pod: metadata
//     (ObjectMeta) = 1, spec = 2, status = 3.
//   - message ListMeta of k8s.io/apimachinery pkg/apis/meta/v1/generated.proto:
//     continue = 3; message ObjectMeta: managedFields = 17.
const (
	protobufMediaType = "application/vnd.kubernetes.protobuf"

	unknownTypeMeta        protowire.Number = 1
	unknownRaw             protowire.Number = 2
	unknownContentEncoding protowire.Number = 3
	typeMetaKind           protowire.Number = 2

	podListMetadata protowire.Number = 1
	podListItems    protowire.Number = 2
	listMetaCont    protowire.Number = 3

	podMetadata protowire.Number = 1
	podSpec     protowire.Number = 2
	podStatus   protowire.Number = 3

	objectMetaManagedFields protowire.Number = 17
)

// protobufMagic is the 4-byte prefix of the apiserver's protobuf encoding
// (k8s.io/apimachinery pkg/runtime/serializer/protobuf, protoEncodingPrefix).
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// rawPage is one page as the server sent it: the body, not decoded.
type rawPage struct {
	n   int // 1-based, for error messages
	buf *bytes.Buffer
	err error
}

// listPodsRaw is ListPods over the REST client: each page is fetched as
// bytes and decoded one pod at a time, without managedFields. A decoded
// PodList of 500 pods costs several times its wire size, and managedFields
// (the server-side apply bookkeeping the audit never reads) are a large
// share of each pod's metadata; decoding pod by pod keeps only one pod's
// structs alive beside the raw page.
//
// Fetch-ahead is the pager's: the next page is requested while the
// previous one is visited, and at most PageBuffer pages wait (one arriving,
// PageBuffer-1 queued), as bytes. The page buffers are recycled once a
// page is visited (the decoders copy what they keep), so after the first
// pages a list allocates no more page memory.
func listPodsRaw(ctx context.Context, rc *rest.RESTClient, q PodQuery, chunk int64, visit func(*corev1.Pod) error) error {
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan rawPage, max(PageBuffer-1, 0))
	// At most PageBuffer+1 buffers exist: queued, arriving, visited.
	free := make(chan *bytes.Buffer, PageBuffer+1)
	done := make(chan struct{})
	// The fetcher stops when the list ends, on an error, or when ctx is
	// cancelled; cancel-then-wait means it never outlives the call.
	defer func() {
		cancel()
		<-done
	}()
	go func() {
		defer close(done)
		defer close(pages)
		cont := ""
		for n := 1; ; n++ {
			var buf *bytes.Buffer
			select {
			case buf = <-free:
				buf.Reset()
			default:
				buf = new(bytes.Buffer)
			}
			err := fetchPodPage(ctx, rc, q, chunk, cont, buf)
			if err == nil {
				// The continue token is read here, not by the visitor,
				// so the next request can start at once.
				cont, err = pageContinue(buf.Bytes())
				if err != nil {
					err = fmt.Errorf("pod list page %d: %w", n, err)
				}
			}
			select {
			case pages <- rawPage{n: n, buf: buf, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || cont == "" {
				return
			}
		}
	}()
	for p := range pages {
		if err := ctx.Err(); err != nil {
			return err
		}
		if p.err != nil {
			return p.err
		}
		if err := decodePodPage(p.buf.Bytes(), p.n, visit); err != nil {
			return err
		}
		select {
		case free <- p.buf:
		default:
		}
	}
	return ctx.Err()
}

// fetchPodPage reads one page into buf. Errors are the REST client's: API
// errors (410 Expired, 403 Forbidden) stay *apierrors.StatusError, since
// Stream decodes the server's Status as Do does. Stream rather than Do so
// that the body lands in a recycled buffer instead of a new io.ReadAll
// slice per page.
func fetchPodPage(ctx context.Context, rc *rest.RESTClient, q PodQuery, chunk int64, cont string, buf *bytes.Buffer) error {
	body, err := rc.Get().
		Namespace(q.Namespace).
		Resource("pods").
		VersionedParams(&metav1.ListOptions{
			Limit: chunk, Continue: cont,
			LabelSelector: q.LabelSelector, FieldSelector: q.FieldSelector,
		}, scheme.ParameterCodec).
		SetHeader("Accept", protobufMediaType+", application/json").
		Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := buf.ReadFrom(body); err != nil {
		return fmt.Errorf("reading a pod list page: %w", err)
	}
	return nil
}

// isProtobuf reports whether a body is in the apiserver's protobuf
// encoding, by its magic prefix: a JSON body starts with "{", so the
// prefix decides as well as the Content-Type would.
func isProtobuf(body []byte) bool { return bytes.HasPrefix(body, protobufMagic) }

// pageContinue returns a page's metadata.continue ("" on the last page).
func pageContinue(body []byte) (string, error) {
	if !isProtobuf(body) {
		list, err := decodeOtherPage(body)
		if err != nil {
			return "", err
		}
		return list.Continue, nil
	}
	raw, err := unwrapEnvelope(body)
	if err != nil {
		return "", err
	}
	cont := ""
	err = walk(raw, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != podListMetadata || typ != protowire.BytesType {
			return nil
		}
		return walk(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
			if num == listMetaCont && typ == protowire.BytesType {
				cont = string(v)
			}
			return nil
		})
	})
	if err != nil {
		return "", fmt.Errorf("reading the pod list page's metadata: %w", err)
	}
	return cont, nil
}

// decodePodPage visits the pods of one page. n numbers the page in error
// messages, which also give the byte offset in the page's body.
func decodePodPage(body []byte, n int, visit func(*corev1.Pod) error) error {
	if !isProtobuf(body) {
		// JSON (a proxy or an aggregated server that does not speak
		// protobuf): correct, just not lean (the fetcher decoded it once
		// already for its continue token).
		list, err := decodeOtherPage(body)
		if err != nil {
			return fmt.Errorf("pod list page %d: %w", n, err)
		}
		for i := range list.Items {
			list.Items[i].ManagedFields = nil // as on the protobuf path
			if err := visit(&list.Items[i]); err != nil {
				return err
			}
		}
		return nil
	}
	raw, err := unwrapEnvelope(body)
	if err != nil {
		return fmt.Errorf("pod list page %d: %w", n, err)
	}
	// raw is a slice of body: its offset turns offsets in raw into offsets
	// in the page.
	base := cap(body) - cap(raw)
	var meta []byte // reused: Unmarshal copies what it keeps
	var visitErr error
	item := 0
	err = walkFields(raw, func(num protowire.Number, typ protowire.Type, v, _ []byte, off int) error {
		if num != podListItems {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("byte %d: PodList.items has wire type %d, want bytes", base+off, typ)
		}
		item++
		pod := &corev1.Pod{}
		var derr error
		meta, derr = decodePod(pod, v, meta[:0])
		if derr != nil {
			return fmt.Errorf("pod %d of the page (byte %d): %w", item, base+off, derr)
		}
		if err := visit(pod); err != nil {
			visitErr = err
			return errStop
		}
		return nil
	})
	if visitErr != nil {
		return visitErr
	}
	if err != nil {
		return fmt.Errorf("decoding pod list page %d: %w", n, err)
	}
	return nil
}

// errStop ends a walk early, without being an error of the walk.
var errStop = errors.New("stop")

// decodePod decodes one Pod message into pod, as (*corev1.Pod).Unmarshal
// does field by field, except that ObjectMeta's managedFields (17) are
// left out of the bytes given to ObjectMeta.Unmarshal. scratch holds those
// bytes; it is returned for reuse. Offsets in errors are within the pod.
func decodePod(pod *corev1.Pod, b, scratch []byte) ([]byte, error) {
	err := walkFields(b, func(num protowire.Number, typ protowire.Type, v, _ []byte, off int) error {
		if num < podMetadata || num > podStatus {
			return nil // unknown fields are skipped, as Unmarshal does
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("byte %d: Pod field %d has wire type %d, want bytes", off, num, typ)
		}
		var err error
		switch num {
		case podMetadata:
			scratch = scratch[:0]
			err = walkFields(v, func(num protowire.Number, _ protowire.Type, _, field []byte, _ int) error {
				if num != objectMetaManagedFields {
					scratch = append(scratch, field...)
				}
				return nil
			})
			if err == nil {
				err = pod.ObjectMeta.Unmarshal(scratch)
			}
		case podSpec:
			err = pod.Spec.Unmarshal(v)
		case podStatus:
			err = pod.Status.Unmarshal(v)
		}
		if err != nil {
			return fmt.Errorf("byte %d: %s: %w", off, [...]string{"", "metadata", "spec", "status"}[num], err)
		}
		return nil
	})
	return scratch, err
}

// unwrapEnvelope checks the protobuf magic and the runtime.Unknown around
// a PodList and returns the PodList's bytes (a slice of body).
func unwrapEnvelope(body []byte) ([]byte, error) {
	if !bytes.HasPrefix(body, protobufMagic) {
		return nil, fmt.Errorf("a protobuf answer without the %q prefix of k8s.io/apimachinery's protobuf serializer", protobufMagic)
	}
	var raw []byte
	kind, encoding := "", ""
	err := walk(body[len(protobufMagic):], func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case unknownTypeMeta:
			return walk(v, func(num protowire.Number, typ protowire.Type, v []byte) error {
				if num == typeMetaKind && typ == protowire.BytesType {
					kind = string(v)
				}
				return nil
			})
		case unknownRaw:
			raw = v
		case unknownContentEncoding:
			encoding = string(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the protobuf envelope (runtime.Unknown): %w", err)
	}
	if kind != "PodList" {
		return nil, fmt.Errorf("the server sent a %q where a PodList was expected", kind)
	}
	if encoding != "" {
		return nil, fmt.Errorf("the server sent a PodList with content encoding %q, which is not supported", encoding)
	}
	return raw, nil
}

// decodeOtherPage decodes a page in any encoding client-go's scheme knows
// (JSON, YAML, protobuf) into a whole PodList.
func decodeOtherPage(body []byte) (*corev1.PodList, error) {
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding a pod list that is not protobuf: %w", err)
	}
	switch o := obj.(type) {
	case *corev1.PodList:
		return o, nil
	case *metav1.Status:
		return nil, apierrors.FromObject(o)
	}
	return nil, fmt.Errorf("the server sent a %T where a PodList was expected", obj)
}

// walk calls fn with each field of a protobuf message in b: its number,
// wire type and, for length-delimited fields, its bytes (a slice of b).
func walk(b []byte, fn func(protowire.Number, protowire.Type, []byte) error) error {
	return walkFields(b, func(num protowire.Number, typ protowire.Type, v, _ []byte, _ int) error {
		return fn(num, typ, v)
	})
}

// walkFields calls fn with each field of the message in b: its number,
// wire type, value bytes (length-delimited fields only), whole encoding
// (tag included, for copying it as is) and byte offset in b. Everything is
// a slice of b. A malformed field is an error naming its offset; fn's
// errors are returned as they are.
func walkFields(b []byte, fn func(num protowire.Number, typ protowire.Type, v, field []byte, off int) error) error {
	for off := 0; off < len(b); {
		num, typ, tn := protowire.ConsumeTag(b[off:])
		if tn < 0 {
			return fmt.Errorf("byte %d: field tag: %w", off, protowire.ParseError(tn))
		}
		var v []byte
		var vn int
		if typ == protowire.BytesType {
			v, vn = protowire.ConsumeBytes(b[off+tn:])
		} else {
			vn = protowire.ConsumeFieldValue(num, typ, b[off+tn:])
		}
		if vn < 0 {
			return fmt.Errorf("byte %d: field %d: %w", off, num, protowire.ParseError(vn))
		}
		if err := fn(num, typ, v, b[off:off+tn+vn], off); err != nil {
			return err
		}
		off += tn + vn
	}
	return nil
}
