package main

// Network distance for fleet mode (-rtt): the fleet's apiservers run on
// the same two cores as the client, so a fleet run here measures only how
// the client and three servers share the CPU. Real clusters are reached
// over a network, and what --all-contexts overlaps is mostly waiting on
// it. A delayProxy in front of each apiserver puts a round trip of -rtt
// between the client and that cluster, while the bytes still flow at
// loopback speed, so both figures can be measured on one machine: the
// CPU-bound one (-rtt 0, the target) and the distant one.

import (
	"errors"
	"net"
	"net/url"
	"sync"
	"time"
)

// delayProxy forwards every TCP connection made to it to upstream and
// delays each chunk it reads by oneWay before writing it on, in both
// directions, so a request and its answer cost 2*oneWay more, as a round
// trip to a server that far away would. Chunks keep their order; a
// direction holds at most delayQueue chunks in flight, then reading waits,
// so a fast sender is throttled by backpressure rather than buffered
// without bound. TLS passes through untouched: the client still verifies
// the apiserver's own certificate, which names the loopback address the
// proxy listens on too.
type delayProxy struct {
	ln       net.Listener
	upstream string
	oneWay   time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// delayQueue is how many chunks (of up to delayChunk bytes) one direction
// of a connection holds in flight: 1 MiB, far more than an apiserver page
// sends in the oneWay times measured here, so the delay never limits the
// bandwidth.
const (
	delayQueue = 32
	delayChunk = 32 << 10
)

// startDelayProxy listens on a free port of host (a loopback address) and
// forwards to upstream (host:port).
func startDelayProxy(host, upstream string, oneWay time.Duration) (*delayProxy, error) {
	if oneWay < 0 {
		return nil, errors.New("negative delay")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	p := &delayProxy{ln: ln, upstream: upstream, oneWay: oneWay, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is host:port of the proxy.
func (p *delayProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every open connection and waits for the
// proxy's goroutines to end.
func (p *delayProxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// track registers c to be cut by Close; false when the proxy is closing.
func (p *delayProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *delayProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *delayProxy) serve() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(down)
		}()
	}
}

// handle joins one client connection to a new upstream connection.
func (p *delayProxy) handle(down net.Conn) {
	defer down.Close()
	if !p.track(down) {
		return
	}
	defer p.untrack(down)
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return // the client sees its connection closed, as with a server down
	}
	defer up.Close()
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); delayedCopy(up, down, p.oneWay) }()
	go func() { defer wg.Done(); delayedCopy(down, up, p.oneWay) }()
	wg.Wait()
}

// chunk is bytes read at one time, due to be written oneWay later.
type chunk struct {
	b   []byte
	due time.Time
}

// delayedCopy copies src to dst, each chunk written no sooner than oneWay
// after it was read. At src's end it half-closes dst, as a direct
// connection would pass the FIN on; on a write error it cuts both, so the
// reader stops too.
func delayedCopy(dst, src net.Conn, oneWay time.Duration) {
	queue := make(chan chunk, delayQueue)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range queue {
			if wait := time.Until(c.due); wait > 0 {
				time.Sleep(wait)
			}
			if _, err := dst.Write(c.b); err != nil {
				dst.Close()
				src.Close()
				for range queue { // let the reader finish
				}
				return
			}
		}
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}()
	for {
		b := make([]byte, delayChunk)
		n, err := src.Read(b)
		if n > 0 {
			queue <- chunk{b: b[:n], due: time.Now().Add(oneWay)}
		}
		if err != nil {
			// io.EOF, a reset or a cut: nothing more will come, and
			// what was read is still written on.
			break
		}
	}
	close(queue)
	<-done
}

// distantServer starts a delayProxy in front of server (an https URL of a
// loopback apiserver) with a round trip of rtt, and returns the URL to
// use instead.
func distantServer(server string, rtt time.Duration) (string, *delayProxy, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", nil, errors.New("server " + server + " is not on a loopback address: the delay proxy serves only this machine's test apiservers")
	}
	p, err := startDelayProxy(host, u.Host, rtt/2)
	if err != nil {
		return "", nil, err
	}
	u.Host = p.Addr()
	return u.String(), p, nil
}
