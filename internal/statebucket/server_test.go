package statebucket

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hybridcloud/platform/internal/toolpath"
)

// The tests talk to a real S3 server: versitygw (pinned in .ci/run), started
// on a free loopback port with a temporary directory, once for the package,
// and stopped at the end. Without versitygw the tests fail; they never skip.
const versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// s3Server is the running test server.
type s3Server struct {
	bin      string
	endpoint string
	root     Credentials
	cmd      *exec.Cmd
	log      *bytes.Buffer
	dir      string
	exited   <-chan error
}

var server *s3Server

func TestMain(m *testing.M) {
	os.Exit(runWithServer(m))
}

func runWithServer(m *testing.M) int {
	bin, err := toolpath.Find("versitygw")
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the state bucket tests need a real S3 server and found none: %v\n"+
			"install it with:\n\t%s\n(.ci/run does this)\n", err, versitygwInstall)
		return 1
	}
	srv, err := startVersitygw(bin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start versitygw: %v\n", err)
		return 1
	}
	server = srv
	defer srv.stop()
	return m.Run()
}

func startVersitygw(bin string) (*s3Server, error) {
	dir, err := os.MkdirTemp("", "statebucket-s3-")
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"data", "versions", "iam"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 { // a free port can be taken between probe and bind: retry
		srv := &s3Server{
			bin:  bin,
			root: Credentials{AccessKeyID: "rootaccess", SecretAccessKey: "rootsecret-for-tests-only"},
			log:  &bytes.Buffer{},
			dir:  dir,
		}
		if lastErr = srv.start(); lastErr == nil {
			return srv, nil
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

func (s *s3Server) start() error {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	s.endpoint = "http://" + addr
	// --iam-dir: with an IAM store versitygw answers an unknown key with
	// InvalidAccessKeyId, as S3 and Spaces do, and can hold a second account.
	s.cmd = exec.Command(s.bin,
		"--access", s.root.AccessKeyID, "--secret", s.root.SecretAccessKey,
		"--port", addr, "--iam-dir", filepath.Join(s.dir, "iam"),
		"posix", "--versioning-dir", filepath.Join(s.dir, "versions"), filepath.Join(s.dir, "data"))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	setParentDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	s.exited = exited
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited at start (%w):\n%s", err, s.log)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
	return fmt.Errorf("versitygw not listening on %s after 15 s:\n%s", addr, s.log)
}

// stop kills the server, waits for it to exit and removes its files.
func (s *s3Server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		select {
		case <-s.exited: //nolint:errcheck // killed on purpose: its exit status says nothing
		case <-time.After(10 * time.Second):
		}
	}
	_ = os.RemoveAll(s.dir)
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// target is the test server as a bootstrap target.
func (s *s3Server) target(bucket string) Target {
	return Target{Bucket: bucket, Endpoint: s.endpoint, Region: DefaultRegion, PathStyle: true}
}

// backendURL is the test server as a Pulumi DIY backend URL.
func (s *s3Server) backendURL(bucket string) string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=%s&s3ForcePathStyle=true", bucket, s.endpoint, DefaultRegion)
}

// rootClient is an S3 client with the root account, to arrange and inspect.
func (s *s3Server) rootClient() *s3.Client {
	return NewClient(s.target(""), s.root, Options{})
}

// addAccount creates a second account through the gateway's admin API.
func (s *s3Server) addAccount(t *testing.T, creds Credentials) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.bin, "admin",
		"--access", s.root.AccessKeyID, "--secret", s.root.SecretAccessKey, "--endpoint-url", s.endpoint,
		"create-user", "--access", creds.AccessKeyID, "--secret", creds.SecretAccessKey, "--role", "user").CombinedOutput()
	if err != nil {
		t.Fatalf("versitygw admin create-user: %v\n%s", err, out)
	}
}
