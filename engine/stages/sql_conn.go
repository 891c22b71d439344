package stages

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go
)

// Connections: a pipeline names a database (connection: warehouse); its
// URL, which may hold a password, is defined outside the pipeline file:
//
//   - the environment variable SLUICE_CONN_WAREHOUSE (the name upper-cased),
//     which wins, or
//   - the YAML file named connections (no extension, so that nothing
//     takes it for a pipeline) in the pipeline file's folder or the
//     nearest folder above it that has one:
//
//     connections:
//     warehouse: postgres://etl:secret@db.example.org:5432/analytics
//     local: sqlite:data/local.db
//
// A URL is postgres:// or postgresql:// (PostgreSQL, through pgx) or
// sqlite:PATH (SQLite, through a pure-Go driver); a relative SQLite path
// is relative to the connections file's folder, or to the pipeline file's
// folder for a URL from the environment. The URL is never logged, stored
// with a run or shown in an error: messages name the connection, and
// every error from a database passes through redact, which replaces the
// URL and the password.

// ConnectionsFile is the name of the file that defines connections.
const ConnectionsFile = "connections"

var connName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// connection is a resolved connection.
type connection struct {
	name   string
	driver string // "pgx" or "sqlite"
	dsn    string // what sql.Open gets
	path   string // SQLite: the database file
	where  string // where the URL came from: SLUICE_CONN_X or a file
	secret []string
}

// dialect reports the database kind: "postgres" or "sqlite".
func (c *connection) dialect() string {
	if c.driver == "pgx" {
		return "postgres"
	}
	return "sqlite"
}

// redact replaces every secret of c (the URL, the password in its raw and
// decoded forms) in s.
func (c *connection) redact(s string) string {
	for _, sec := range c.secret {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// errorf returns an error about connection c whose text has no secret in
// it. The cause's text is redacted and the cause is not kept (so no
// caller can print it unredacted).
func (c *connection) errorf(format string, args ...any) error {
	for i, a := range args {
		if err, ok := a.(error); ok {
			args[i] = c.redact(err.Error())
		}
	}
	return errors.New(c.redact(fmt.Sprintf(format, args...)))
}

// connEnv is the environment variable that defines the named connection.
func connEnv(name string) string { return "SLUICE_CONN_" + strings.ToUpper(name) }

// checkConnName validates a connection parameter's value: a name, never a
// URL (which would put a password in the pipeline file).
func checkConnName(v string) error {
	if strings.Contains(v, ":") || strings.Contains(v, "/") {
		return paramErr("connection", "name a connection defined outside the pipeline file (%s or %s), not its URL", connEnv("name"), ConnectionsFile)
	}
	if !connName.MatchString(v) {
		return paramErr("connection", "%q is not a connection name (lower-case letters, digits and _, starting with a letter)", v)
	}
	return nil
}

// resolveConnection finds the connection named name for a pipeline in
// dir. Its errors hold no secret.
func resolveConnection(name, dir string) (*connection, error) {
	if err := checkConnName(name); err != nil {
		return nil, err
	}
	if v, ok := os.LookupEnv(connEnv(name)); ok && v != "" {
		return parseConnURL(name, v, connEnv(name), dir)
	}
	file, err := findConnectionsFile(dir)
	if err != nil {
		return nil, err
	}
	if file == "" {
		return nil, paramErr("connection", "no connection %s: set %s or define it in a file named %s beside the pipeline file", name, connEnv(name), ConnectionsFile)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Connections map[string]string `yaml:"connections"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// The parser's message may quote the file's text (a URL and its
		// password): say only which file.
		return nil, fmt.Errorf("%s: not a connections file (want connections: {name: url}); fix its YAML", file)
	}
	v, ok := doc.Connections[name]
	if !ok || v == "" {
		return nil, paramErr("connection", "no connection %s in %s (nor %s set)", name, file, connEnv(name))
	}
	return parseConnURL(name, v, file, filepath.Dir(file))
}

// findConnectionsFile returns the nearest connections file at or above dir,
// or "".
func findConnectionsFile(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(d, ConnectionsFile)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", nil
		}
		d = up
	}
}

func parseConnURL(name, raw, where, base string) (*connection, error) {
	c := &connection{name: name, where: where, secret: []string{raw}}
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("connection %s (from %s): not a valid URL", name, where)
		}
		if pw, ok := u.User.Password(); ok {
			c.secret = append(c.secret, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
		if pw := u.Query().Get("password"); pw != "" {
			c.secret = append(c.secret, pw, url.QueryEscape(pw))
		}
		c.driver, c.dsn = "pgx", raw
	case strings.HasPrefix(raw, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if p == "" {
			return nil, fmt.Errorf("connection %s (from %s): sqlite: needs a file path", name, where)
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		c.driver, c.path = "sqlite", p
		c.dsn = "file:" + (&url.URL{Path: p}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite"
	default:
		return nil, fmt.Errorf("connection %s (from %s): want a postgres://, postgresql:// or sqlite: URL", name, where)
	}
	return c, nil
}

// open connects to the database. For SQLite, a read (create false) of a
// file that does not exist is an error rather than a new empty database.
func (c *connection) open(ctx context.Context, create bool) (*sql.DB, error) {
	if c.driver == "sqlite" {
		if _, err := os.Stat(c.path); err != nil && !create {
			return nil, fmt.Errorf("connection %s: no SQLite database %s", c.name, c.path)
		}
		if create {
			if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
				return nil, err
			}
		}
	}
	db, err := sql.Open(c.driver, c.dsn)
	if err != nil {
		return nil, c.errorf("connection %s: %v", c.name, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping's error is the one to report
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.errorf("connection %s: cannot connect: %v", c.name, err)
	}
	return db, nil
}
