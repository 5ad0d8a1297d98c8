package localcloud

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hybridcloud/platform/internal/localcluster"
	"github.com/hybridcloud/platform/internal/statebucket"
)

// S3 is a versitygw server on loopback, standing in for DO Spaces. It stores
// objects as files under Dir/data and enforces SigV4 with one key pair.
type S3 struct {
	Endpoint string // http://127.0.0.1:PORT
	Dir      string
	Creds    statebucket.Credentials

	cmd    *exec.Cmd
	exited chan error
	mu     sync.Mutex
	log    bytes.Buffer
}

// StartS3 starts versitygw on a free loopback port with its files in dir.
func StartS3(bin, dir string) (*S3, error) {
	for _, sub := range []string{"data", "versions"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for range 3 { // a free port can be taken between probe and bind: retry
		s := &S3{Dir: dir, Creds: statebucket.Credentials{
			AccessKeyID: "localcloudaccess", SecretAccessKey: "localcloud-secret-not-for-real-use"}}
		if lastErr = s.start(bin); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *S3) start(bin string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	_ = l.Close()
	s.Endpoint = "http://" + addr
	s.cmd = exec.Command(bin, "--quiet", "--access", s.Creds.AccessKeyID, "--secret", s.Creds.SecretAccessKey,
		"--port", addr, "posix", "--versioning-dir", filepath.Join(s.Dir, "versions"), filepath.Join(s.Dir, "data"))
	s.cmd.Stdout, s.cmd.Stderr = &lockedWriter{w: &s.log, mu: &s.mu}, &lockedWriter{w: &s.log, mu: &s.mu}
	localcluster.SetDieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-s.exited:
			return fmt.Errorf("versitygw exited at start (%w): %s", err, s.Log())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
	return fmt.Errorf("versitygw not listening on %s after 15 s: %s", addr, s.Log())
}

// BackendURL is the Pulumi DIY backend URL of a bucket on this server.
func (s *S3) BackendURL(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + s.Endpoint + "&region=us-east-1&s3ForcePathStyle=true"
}

// Bootstrap creates the state bucket, private and versioned, with the same
// code as `go run ./cmd/bootstrap-state`.
func (s *S3) Bootstrap(ctx context.Context, bucket string) error {
	t, err := statebucket.ParseBackendURL(s.BackendURL(bucket))
	if err != nil {
		return err
	}
	_, err = statebucket.Ensure(ctx, t, s.Creds, statebucket.Options{})
	return err
}

// Objects lists the keys under a prefix of a bucket, through the S3 API.
func (s *S3) Objects(ctx context.Context, bucket, prefix string) ([]string, error) {
	client, err := s.client(bucket)
	if err != nil {
		return nil, err
	}
	var keys []string
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	return keys, nil
}

// Get reads an object through the S3 API.
func (s *S3) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	client, err := s.client(bucket)
	if err != nil {
		return nil, err
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (s *S3) client(bucket string) (*s3.Client, error) {
	t, err := statebucket.ParseBackendURL(s.BackendURL(bucket))
	if err != nil {
		return nil, err
	}
	return statebucket.NewClient(t, s.Creds, statebucket.Options{}), nil
}

// Log returns what the server printed.
func (s *S3) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop kills the server and waits for it.
func (s *S3) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case err := <-s.exited:
		_ = err // killed: the exit status says so and nothing more
	case <-time.After(5 * time.Second):
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
