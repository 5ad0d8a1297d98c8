package talosupgrade_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	clusterapi "github.com/siderolabs/talos/pkg/machinery/api/cluster"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"gopkg.in/yaml.v3"
)

// call is one request the fake Talos API received.
type call struct {
	Method string // Version, Upgrade, HealthCheck
	Node   string // the node the client picked (the "node" metadata apid routes by)
	Image  string // Upgrade: the installer image
	Answer string // Version: the tag answered, or "down"
	// HealthCheck: the node lists the client sent.
	ControlPlanes, Workers []string
}

// fakeNode is one machine behind the fake apid.
type fakeNode struct {
	version string
	// After an Upgrade call the node is down for downFor Version calls,
	// then boots into bootsInto (default: the installer image's tag).
	downFor   int
	bootsInto string
	// upgradeErr refuses the Upgrade call.
	upgradeErr error
	// unreachable: every call to the node fails.
	unreachable bool

	down int
}

// fakeTalos serves machinery's own MachineService and ClusterService
// (api/machine, api/cluster of github.com/siderolabs/talos/pkg/machinery
// v1.12.5) on loopback, over mutual TLS as apid does, and records every
// call. Like apid, it routes each call to the node named in the "node"
// metadata (client.WithNode).
type fakeTalos struct {
	machine.UnimplementedMachineServiceServer
	clusterapi.UnimplementedClusterServiceServer

	mu    sync.Mutex
	nodes map[string]*fakeNode
	calls []call
	// healthFails makes the health check with this index (0-based, in
	// the order received) fail with the message.
	healthFails map[int]string
	health      int
	// violations are calls the real cluster would not survive: an Upgrade
	// while another node is still rebooting.
	violations []string
}

func (f *fakeTalos) node(ctx context.Context) (string, *fakeNode, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if len(md.Get("nodes")) > 0 || len(md.Get("node")) != 1 {
		return "", nil, status.Error(codes.InvalidArgument, "the fake wants exactly one node (client.WithNode)")
	}
	ip := md.Get("node")[0]
	n, ok := f.nodes[ip]
	if !ok {
		return ip, nil, status.Errorf(codes.Unavailable, "no node %s", ip)
	}
	if n.unreachable {
		return ip, nil, status.Errorf(codes.Unavailable, "connection refused: %s:50000", ip)
	}
	return ip, n, nil
}

func (f *fakeTalos) Version(ctx context.Context, _ *emptypb.Empty) (*machine.VersionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ip, n, err := f.node(ctx)
	c := call{Method: "Version", Node: ip}
	defer func() { f.calls = append(f.calls, c) }()
	if err != nil {
		c.Answer = "down"
		return nil, err
	}
	if n.down > 0 {
		n.down--
		if n.down == 0 {
			n.version = n.bootsInto
		}
		c.Answer = "down"
		return nil, status.Error(codes.Unavailable, "rebooting")
	}
	c.Answer = n.version
	return &machine.VersionResponse{Messages: []*machine.Version{{
		Version: &machine.VersionInfo{Tag: n.version, Os: "Talos"},
	}}}, nil
}

func (f *fakeTalos) Upgrade(ctx context.Context, req *machine.UpgradeRequest) (*machine.UpgradeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ip, n, err := f.node(ctx)
	f.calls = append(f.calls, call{Method: "Upgrade", Node: ip, Image: req.GetImage()})
	if err != nil {
		return nil, err
	}
	for other, o := range f.nodes {
		if o.down > 0 {
			f.violations = append(f.violations, fmt.Sprintf("Upgrade of %s while %s is rebooting", ip, other))
		}
	}
	if n.upgradeErr != nil {
		return nil, n.upgradeErr
	}
	if n.bootsInto == "" {
		n.bootsInto = req.GetImage()[strings.LastIndex(req.GetImage(), ":")+1:]
	}
	n.down = max(n.downFor, 1)
	return &machine.UpgradeResponse{Messages: []*machine.Upgrade{{Ack: "Upgrade request received", ActorId: "upgrade-" + ip}}}, nil
}

func (f *fakeTalos) HealthCheck(req *clusterapi.HealthCheckRequest, srv grpc.ServerStreamingServer[clusterapi.HealthCheckProgress]) error {
	f.mu.Lock()
	ip, _, err := f.node(srv.Context())
	f.calls = append(f.calls, call{Method: "HealthCheck", Node: ip,
		ControlPlanes: req.GetClusterInfo().GetControlPlaneNodes(), Workers: req.GetClusterInfo().GetWorkerNodes()})
	i := f.health
	f.health++
	msg, fails := f.healthFails[i]
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if err := srv.Send(&clusterapi.HealthCheckProgress{Message: "waiting for etcd to be healthy"}); err != nil {
		return err
	}
	if fails {
		// The real server returns check.Wait's error as the call's status
		// (internal/app/machined/internal/server/v1alpha1/v1alpha1_cluster.go:78).
		return status.Error(codes.Unknown, msg)
	}
	return nil
}

func (f *fakeTalos) recorded() ([]call, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...), append([]string(nil), f.violations...)
}

// serve starts f on a loopback port and returns a talosconfig for it: the
// client verifies the server against the CA, and the server requires a
// client certificate from the same CA.
func serve(t *testing.T, f *fakeTalos) string {
	t.Helper()
	ca, caKey, caPEM := newCA(t)
	serverCert := leaf(t, ca, caKey, "apid", []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	clientCrt, clientKey := leafPEM(t, ca, caKey, "os:admin", x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS13,
	})))
	machine.RegisterMachineServiceServer(srv, f)
	clusterapi.RegisterClusterServiceServer(srv, f)
	go srv.Serve(lis) //nolint:errcheck // ends with Stop
	t.Cleanup(srv.Stop)

	cfg := map[string]any{
		"context": "onprem",
		"contexts": map[string]any{"onprem": map[string]any{
			"endpoints": []string{lis.Addr().String()},
			"ca":        base64.StdEncoding.EncodeToString(caPEM),
			"crt":       base64.StdEncoding.EncodeToString(clientCrt),
			"key":       base64.StdEncoding.EncodeToString(clientKey),
		}},
	}
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	return string(out)
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "talos"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func leafPEM(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage, ips ...net.IP) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, ips []net.IP, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	crt, key := leafPEM(t, ca, caKey, cn, usage, ips...)
	c, err := tls.X509KeyPair(crt, key)
	require.NoError(t, err)
	return c
}
