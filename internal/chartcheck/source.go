// Package chartcheck renders the program's Helm releases with the Helm Go SDK
// (the library pulumi-kubernetes' helm.sh/v4 Chart uses) and checks the
// result against the charts' own rules and the stack's cluster: values that
// the chart's schema or templates refuse, values keys the chart does not
// know, workloads that need an object only a Helm hook would create,
// apiVersions the cluster does not serve, and custom resources that break
// their CRD's schema.
//
// It links Helm and the Kubernetes API machinery, so only the render test
// (tests/charts) and cmd/charts import it; the program and the mock suite
// do not.
package chartcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/hybridcloud/platform/internal/versions"
)

// Repository is a classic Helm chart repository on disk: an index.yaml and
// the archives it names, as ../shared/charts is and as Pull writes one.
type Repository struct {
	Dir   string
	index *repo.IndexFile

	// renders memoizes Render by everything a render depends on (see
	// Repository.Render).
	rendersMu sync.Mutex
	renders   map[renderKey]renderResult
}

// OpenRepository reads a repository directory's index.
func OpenRepository(dir string) (*Repository, error) {
	idx, err := repo.LoadIndexFile(filepath.Join(dir, "index.yaml"))
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", dir, err)
	}
	return &Repository{Dir: dir, index: idx}, nil
}

// Has reports whether the repository holds a chart version.
func (r *Repository) Has(name, version string) bool { return r.index.Has(name, version) }

// Load reads a chart version from the repository. The archive must match the
// digest in the index. Every call returns a fresh chart: rendering mutates a
// chart's dependency list.
func (r *Repository) Load(name, version string) (*chart.Chart, error) {
	cv, err := r.index.Get(name, version)
	if err != nil || cv.Version != version {
		return nil, fmt.Errorf("chart %s %s is not in the repository %s", name, version, r.Dir)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("chart %s %s: the index names no archive", name, version)
	}
	path := filepath.Join(r.Dir, filepath.FromSlash(cv.URLs[0]))
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	if err := checkDigest(raw, cv.Digest); err != nil {
		return nil, fmt.Errorf("chart %s %s (%s): %w", name, version, path, err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", name, version, err)
	}
	if ch.Metadata.Name != name || ch.Metadata.Version != version {
		return nil, fmt.Errorf("chart archive %s holds %s %s, not %s %s", path, ch.Metadata.Name, ch.Metadata.Version, name, version)
	}
	return ch, nil
}

func checkDigest(raw []byte, want string) error {
	if want == "" {
		return errors.New("the index gives no digest for the archive")
	}
	sum := sha256.Sum256(raw)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("sha256 %s, the index says %s", got, want)
	}
	return nil
}

// Pull downloads every pinned chart from its own repository into dir and
// writes dir/index.yaml, so that dir becomes a repository that a static file
// server (or platform.chartRepository) can serve to an air-gapped site.
// Charts already in dir with the digest the upstream index gives are kept.
// A chart version missing upstream, or an archive whose digest differs, is an
// error: nothing is skipped.
func Pull(ctx context.Context, client *http.Client, pins []versions.Chart, dir string) (*Repository, error) {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out := repo.NewIndexFile()
	indexes := map[string]*repo.IndexFile{}
	for _, pin := range pins {
		idx, ok := indexes[pin.Repo]
		if !ok {
			var err error
			if idx, err = fetchIndex(ctx, client, pin.Repo); err != nil {
				return nil, err
			}
			indexes[pin.Repo] = idx
		}
		cv, err := idx.Get(pin.Name, pin.Version)
		if err != nil || cv.Version != pin.Version {
			return nil, fmt.Errorf("chart %s %s is not in %s/index.yaml", pin.Name, pin.Version, pin.Repo)
		}
		if len(cv.URLs) == 0 {
			return nil, fmt.Errorf("chart %s %s: %s names no archive", pin.Name, pin.Version, pin.Repo)
		}
		file := fmt.Sprintf("%s-%s.tgz", pin.Name, pin.Version)
		path := filepath.Join(dir, file)
		raw, err := os.ReadFile(path)
		if err != nil || checkDigest(raw, cv.Digest) != nil {
			url, err := repo.ResolveReferenceURL(pin.Repo, cv.URLs[0])
			if err != nil {
				return nil, fmt.Errorf("chart %s %s: %w", pin.Name, pin.Version, err)
			}
			if raw, err = get(ctx, client, url); err != nil {
				return nil, fmt.Errorf("chart %s %s: %w", pin.Name, pin.Version, err)
			}
			if err := checkDigest(raw, cv.Digest); err != nil {
				return nil, fmt.Errorf("chart %s %s from %s: %w", pin.Name, pin.Version, url, err)
			}
			if err := writeFileAtomic(path, raw); err != nil {
				return nil, err
			}
		}
		if err := out.MustAdd(cv.Metadata, file, "", cv.Digest); err != nil {
			return nil, fmt.Errorf("chart %s %s: %w", pin.Name, pin.Version, err)
		}
	}
	out.SortEntries()
	tmp := filepath.Join(dir, ".index.yaml.tmp")
	if err := out.WriteFile(tmp, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "index.yaml")); err != nil {
		return nil, err
	}
	return OpenRepository(dir)
}

func fetchIndex(ctx context.Context, client *http.Client, repoURL string) (*repo.IndexFile, error) {
	url, err := repo.ResolveReferenceURL(repoURL, "index.yaml")
	if err != nil {
		return nil, err
	}
	raw, err := get(ctx, client, url)
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", repoURL, err)
	}
	f, err := os.CreateTemp("", "chart-index-*.yaml")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(raw); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	idx, err := repo.LoadIndexFile(f.Name())
	if err != nil {
		return nil, fmt.Errorf("chart repository %s: %w", repoURL, err)
	}
	return idx, nil
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
