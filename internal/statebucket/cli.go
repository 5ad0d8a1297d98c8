package statebucket

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Exit codes of the bootstrap-state command.
const (
	ExitOK          = 0 // bucket is right (created, fixed, or already right)
	ExitFailed      = 1 // refused credentials, unreachable server, name taken...
	ExitUsage       = 2 // bad flags or no bucket to work on
	ExitWouldChange = 3 // -check found something to change
)

// Main is the bootstrap-state command. getenv supplies the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, PULUMI_BACKEND_URL). It returns
// the process exit code.
func Main(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bootstrap-state", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: go run ./cmd/bootstrap-state [flags]

Creates the Spaces bucket that holds the Pulumi state, private and versioned.
Safe to re-run: a bucket that is already right is left alone. The target comes
from the flags, else PULUMI_BACKEND_URL, else backend.url in Pulumi.yaml.
Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a Spaces key).

`)
		fs.PrintDefaults()
	}
	backendURL := fs.String("backend-url", "", "Pulumi backend URL to read the target from (default $PULUMI_BACKEND_URL, else backend.url in Pulumi.yaml)")
	projectDir := fs.String("project-dir", ".", "directory holding Pulumi.yaml")
	bucket := fs.String("bucket", "", "bucket name (overrides the backend URL)")
	endpoint := fs.String("endpoint", "", "S3 endpoint, host or URL (default from the backend URL, else "+DefaultEndpoint+")")
	region := fs.String("region", "", "signing region (default from the backend URL, else "+DefaultRegion+")")
	pathStyle := fs.Bool("path-style", false, "path-style addressing (default from the backend URL's s3ForcePathStyle)")
	check := fs.Bool("check", false, "report what would change, change nothing; exit 3 if something would")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bootstrap-state: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}

	target, source, err := resolveTarget(*backendURL, getenv("PULUMI_BACKEND_URL"), *projectDir)
	if err != nil {
		fmt.Fprintln(stderr, "bootstrap-state:", err)
		return ExitUsage
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "bucket":
			target.Bucket = *bucket
		case "endpoint":
			target.Endpoint = *endpoint
		case "region":
			target.Region = *region
		case "path-style":
			target.PathStyle = *pathStyle
		}
	})
	fmt.Fprintf(stdout, "target from %s\n", source)

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	creds := Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY")}
	rep, err := Ensure(ctx, target, creds, Options{CheckOnly: *check})
	if err != nil {
		var credErr *CredentialsError
		if errors.As(err, &credErr) {
			fmt.Fprintln(stderr, "bootstrap-state: refused:", err)
		} else {
			fmt.Fprintln(stderr, "bootstrap-state:", err)
		}
		return ExitFailed
	}
	fmt.Fprint(stdout, rep.String())
	if *check && rep.Changed() {
		return ExitWouldChange
	}
	return ExitOK
}

// resolveTarget picks the backend URL: the flag, else the environment, else
// Pulumi.yaml; it says which it used.
func resolveTarget(flagURL, envURL, projectDir string) (Target, string, error) {
	switch {
	case flagURL != "":
		t, err := ParseBackendURL(flagURL)
		return t, "--backend-url", err
	case envURL != "":
		t, err := ParseBackendURL(envURL)
		return t, "PULUMI_BACKEND_URL", err
	}
	u, err := ProjectBackendURL(projectDir)
	if err != nil {
		return Target{}, "", fmt.Errorf("no --backend-url or PULUMI_BACKEND_URL, and %w", err)
	}
	if u == "" {
		return Target{}, "", errors.New("no --backend-url, PULUMI_BACKEND_URL or backend.url in Pulumi.yaml: nothing names the bucket")
	}
	t, err := ParseBackendURL(u)
	return t, "backend.url in Pulumi.yaml", err
}
