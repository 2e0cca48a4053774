package main

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echoServer answers every connection with what it reads and closes its
// side when the client has closed its own.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func dialProxy(t *testing.T, oneWay time.Duration) (*delayProxy, *net.TCPConn) {
	t.Helper()
	p, err := startDelayProxy("127.0.0.1", echoServer(t), oneWay)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return p, c.(*net.TCPConn)
}

func TestDelayProxyAddsTheRoundTrip(t *testing.T) {
	const oneWay = 40 * time.Millisecond
	_, c := dialProxy(t, oneWay)
	buf := make([]byte, 1)
	// Several exchanges, each a full round trip: none may come back
	// sooner than the delay there and back.
	for i := range 3 {
		start := time.Now()
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 2*oneWay {
			t.Errorf("exchange %d took %s, want at least %s", i, took, 2*oneWay)
		}
		if buf[0] != byte(i) {
			t.Errorf("exchange %d echoed %d", i, buf[0])
		}
	}
}

// The delay holds bytes back but neither loses, reorders nor limits them:
// 8 MiB, many times the queue, sent while the echo comes back.
func TestDelayProxyKeepsTheBytes(t *testing.T) {
	const oneWay = 5 * time.Millisecond
	_, c := dialProxy(t, oneWay)
	want := make([]byte, 8<<20)
	rand.Read(want)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(want)
		if err == nil {
			err = c.CloseWrite() // the FIN passes through: the echo server ends
		}
		errc <- err
	}()
	got, err := io.ReadAll(c) // ends only when the upstream's FIN passed back
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("echoed %d bytes, not the %d sent, or not in order", len(got), len(want))
	}
}

func TestDelayProxyCloseCutsConnections(t *testing.T) {
	p, c := dialProxy(t, time.Millisecond)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a connection open")
	}
	if _, err := c.Read(buf); err == nil {
		t.Error("the connection still reads after Close")
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Error("the proxy still accepts after Close")
	}
}

func TestDistantServer(t *testing.T) {
	tests := []struct {
		server, wantErr string
	}{
		{server: "https://127.0.0.1:6443"},
		{server: "https://10.0.0.1:6443", wantErr: "not on a loopback address"},
		{server: "https://kubernetes.example:6443", wantErr: "not on a loopback address"},
		{server: "://bad", wantErr: "missing protocol scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			got, p, err := distantServer(tt.server, 10*time.Millisecond)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.oneWay != 5*time.Millisecond {
				t.Errorf("one way = %s, want half the round trip", p.oneWay)
			}
			if want := "https://" + p.Addr(); got != want {
				t.Errorf("server = %q, want %q", got, want)
			}
			if p.upstream != strings.TrimPrefix(tt.server, "https://") {
				t.Errorf("upstream = %q", p.upstream)
			}
		})
	}
}
