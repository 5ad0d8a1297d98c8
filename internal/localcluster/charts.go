package localcluster

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// serveCharts serves the offline chart mirror (a classic Helm repository:
// index.yaml with relative URLs, and the archives) on loopback, for the real
// provider to pull charts from. The directory is served read-only, as is.
func (cp *ControlPlane) serveCharts(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.yaml")); err != nil {
		return fmt.Errorf("chart mirror: %w (the offline chart repository, ../shared/charts beside the repository)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cp.ChartRepository = "http://" + l.Addr().String()
	cp.charts = &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := cp.charts.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(cp.log, "localcluster: chart server: %v\n", err)
		}
	}()
	return nil
}
