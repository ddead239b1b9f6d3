package simulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a Simulator listening on a TCP address, for tests, the demo and load runs.
type Server struct {
	*Simulator

	httpServer  *http.Server
	url         string
	caPEM       []byte
	connsOpened atomic.Int64
	serveDone   chan struct{}
	closeOnce   sync.Once
}

// Start serves a new Simulator over plain HTTP on addr ("127.0.0.1:0" picks a free port).
func Start(addr string, opts Options) (*Server, error) {
	return start(addr, opts, nil)
}

// StartTLS serves a new Simulator over HTTPS, as the real gateway does, with a self-signed certificate
// made in memory for 127.0.0.1, ::1 and localhost. CACertPEM returns it for the client's trust store.
func StartTLS(addr string, opts Options) (*Server, error) {
	cert, certPEM, err := selfSignedCertificate()
	if err != nil {
		return nil, fmt.Errorf("simulator: making a certificate: %w", err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s, err := start(addr, opts, tlsConfig)
	if err != nil {
		return nil, err
	}
	s.caPEM = certPEM
	return s, nil
}

func start(addr string, opts Options, tlsConfig *tls.Config) (*Server, error) {
	sim, err := newSimulator(opts)
	if err != nil {
		return nil, err
	}
	var listenConfig net.ListenConfig
	listener, err := listenConfig.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	s := &Server{Simulator: sim, serveDone: make(chan struct{})}
	s.httpServer = &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				s.connsOpened.Add(1)
			}
		},
		// Faults break connections on purpose; the server's complaints about them are noise.
		ErrorLog: log.New(io.Discard, "", 0),
		// HTTP/1.1 only, like the gateway's servlet container, and so that FaultReset can take over the connection.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		listener = tls.NewListener(listener, tlsConfig)
	}
	s.url = scheme + "://" + reachableAddress(listener.Addr())
	go func() {
		defer close(s.serveDone)
		_ = s.httpServer.Serve(listener)
	}()
	return s, nil
}

// reachableAddress turns a wildcard listen address into one a local client can dial.
func reachableAddress(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// URL returns the base URL, such as "http://127.0.0.1:34567", without the /agentgateway path.
func (s *Server) URL() string { return s.url }

// CACertPEM returns the certificate of a StartTLS server in PEM form (nil for plain HTTP).
func (s *Server) CACertPEM() []byte { return s.caPEM }

// ConnectionsOpened counts the TCP connections accepted so far, to check that a client keeps connections alive.
func (s *Server) ConnectionsOpened() int64 { return s.connsOpened.Load() }

// Close stops the server: hanging and delayed requests are aborted, the others finish, and every
// connection is closed before Close returns.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Simulator.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.httpServer.Shutdown(ctx); err != nil {
			_ = s.httpServer.Close()
		}
		<-s.serveDone
	})
}

func selfSignedCertificate() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	// Real time, not Options.Now: a fake clock in the past must not make the certificate invalid.
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "agentgateway simulator", Organization: []string{"agentgateway_exporter"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if certPEM == nil {
		return tls.Certificate{}, nil, errors.New("encoding the certificate")
	}
	return cert, certPEM, nil
}
