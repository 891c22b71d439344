package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSampleDataDocsMatchTheFiles keeps the docs about sample-data true:
// every file sample-data/README.md names exists, its checksums are the
// files', every sample pipeline is in the README's table, and every
// dataset is read by one of them.
func TestSampleDataDocsMatchTheFiles(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("sample-data", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`([A-Za-z0-9_./-]+\\.(?:csv|json|yaml|py))`")
	for _, m := range named.FindAllStringSubmatch(string(doc), -1) {
		name := m[1]
		if _, err := os.Stat(filepath.Join("sample-data", name)); err == nil {
			continue
		}
		if _, err := os.Stat(name); err != nil {
			t.Errorf("sample-data/README.md names %s, which is neither in sample-data/ nor in the repository", name)
		}
	}

	_, sums, ok := strings.Cut(string(doc), "## Checksums")
	if !ok {
		t.Fatal("sample-data/README.md has no Checksums section")
	}
	line := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
	listed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(sums))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		listed[m[2]] = true
		b, err := os.ReadFile(filepath.Join("sample-data", m[2]))
		if err != nil {
			t.Errorf("checksum for %s: %v", m[2], err)
			continue
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != m[1] {
			t.Errorf("%s: sha256 %x, README says %s", m[2], h, m[1])
		}
	}
	datasets, _ := filepath.Glob(filepath.Join("sample-data", "*.csv"))
	splits, _ := filepath.Glob(filepath.Join("sample-data", "splits", "*.csv"))
	for _, f := range append(datasets, splits...) {
		rel, _ := filepath.Rel("sample-data", f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s has no checksum in sample-data/README.md", rel)
		}
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	pipelines, _ := filepath.Glob(filepath.Join("sample-data", "*.yaml"))
	var texts []string
	for _, p := range pipelines {
		if !strings.Contains(string(readme), "| `"+filepath.Base(p)+"` |") {
			t.Errorf("%s is not in the README's table of sample pipelines", filepath.Base(p))
		}
		b, _ := os.ReadFile(p)
		texts = append(texts, string(b))
	}
	for _, f := range datasets {
		stem := strings.TrimSuffix(filepath.Base(f), ".csv")
		used := false
		for _, text := range texts {
			used = used || strings.Contains(text, stem+".csv") || strings.Contains(text, "splits/"+stem+"_train.csv")
		}
		if !used {
			t.Errorf("no sample pipeline reads %s", filepath.Base(f))
		}
	}
}
