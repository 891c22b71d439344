package stages_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
	"github.com/sluice-ml/sluice/engine/stages"
)

// The PostgreSQL tests run against the server named by SLUICE_TEST_POSTGRES
// (a postgres:// URL; .ci/run starts a throwaway one). Without it they are
// skipped, loudly, except in CI, where they fail.

var pgVersionOnce sync.Once

// postgresURL returns a URL of the test server whose search_path is a new
// schema of the test's own, dropped when the test ends.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SLUICE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("SLUICE_TEST_POSTGRES is not set: CI must run the PostgreSQL tests (.ci/run starts a server)")
		}
		t.Skip("SKIPPED: SLUICE_TEST_POSTGRES is not set, so the PostgreSQL tests do not run (see .ci/postgres.sh)")
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version string
	if err := db.QueryRow("SELECT version()").Scan(&version); err != nil {
		t.Fatalf("the PostgreSQL test server does not answer: %v", err)
	}
	pgVersionOnce.Do(func() { fmt.Printf("PostgreSQL test server: %s\n", version) })
	t.Logf("PostgreSQL test server: %s", version)
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", base); err == nil {
			if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
				t.Logf("drop test schema %s: %v", schema, err)
			}
			db.Close()
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// sqlTable returns a frame with every column type and missing values in
// each, holding values both databases keep exactly: times to the
// microsecond (PostgreSQL's precision), no -0.
func sqlTable(t *testing.T, n int) *frame.Frame {
	t.Helper()
	fl := make([]float64, n)
	in := make([]int64, n)
	bo := make([]bool, n)
	st := make([]string, n)
	tm := make([]time.Time, n)
	words := []string{"setosa", "", "versicolor", "ünïcødé ✓ \"quoted\" 'single'", "virginica"}
	base := time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)
	nulls := func(k int) []bool {
		m := make([]bool, n)
		for i := range m {
			m[i] = i%7 == k
		}
		return m
	}
	for i := 0; i < n; i++ {
		fl[i] = float64(i)*1.25 - 3 + 1.0/3
		in[i] = int64(i*i) - 50
		bo[i] = i%3 == 0
		st[i] = words[i%len(words)]
		tm[i] = base.Add(time.Duration(i)*36*time.Hour + time.Duration(i)*time.Microsecond)
	}
	fl[0], fl[1] = math.Inf(1), math.MaxFloat64
	in[0], in[1] = math.MaxInt64, math.MinInt64
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	f, err := frame.New(
		frame.NewInt("id", ids, nil),
		frame.NewFloat("f", fl, nulls(3)),
		frame.NewInt("i", in, nulls(4)),
		frame.NewBool("b", bo, nulls(5)),
		frame.NewString("s", st, nulls(6)),
		frame.NewTime("t", tm, nulls(2)),
		frame.NewString("empty", make([]string, n), nulls(-1)),
	)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sameTable fails unless got has want's schema and values, missing values
// in the same places.
func sameTable(t *testing.T, what string, got, want *frame.Frame) {
	t.Helper()
	if g, w := got.Schema().String(), want.Schema().String(); g != w {
		t.Fatalf("%s: schema %s, want %s", what, g, w)
	}
	if got.NumRows() != want.NumRows() {
		t.Fatalf("%s: %d rows, want %d", what, got.NumRows(), want.NumRows())
	}
	for c := 0; c < want.NumCols(); c++ {
		gc, wc := got.Col(c), want.Col(c)
		for r := 0; r < want.NumRows(); r++ {
			if g, w := fmt.Sprint(gc.Value(r)), fmt.Sprint(wc.Value(r)); g != w {
				t.Fatalf("%s: column %s row %d: %s, want %s", what, wc.Name, r, g, w)
			}
		}
	}
	if got.Fingerprint() != want.Fingerprint() {
		t.Fatalf("%s: fingerprints differ", what)
	}
}

func writeParquetFile(t *testing.T, path string, f *frame.Frame) {
	t.Helper()
	var buf bytes.Buffer
	if err := stages.WriteParquet(&buf, f, "zstd"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSQLRoundTripPostgres is the sources issue's done-when: Parquet →
// SQLite → PostgreSQL → Parquet keeps every value and type.
func TestSQLRoundTripPostgres(t *testing.T) {
	pg := postgresURL(t)
	t.Setenv("SLUICE_CONN_WAREHOUSE", pg)
	want := sqlTable(t, 2500)
	path := pipeline(t, `
  - {id: src, uses: read_parquet, with: {path: in.parquet}}
  - {id: lite, uses: write_sql, with: {connection: local, table: flowers, mode: replace}}
  - {id: lite_back, uses: read_sql, with: {connection: local, query: "SELECT * FROM flowers ORDER BY id"}}
  - {id: pg, uses: write_sql, with: {connection: warehouse, table: flowers, mode: replace}}
  - {id: pg_back, uses: read_sql, with: {connection: warehouse, query: "SELECT * FROM flowers ORDER BY id"}}
  - {id: out, uses: write_parquet, with: {path: out.parquet}}
  - {id: final, uses: read_parquet, with: {path: out.parquet}}
`, map[string]string{"connections": "connections:\n  local: sqlite:data/local.db\n"})
	writeParquetFile(t, filepath.Join(filepath.Dir(path), "in.parquet"), want)
	tables, err := outputs(t, mustPlan(t, path))
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "SQLite", tables["lite_back"], want)
	sameTable(t, "PostgreSQL", tables["pg_back"], want)
	sameTable(t, "Parquet at the end", tables["final"], want)
}

// TestSQLRoundTripSQLite is the same round trip without a server, so it
// runs everywhere; SQLite also keeps nanoseconds.
func TestSQLRoundTripSQLite(t *testing.T) {
	t.Parallel()
	want := allTypesForSQLite(t)
	path := pipeline(t, `
  - {id: src, uses: read_parquet, with: {path: in.parquet}}
  - {id: lite, uses: write_sql, with: {connection: local, table: flowers}}
  - {id: back, uses: read_sql, with: {connection: local, query: "SELECT * FROM flowers ORDER BY id"}}
`, map[string]string{"connections": "connections:\n  local: sqlite:local.db\n"})
	writeParquetFile(t, filepath.Join(filepath.Dir(path), "in.parquet"), want)
	tables, err := outputs(t, mustPlan(t, path))
	if err != nil {
		t.Fatal(err)
	}
	sameTable(t, "SQLite", tables["back"], want)
}

func allTypesForSQLite(t *testing.T) *frame.Frame {
	f := sqlTable(t, 1000)
	c, _ := f.ColByName("t")
	times := make([]time.Time, c.Len())
	nulls := c.Nulls()
	for i := range times {
		v, _ := c.TimeAt(i)
		times[i] = v.Add(789 * time.Nanosecond)
	}
	g, err := f.WithColumn(frame.NewTime("t", times, nulls))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// dbCase is a database the write_sql tests run against.
type dbCase struct {
	name string
	url  func(t *testing.T) string
	open func(t *testing.T, url string) *sql.DB
}

func dbCases() []dbCase {
	return []dbCase{
		{"SQLite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "db.sqlite") },
			func(t *testing.T, u string) *sql.DB {
				db, err := sql.Open("sqlite", strings.TrimPrefix(u, "sqlite:"))
				if err != nil {
					t.Fatal(err)
				}
				return db
			}},
		{"Postgres", postgresURL, func(t *testing.T, u string) *sql.DB {
			db, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
	}
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriteSQLModes: fail refuses an existing table, append adds, replace
// replaces; and a write that fails half way leaves the table as it was.
func TestWriteSQLModes(t *testing.T) {
	for _, dc := range dbCases() {
		t.Run(dc.name, func(t *testing.T) {
			u := dc.url(t)
			t.Setenv("SLUICE_CONN_DB", u)
			db := dc.open(t, u)
			defer db.Close()
			rows := func(n int) string {
				var b strings.Builder
				b.WriteString("x,label\n")
				for i := 0; i < n; i++ {
					fmt.Fprintf(&b, "%d,row %d\n", i, i)
				}
				return b.String()
			}
			run := func(mode string, data string) error {
				path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: data.csv}}
  - {id: save, uses: write_sql, with: {connection: db, table: items, mode: `+mode+`}}
`, map[string]string{"data.csv": data})
				_, err := outputs(t, mustPlan(t, path))
				return err
			}
			if err := run("fail", rows(3)); err != nil {
				t.Fatal(err)
			}
			err := run("fail", rows(3))
			if err == nil || !strings.Contains(err.Error(), "table items exists in db (mode: fail") {
				t.Fatalf("fail mode on an existing table: got %v", err)
			}
			if err := run("append", rows(4)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, db, "items"); got != 7 {
				t.Fatalf("after append: %d rows, want 7", got)
			}
			if err := run("replace", rows(5)); err != nil {
				t.Fatal(err)
			}
			if got := count(t, db, "items"); got != 5 {
				t.Fatalf("after replace: %d rows, want 5", got)
			}

			// Half way: a constraint that row 4000 of 6000 breaks, in
			// append mode (rows 1-3999 went in, in several statements,
			// before it failed).
			if _, err := db.Exec(`CREATE TABLE guarded (x BIGINT CHECK (x < 4000), label TEXT)`); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO guarded VALUES (-1, 'old'), (-2, 'old')`); err != nil {
				t.Fatal(err)
			}
			path := pipeline(t, `
  - {id: load, uses: read_csv, with: {path: data.csv}}
  - {id: save, uses: write_sql, with: {connection: db, table: guarded, mode: append}}
`, map[string]string{"data.csv": rows(6000)})
			_, err = outputs(t, mustPlan(t, path))
			if err == nil || !strings.Contains(err.Error(), "table guarded not written (nothing changed)") {
				t.Fatalf("half-way failure: got %v", err)
			}
			if got := count(t, db, "guarded"); got != 2 {
				t.Fatalf("after a failed append: %d rows, want the 2 there were", got)
			}
			// And replace: the old table stays when the new rows fail.
			path = pipeline(t, `
  - {id: load, uses: read_csv, with: {path: data.csv}}
  - {id: save, uses: write_sql, with: {connection: db, table: guarded, mode: replace}}
`, map[string]string{"data.csv": "x,label\n1,a\n2,b\n"})
			if _, err := db.Exec(`CREATE VIEW guarded_view AS SELECT * FROM guarded`); err != nil {
				t.Fatal(err)
			}
			if _, err = outputs(t, mustPlan(t, path)); dc.name == "Postgres" && err == nil {
				t.Fatal("replace of a table a view depends on: no error")
			}
			if dc.name == "Postgres" && count(t, db, "guarded") != 2 {
				t.Fatal("a failed replace changed the table")
			}
		})
	}
}

// TestSQLTypes reads columns of the types each database has.
func TestSQLTypes(t *testing.T) {
	for _, dc := range dbCases() {
		t.Run(dc.name, func(t *testing.T) {
			u := dc.url(t)
			t.Setenv("SLUICE_CONN_DB", u)
			db := dc.open(t, u)
			defer db.Close()
			var ddl, query, wantSchema, wantRow, bad, badErr string
			if dc.name == "SQLite" {
				ddl = `CREATE TABLE kinds (a INTEGER, b REAL, c TEXT, d BOOLEAN, e DATETIME, f DATE, g VARCHAR(10), h NUMERIC, i BLOB);
INSERT INTO kinds VALUES (1, 1.5, 'x', 1, '2024-01-31 10:20:30', '2024-02-01', 'v', 2.5, X'6869');
INSERT INTO kinds VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`
				query = `SELECT *, a + 1 AS expr, NULL AS none_here FROM kinds`
				wantSchema = "a int, b float, c string, d bool, e time, f time, g string, h float, i string, expr int, none_here string"
				wantRow = "1 1.5 x true 2024-01-31 10:20:30 +0000 UTC 2024-02-01 00:00:00 +0000 UTC v 2.5 hi 2 <nil>"
				bad = `SELECT X'FF00' AS raw`
				badErr = `column "raw", row 1: binary value that is not UTF-8 text`
			} else {
				ddl = `CREATE TABLE kinds (a SMALLINT, b INTEGER, c BIGINT, d REAL, e DOUBLE PRECISION, f NUMERIC(10,3), g BOOLEAN, h TEXT, i VARCHAR(5), j CHAR(2), k DATE, l TIMESTAMP, m TIMESTAMPTZ, n UUID, o JSONB);
INSERT INTO kinds VALUES (1, 2, 3, 1.5, 2.25, 12.345, true, 'x', 'v', 'c', '2024-02-01', '2024-01-31 10:20:30.123456', '2024-01-31 10:20:30+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": 1}');
INSERT INTO kinds VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`
				query = `SELECT * FROM kinds`
				wantSchema = "a int, b int, c int, d float, e float, f float, g bool, h string, i string, j string, k time, l time, m time, n string, o string"
				wantRow = `1 2 3 1.5 2.25 12.345 true x v c  2024-02-01 00:00:00 +0000 UTC 2024-01-31 10:20:30.123456 +0000 UTC 2024-01-31 08:20:30 +0000 UTC a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 {"k": 1}`
				bad = `SELECT interval '1 day' AS span`
				badErr = `column "span": PostgreSQL type INTERVAL is not supported`
			}
			for _, stmt := range strings.Split(ddl, ";\n") {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			path := pipeline(t, `
  - {id: q, uses: read_sql, with: {connection: db, query: `+yamlQuote(query)+`}}
`, nil)
			tables, err := outputs(t, mustPlan(t, path))
			if err != nil {
				t.Fatal(err)
			}
			f := tables["q"]
			if got := f.Schema().String(); got != wantSchema {
				t.Fatalf("schema:\n got %s\nwant %s", got, wantSchema)
			}
			var cells []string
			for c := 0; c < f.NumCols(); c++ {
				cells = append(cells, fmt.Sprint(f.Col(c).Value(0)))
				if !f.Col(c).IsNull(1) {
					t.Errorf("column %s: row 2 is not missing", f.Col(c).Name)
				}
			}
			if got := strings.Join(cells, " "); got != wantRow {
				t.Fatalf("row 1:\n got %s\nwant %s", got, wantRow)
			}
			path = pipeline(t, `
  - {id: q, uses: read_sql, with: {connection: db, query: `+yamlQuote(bad)+`}}
`, nil)
			if _, err := outputs(t, mustPlan(t, path)); err == nil || !strings.Contains(err.Error(), badErr) {
				t.Fatalf("got %v, want %s", err, badErr)
			}
		})
	}
}

// TestSQLConnectionErrors: names only, never URLs, in the pipeline file;
// an unknown name says where to define it.
func TestSQLConnectionErrors(t *testing.T) {
	t.Setenv("SLUICE_CONN_NOWHERE", "")
	path := pipeline(t, `
  - {id: a, uses: read_sql, with: {connection: "postgres://u:pw@h/db", table: x}}
  - {id: b, uses: read_sql, with: {connection: nowhere, table: x}}
  - {id: c, uses: read_sql, with: {connection: local}}
  - {id: d, uses: read_sql, needs: [], with: {connection: other, table: x}}
`, map[string]string{"connections": "connections:\n  local: sqlite:x.db\n  other: mysql://h/db\n"})
	got := invalid(t, path)
	for _, want := range []string{
		"connection: name a connection defined outside the pipeline file",
		"connection: no connection nowhere in ",
		"query: give query or table",
		"connection other (from ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("validation:\n%s\nlacks %s", got, want)
		}
	}
	if strings.Contains(got, "pw") && !strings.Contains(got, "postgres://u:pw@h/db") {
		t.Errorf("validation output quotes the password in another form:\n%s", got)
	}
}

// TestSQLSecretsNeverShown: a password in a connection's URL appears in no
// log line, run record or error message, whether the connection works,
// the query fails or the server cannot be reached.
func TestSQLSecretsNeverShown(t *testing.T) {
	pg := postgresURL(t)
	const password = "Pw-8c1f-Sekr1t!" // the test server trusts local users, so any password connects
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	good := u.String()
	bad := *u
	q := bad.Query()
	q.Set("host", filepath.Join(t.TempDir(), "no-server-here"))
	q.Set("connect_timeout", "2")
	bad.RawQuery = q.Encode()
	t.Setenv("SLUICE_CONN_WAREHOUSE", good)
	t.Setenv("SLUICE_CONN_DOWN", bad.String())

	dir := t.TempDir()
	mustWriteFile(t, filepath.Join(dir, "iris.csv"), []byte(irisDirty(t)))
	mustWriteFile(t, filepath.Join(dir, "connections"), []byte("connections:\n  filed: "+good+"\n"))
	for _, tt := range []struct {
		name   string
		stages string
		fails  bool
	}{
		{"works", `
  - {id: load, uses: read_csv, with: {path: iris.csv}}
  - {id: save, uses: write_sql, with: {connection: warehouse, table: iris, mode: replace}}
  - {id: back, uses: read_sql, with: {connection: filed, query: "SELECT count(*) AS n FROM iris"}}
`, false},
		{"bad query", `
  - {id: back, uses: read_sql, with: {connection: warehouse, query: "SELEKT nonsense"}}
`, true},
		{"no server", `
  - {id: back, uses: read_sql, with: {connection: down, table: iris}}
`, true},
		{"no server, writing", `
  - {id: load, uses: read_csv, with: {path: iris.csv}}
  - {id: save, uses: write_sql, with: {connection: down, table: iris}}
`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "p.yaml")
			src := "name: secrets\nstages:\n" + tt.stages
			mustWriteFile(t, path, []byte(src))
			plan := mustPlan(t, path)
			run, rec := execute(t, context.Background(), plan)
			if (run.Status == engine.StatusFailed) != tt.fails {
				t.Fatalf("status %s", run.Status)
			}
			record, _ := json.Marshal(run)
			var logs strings.Builder
			for _, l := range rec.logs {
				logs.WriteString(l.Text + "\n")
			}
			for what, text := range map[string]string{"pipeline file": src, "run record": string(record), "logs": logs.String()} {
				if strings.Contains(text, password) || strings.Contains(text, url.QueryEscape(password)) {
					t.Errorf("the password is in the %s:\n%s", what, text)
				}
			}
			if tt.fails {
				var errs []string
				for _, s := range run.Stages {
					if s.Error != "" {
						errs = append(errs, s.Error)
					}
				}
				if len(errs) == 0 {
					t.Fatal("no stage error recorded")
				}
				t.Logf("errors as recorded: %s", strings.Join(errs, " | "))
			}
		})
	}
}
