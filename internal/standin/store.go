package standin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hybridcloud/platform/internal/simcloud"
)

// Entry is one object in the simulated cloud, as its API would hold it.
type Entry struct {
	Type    string         `json:"type"`
	URN     string         `json:"urn"` // the stack resource that owns it
	ID      string         `json:"id"`
	Outputs map[string]any `json:"outputs"`
}

// Store is the simulated cloud's database: one JSON file per package in a
// directory, shared by every process that serves that package. Writes are
// serialised with an exclusive file lock, so concurrent `pulumi` runs see
// one consistent cloud.
type Store struct {
	path string
	mu   sync.Mutex
}

// OpenStore opens (creating if needed) the store of one package in dir.
func OpenStore(dir, pkg string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("stand-in store: %w", err)
	}
	return &Store{path: filepath.Join(dir, pkg+".json")}, nil
}

// key scopes an id: Kubernetes objects are scoped by cluster, everything else
// by type (an id is unique per type, as in the real APIs).
func key(scope, typ, id string) string { return scope + "|" + typ + "|" + id }

// Get returns an object, or nil when the cloud has none with that id.
func (s *Store) Get(scope, typ, id string) (*Entry, error) {
	var out *Entry
	err := s.with(false, func(m map[string]*Entry) error {
		out = m[key(scope, typ, id)]
		return nil
	})
	return out, err
}

// Put stores an object. It fails when another stack resource already owns an
// object with that id, as the real API refuses a duplicate name.
func (s *Store) Put(scope string, e *Entry) error {
	return s.with(true, func(m map[string]*Entry) error {
		k := key(scope, e.Type, e.ID)
		if old, ok := m[k]; ok && old.URN != e.URN {
			return fmt.Errorf("%s %q already exists (owned by %s)", e.Type, e.ID, old.URN)
		}
		m[k] = e
		return nil
	})
}

// Delete removes an object; deleting one that is gone is not an error.
func (s *Store) Delete(scope, typ, id string) error {
	return s.with(true, func(m map[string]*Entry) error {
		delete(m, key(scope, typ, id))
		return nil
	})
}

// Find returns the first object of a type whose id matches, in any scope.
func (s *Store) Find(typ, id string) (*Entry, error) {
	var out *Entry
	err := s.with(false, func(m map[string]*Entry) error {
		for _, e := range m {
			if e.Type == typ && e.ID == id {
				out = e
				return nil
			}
		}
		return nil
	})
	return out, err
}

// FindBy returns the first object of a type whose output key holds value,
// in a stable order (by store key).
func (s *Store) FindBy(typ, key, value string) (*Entry, error) {
	var out *Entry
	err := s.with(false, func(m map[string]*Entry) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if e := m[k]; e.Type == typ && e.Outputs[key] == value {
				out = e
				return nil
			}
		}
		return nil
	})
	return out, err
}

// with runs fn on the store's contents under the file lock, writing them
// back when write is set.
func (s *Store) with(write bool, fn func(map[string]*Entry) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("stand-in store: %w", err)
	}
	defer lock.Close()
	how := syscall.LOCK_SH
	if write {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(lock.Fd()), how); err != nil {
		return fmt.Errorf("stand-in store: lock: %w", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()

	m := map[string]*Entry{}
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("stand-in store: %w", err)
	default:
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("stand-in store %s: %w", s.path, err)
		}
	}
	if err := fn(m); err != nil {
		return err
	}
	if !write {
		return nil
	}
	data, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("stand-in store: %w", err)
	}
	return os.Rename(tmp, s.path)
}

// SensitiveValues reads every store in dir and returns the values the
// simulated clouds handed out in outputs the real providers mark sensitive
// (simcloud.Kind.Sensitive), sorted, so that tests can look for them in the
// Pulumi state. Only strings of 16 characters or more count (shorter ones
// cannot be told apart in a state file), and a value that some object also
// shows in a property that is not sensitive (an access key id copied into a
// Kubernetes Secret, a host name copied from an input) is public and left out.
func SensitiveValues(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sensitive, public := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m := map[string]*Entry{}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range m {
			kind, _ := simcloud.Lookup(e.Type)
			for k, v := range e.Outputs {
				if slices.Contains(kind.Sensitive, k) {
					stringLeaves(v, sensitive)
				} else {
					stringLeaves(v, public)
				}
			}
		}
	}
	out := make([]string, 0, len(sensitive))
	for v := range sensitive {
		if len(v) >= 16 && !public[v] {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out, nil
}

func stringLeaves(v any, into map[string]bool) {
	switch v := v.(type) {
	case string:
		into[v] = true
	case map[string]any:
		for _, e := range v {
			stringLeaves(e, into)
		}
	case []any:
		for _, e := range v {
			stringLeaves(e, into)
		}
	}
}

// entry builds a store entry from a provider's outputs: what the cloud's own
// API keeps, secrets unwrapped.
func entry(typ, urn, id string, outputs resource.PropertyMap) *Entry {
	return &Entry{Type: typ, URN: urn, ID: id, Outputs: simcloud.Plain(outputs)}
}
