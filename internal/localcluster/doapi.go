package localcluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hybridcloud/platform/internal/config"
)

// doCredentialsTTL is how long a token the simulated credentials endpoint
// hands out says it is valid: 7 days, what DigitalOcean gives when no expiry
// is asked for (its API reference, "Retrieve Credentials for a Kubernetes
// Cluster").
const doCredentialsTTL = 7 * 24 * time.Hour

// serveDOCredentials answers the one DigitalOcean API call the program's DOKS
// kubeconfig makes through doctl: GET /v2/kubernetes/clusters/ID/credentials
// (the path and the answer's fields as godo v1.202.0 kubernetes.go reads
// them, GetCredentials and KubernetesClusterCredentials). It requires the
// account token as a bearer, as the real API does, and hands out the DOKS
// API server's admin token: the real doctl, run by the real Kubernetes
// provider, then connects with it. Any other path is a 404: nothing else of
// DigitalOcean is simulated here.
func (cp *ControlPlane) serveDOCredentials(accountToken string) error {
	doks := cp.Clusters[config.ClusterDOKS]
	if doks == nil || doks.Token == "" {
		return errors.New("the DigitalOcean credentials endpoint needs the DOKS cluster's token (Options.DOKSToken)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cp.DOAPI = "http://" + l.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/kubernetes/clusters/{id}/credentials", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+accountToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"id":"Unauthorized","message":"Unable to authenticate you"}`))
			return
		}
		cp.credentialCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"server":                     doks.Endpoint,
			"certificate_authority_data": doks.CA, // []byte: base64 in JSON, as godo decodes it
			"token":                      doks.Token,
			"expires_at":                 time.Now().Add(doCredentialsTTL).UTC().Format(time.RFC3339),
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, fmt.Sprintf("not simulated: %s %s", r.Method, strings.TrimSpace(r.URL.Path)), http.StatusNotFound)
	})
	cp.doapi = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := cp.doapi.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(cp.log, "localcluster: DigitalOcean credentials endpoint: %v\n", err)
		}
	}()
	return nil
}

// CredentialCalls is how many tokens the credentials endpoint handed out.
func (cp *ControlPlane) CredentialCalls() int64 { return cp.credentialCalls.Load() }
