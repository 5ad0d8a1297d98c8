package localcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client is a small JSON client of one API server, as its admin (client
// certificate in system:masters). The harness and its tests use it; the
// program talks to the clusters only through the real provider.
type Client struct {
	Endpoint string
	http     *http.Client
	// stream shares http's transport without its timeout: a watch stays
	// open until the server ends it or its context is cancelled.
	stream *http.Client
}

func newClient(endpoint string, ca []byte, admin *keyPair) (*Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("bad CA certificate")
	}
	cert, err := tls.X509KeyPair(admin.Cert, admin.Key)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
	}}
	return &Client{
		Endpoint: endpoint,
		http:     &http.Client{Timeout: 30 * time.Second, Transport: transport},
		stream:   &http.Client{Transport: transport},
	}, nil
}

// StatusError is a refusal by the API server: its HTTP code and Status.
type StatusError struct {
	Code    int
	Reason  string
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("API server: %d %s: %s", e.Code, e.Reason, e.Message)
}

// Do sends a request with a JSON body (nil for none) and decodes a JSON
// answer into out (nil to discard). A non-2xx answer is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, contentType ...string) error {
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return err
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		ct := "application/json"
		if len(contentType) > 0 {
			ct = contentType[0]
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var st struct{ Reason, Message string }
		_ = json.Unmarshal(data, &st)
		if st.Message == "" {
			st.Message = string(data)
		}
		return &StatusError{Code: resp.StatusCode, Reason: st.Reason, Message: st.Message}
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(*[]byte); ok {
		*s = data
		return nil
	}
	return json.Unmarshal(data, out)
}

// Get decodes the object at path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Create posts obj to the collection at path.
func (c *Client) Create(ctx context.Context, path string, obj any) error {
	return c.Do(ctx, http.MethodPost, path, obj, nil)
}

// IsStatus reports whether err is an API refusal with that HTTP code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Watch opens a watch of the collection at path (a list path such as
// /api/v1/services) and calls event once per event the server sends, until
// the server closes the stream, ctx ends or the stream breaks. With no
// resourceVersion the server first sends an ADDED event for every object
// that exists, so a new watch also reports the present state.
func (c *Client) Watch(ctx context.Context, path string, event func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoint+path+"?watch=true", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(resp.Body)
		return &StatusError{Code: resp.StatusCode, Message: string(data)}
	}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Type string `json:"type"`
		}
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if ev.Type == "ERROR" {
			return errors.New("watch of " + path + ": the server sent an ERROR event")
		}
		event()
	}
}
