package serve_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkServe scores 1-row and 1,000-row CSV requests against the real
// handler over loopback TCP, one request at a time, and reports requests
// and rows per second and the p50/p99 latency. Bound it with -benchtime,
// e.g. go test -run ^$ -bench Serve -benchtime 2000x ./serve.
func BenchmarkServe(b *testing.B) {
	ts := newServer(b, 0)
	src, err := os.ReadFile(filepath.Join("..", "sample-data", "iris.csv"))
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	header, data := lines[0], lines[1:]
	for _, n := range []int{1, 1000} {
		var body bytes.Buffer
		body.WriteString(header + "\n")
		for i := range n {
			body.WriteString(data[i%len(data)] + "\n")
		}
		payload := body.Bytes()
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			lat := make([]time.Duration, 0, b.N)
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				t0 := time.Now()
				resp, err := client.Post(ts.URL+"/invocations", "text/csv", bytes.NewReader(payload))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				lat = append(lat, time.Since(t0))
			}
			total := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(b.N)/total.Seconds(), "req/s")
			b.ReportMetric(float64(b.N*n)/total.Seconds(), "rows/s")
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}
