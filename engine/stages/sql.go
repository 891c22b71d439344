package stages

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/frame"
)

// The SQL stages: read_sql runs a query (or reads a table) into a table,
// write_sql writes a table into a database table in one transaction.
// Connections are resolved as sql_conn.go describes.
//
// Column types map both ways (the README has the table):
//
//	frame    SQLite      PostgreSQL          read back from
//	float    REAL        DOUBLE PRECISION    REAL FLOAT DOUBLE NUMERIC DECIMAL / FLOAT4 FLOAT8 NUMERIC
//	int      INTEGER     BIGINT              INT… / INT2 INT4 INT8 OID
//	bool     BOOLEAN     BOOLEAN             BOOL… / BOOL
//	string   TEXT        TEXT                CHAR CLOB TEXT BLOB / TEXT VARCHAR BPCHAR NAME UUID JSON JSONB XML
//	time     TIMESTAMP   TIMESTAMPTZ         DATE TIME… / DATE TIMESTAMP TIMESTAMPTZ
//
// A column without a declared type (an SQLite expression) takes the type
// of its first non-null value.

func connectionParam() engine.Param {
	return engine.Param{Name: "connection", Type: engine.TypeString, Required: true,
		Doc: "the name of a connection defined in SLUICE_CONN_<NAME> or a connections file (never its URL)"}
}

func readSQLStage() *engine.StageType {
	return &engine.StageType{
		Name:  "read_sql",
		Group: "extract",
		Doc:   "read the result of a SQL query, or a whole table, from SQLite or PostgreSQL into a table",
		// Its inputs only order it (after the write_sql that fills its
		// table, say); their data is not read.
		In: engine.KindTable, MinIn: 0, MaxIn: -1, Out: engine.KindTable,
		Cache: engine.CacheNever, // a database's content is not fingerprinted
		Params: []engine.Param{
			connectionParam(),
			{Name: "query", Type: engine.TypeString, Doc: "the SELECT to run (give query or table)"},
			{Name: "table", Type: engine.TypeString, Doc: "or the table to read whole, e.g. sales or analytics.sales"},
		},
		Check: func(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
			var errs []error
			if err := checkConnection(p, env.Dir); err != nil {
				errs = append(errs, err)
			}
			q, tb := strings.TrimSpace(p.String("query")), strings.TrimSpace(p.String("table"))
			switch {
			case q == "" && tb == "":
				errs = append(errs, paramErr("query", "give query or table"))
			case q != "" && tb != "":
				errs = append(errs, paramErr("table", "give query or table, not both"))
			}
			return tableShape(nil), errs
		},
		Run: runReadSQL,
	}
}

func writeSQLStage() *engine.StageType {
	return &engine.StageType{
		Name:  "write_sql",
		Group: "load",
		Doc:   "write the table into a SQLite or PostgreSQL table in one transaction (all rows or none) and pass it on",
		In:    engine.KindTable, MinIn: 1, MaxIn: 1, Out: engine.KindTable,
		Cache: engine.CacheNever, // its effect is in a database
		Params: []engine.Param{
			connectionParam(),
			{Name: "table", Type: engine.TypeString, Required: true, Doc: "the table to write, e.g. sales or analytics.sales"},
			{Name: "mode", Type: engine.TypeEnum, Enum: []string{"fail", "replace", "append"}, Default: "fail",
				Doc: "when the table exists: fail, replace it (drop and create), or append the rows"},
		},
		Check: func(p engine.Params, in []engine.Shape, env engine.CheckEnv) (engine.Shape, []error) {
			var errs []error
			if err := checkConnection(p, env.Dir); err != nil {
				errs = append(errs, err)
			}
			if _, err := quoteTable(p.String("table")); err != nil {
				errs = append(errs, paramErr("table", "%v", err))
			}
			if s := inSchema(in); s != nil && len(s) == 0 {
				errs = append(errs, paramErr("table", "the table has no columns"))
			}
			return passShape(in), errs
		},
		Run: runWriteSQL,
	}
}

// checkConnection validates the connection parameter at validation time:
// a name, defined where the pipeline can see it.
func checkConnection(p engine.Params, dir string) error {
	_, err := resolveConnection(p.String("connection"), dir)
	return err
}

// quoteIdent quotes one SQL identifier ("a""b" for a"b).
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteTable quotes a table name, schema.table or table.
func quoteTable(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("empty table name")
	}
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", fmt.Errorf("%q: want table or schema.table", name)
	}
	for i, p := range parts {
		if p == "" {
			return "", fmt.Errorf("%q: want table or schema.table", name)
		}
		parts[i] = quoteIdent(p)
	}
	return strings.Join(parts, "."), nil
}

// sqlProgressStep is how many rows pass between progress reports.
const sqlProgressStep = 10000

func runReadSQL(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	conn, err := resolveConnection(sc.Params.String("connection"), sc.Plan.Spec.Dir)
	if err != nil {
		return nil, err
	}
	query := strings.TrimSpace(sc.Params.String("query"))
	what := "query"
	if t := strings.TrimSpace(sc.Params.String("table")); t != "" {
		qt, err := quoteTable(t)
		if err != nil {
			return nil, err
		}
		query, what = "SELECT * FROM "+qt, "table "+t
	}
	db, err := conn.open(ctx, false)
	if err != nil {
		return nil, err
	}
	defer db.Close() //nolint:errcheck // a read: nothing to lose; the query's errors are checked
	f, err := readQuery(ctx, db, conn, query, func(n int64) { sc.Progress(n, 0, "rows") })
	if err != nil {
		return nil, err
	}
	sc.Progress(int64(f.NumRows()), int64(f.NumRows()), "rows")
	sc.Logf("read %s from %s (%s, %s)", rowsText(f), what, conn.name, conn.dialect())
	return tableOutput(f), nil
}

// readQuery runs query and collects its result as a frame.
func readQuery(ctx context.Context, db *sql.DB, conn *connection, query string, progress func(int64)) (*frame.Frame, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, conn.errorf("connection %s: query failed: %v", conn.name, err)
	}
	defer rows.Close() //nolint:errcheck // rows.Err is checked after the loop
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, conn.errorf("connection %s: %v", conn.name, err)
	}
	cols := make([]*sqlColumn, len(types))
	seen := map[string]bool{}
	for i, ct := range types {
		name := ct.Name()
		if seen[name] {
			return nil, fmt.Errorf("the result has two columns named %q; rename one with AS", name)
		}
		seen[name] = true
		t, err := sqlFrameType(conn.dialect(), ct.DatabaseTypeName())
		if err != nil {
			return nil, fmt.Errorf("column %q: %v", name, err)
		}
		cols[i] = &sqlColumn{name: name, t: t}
		if t != 0 {
			cols[i].b = frame.NewBuilder(name, t, 1024)
		}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, conn.errorf("connection %s: row %d: %v", conn.name, n+1, err)
		}
		for i, c := range cols {
			if err := c.add(vals[i]); err != nil {
				return nil, fmt.Errorf("column %q, row %d: %v", c.name, n+1, err)
			}
		}
		n++
		if n%sqlProgressStep == 0 {
			progress(n)
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, conn.errorf("connection %s: %v", conn.name, err)
	}
	out := make([]*frame.Column, len(cols))
	for i, c := range cols {
		out[i] = c.build()
	}
	return frame.New(out...)
}

// sqlFrameType maps a column's declared database type to a frame type; 0
// means "not declared: take the first value's type".
func sqlFrameType(dialect, decl string) (frame.Type, error) {
	d := strings.ToUpper(strings.TrimSpace(decl))
	if dialect == "postgres" {
		switch d {
		case "INT2", "INT4", "INT8", "OID":
			return frame.Int, nil
		case "FLOAT4", "FLOAT8", "NUMERIC":
			return frame.Float, nil
		case "BOOL":
			return frame.Bool, nil
		case "TEXT", "VARCHAR", "BPCHAR", "NAME", "CHAR", "UUID", "JSON", "JSONB", "XML", "CITEXT":
			return frame.String, nil
		case "DATE", "TIMESTAMP", "TIMESTAMPTZ":
			return frame.Time, nil
		case "":
			return 0, nil
		}
		return 0, fmt.Errorf("PostgreSQL type %s is not supported; cast it in the query (to text, numeric, bigint, boolean or timestamptz)", d)
	}
	// SQLite: its affinity rules, with BOOL and DATE/TIME first.
	switch {
	case d == "":
		return 0, nil
	case strings.Contains(d, "BOOL"):
		return frame.Bool, nil
	case strings.Contains(d, "INT"):
		return frame.Int, nil
	case strings.Contains(d, "CHAR"), strings.Contains(d, "CLOB"), strings.Contains(d, "TEXT"), strings.Contains(d, "BLOB"):
		return frame.String, nil
	case strings.Contains(d, "DATE"), strings.Contains(d, "TIME"):
		return frame.Time, nil
	case strings.Contains(d, "REAL"), strings.Contains(d, "FLOA"), strings.Contains(d, "DOUBLE"),
		strings.Contains(d, "NUM"), strings.Contains(d, "DEC"):
		return frame.Float, nil
	}
	return 0, nil
}

// sqlColumn collects one result column.
type sqlColumn struct {
	name    string
	t       frame.Type // 0 until known
	b       *frame.Builder
	pending int // missing values seen before the type was known
}

func (c *sqlColumn) add(v any) error {
	if b, ok := v.([]byte); ok {
		if !utf8.Valid(b) {
			return fmt.Errorf("binary value that is not UTF-8 text")
		}
		v = string(b)
	}
	if v == nil {
		if c.b == nil {
			c.pending++
		} else {
			c.b.AppendNull()
		}
		return nil
	}
	if c.b == nil {
		switch v.(type) {
		case int64, int32, int16, int8, int:
			c.t = frame.Int
		case float64, float32:
			c.t = frame.Float
		case bool:
			c.t = frame.Bool
		case time.Time:
			c.t = frame.Time
		default:
			c.t = frame.String
		}
		c.b = frame.NewBuilder(c.name, c.t, 1024)
		for ; c.pending > 0; c.pending-- {
			c.b.AppendNull()
		}
	}
	switch x := v.(type) {
	case string:
		switch c.t {
		case frame.Float:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", x)
			}
			v = f
		case frame.Time:
			t, err := parseSQLTime(x)
			if err != nil {
				return err
			}
			v = t
		case frame.Int, frame.Bool:
			return c.b.AppendText(x)
		case frame.String: // appended as it is, below
		}
	case int64:
		if c.t == frame.Bool {
			if x != 0 && x != 1 {
				return fmt.Errorf("%d is not a boolean (0 or 1)", x)
			}
			v = x == 1
		}
	case float64:
		if c.t == frame.Int && (x != math.Trunc(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("%v is not a whole number; the column was integer so far (cast it in the query)", x)
		}
	case time.Time:
		v = x.UTC()
	}
	if err := c.b.Append(v); err != nil {
		return fmt.Errorf("%s", trimFramePrefix(err))
	}
	return nil
}

func (c *sqlColumn) build() *frame.Column {
	if c.b == nil { // no value at all: a column of missing strings
		c.b = frame.NewBuilder(c.name, frame.String, c.pending)
		for ; c.pending > 0; c.pending-- {
			c.b.AppendNull()
		}
	}
	return c.b.Build()
}

// sqlTimeLayouts are the text forms of times that SQLite databases hold.
var sqlTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

func parseSQLTime(s string) (time.Time, error) {
	for _, l := range sqlTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want YYYY-MM-DD[ HH:MM:SS[.fff][±HH:MM]])", s)
}

// sqlColumnType is the type write_sql creates a column with.
func sqlColumnType(dialect string, t frame.Type) string {
	pg := dialect == "postgres"
	switch t {
	case frame.Float:
		if pg {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case frame.Int:
		if pg {
			return "BIGINT"
		}
		return "INTEGER"
	case frame.Bool:
		return "BOOLEAN"
	case frame.Time:
		if pg {
			return "TIMESTAMPTZ"
		}
		return "TIMESTAMP"
	case frame.String:
	}
	return "TEXT"
}

func runWriteSQL(ctx context.Context, sc *engine.StageContext) (*engine.Output, error) {
	f, err := input(sc, 0)
	if err != nil {
		return nil, err
	}
	conn, err := resolveConnection(sc.Params.String("connection"), sc.Plan.Spec.Dir)
	if err != nil {
		return nil, err
	}
	table := sc.Params.String("table")
	mode := sc.Params.String("mode")
	db, err := conn.open(ctx, true)
	if err != nil {
		return nil, err
	}
	defer db.Close() //nolint:errcheck // the rows are committed (or the error returned) before it closes
	n, err := writeTable(ctx, db, conn, f, table, mode, func(done int64) { sc.Progress(done, int64(f.NumRows()), "rows") })
	if err != nil {
		return nil, err
	}
	sc.Progress(n, n, "rows")
	sc.Logf("wrote %s to table %s (%s, %s, mode %s)", rowsText(f), table, conn.name, conn.dialect(), mode)
	return tableOutput(f), nil
}

// writeTable writes f into table in one transaction: on any error the
// transaction is rolled back and the table is as it was.
func writeTable(ctx context.Context, db *sql.DB, conn *connection, f *frame.Frame, table, mode string, progress func(int64)) (int64, error) {
	qt, err := quoteTable(table)
	if err != nil {
		return 0, err
	}
	if f.NumCols() == 0 {
		return 0, fmt.Errorf("the table has no columns")
	}
	fail := func(step string, err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("table %s not written (nothing changed): %w", table, ctx.Err())
		}
		return conn.errorf("table %s not written (nothing changed): %s: %v", table, step, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fail("begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; after a failure, the failure is the error
	exists, err := tableExists(ctx, tx, conn.dialect(), table)
	if err != nil {
		return 0, fail("looking the table up", err)
	}
	switch {
	case exists && mode == "fail":
		return 0, fmt.Errorf("table %s exists in %s (mode: fail; use replace or append)", table, conn.name)
	case exists && mode == "replace":
		if _, err := tx.ExecContext(ctx, "DROP TABLE "+qt); err != nil {
			return 0, fail("drop", err)
		}
		exists = false
	}
	if !exists {
		defs := make([]string, f.NumCols())
		for i := 0; i < f.NumCols(); i++ {
			c := f.Col(i)
			defs[i] = quoteIdent(c.Name) + " " + sqlColumnType(conn.dialect(), c.Type)
		}
		if _, err := tx.ExecContext(ctx, "CREATE TABLE "+qt+" ("+strings.Join(defs, ", ")+")"); err != nil {
			return 0, fail("create", err)
		}
	}
	names := make([]string, f.NumCols())
	for i := range names {
		names[i] = quoteIdent(f.Col(i).Name)
	}
	maxParams := 32766 // SQLite's default limit of host parameters
	if conn.dialect() == "postgres" {
		maxParams = 65535
	}
	batch := max(1, min(1000, maxParams/f.NumCols()))
	var stmt *sql.Stmt
	stmtRows := 0
	args := make([]any, 0, batch*f.NumCols())
	var done int64
	for lo := 0; lo < f.NumRows(); lo += batch {
		hi := min(lo+batch, f.NumRows())
		if stmt == nil || stmtRows != hi-lo {
			if stmt != nil {
				_ = stmt.Close() // a prepared insert of the previous batch size; its inserts have run
			}
			stmt, err = tx.PrepareContext(ctx, insertSQL(conn.dialect(), qt, names, hi-lo))
			if err != nil {
				return 0, fail("insert", err)
			}
			stmtRows = hi - lo
		}
		args = args[:0]
		for r := lo; r < hi; r++ {
			for c := 0; c < f.NumCols(); c++ {
				args = append(args, sqlValue(f.Col(c), r))
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			_ = stmt.Close() // the insert's error is the one to report
			return 0, fail(fmt.Sprintf("insert of rows %d-%d", lo+1, hi), err)
		}
		done = int64(hi)
		if done/sqlProgressStep != int64(lo)/sqlProgressStep {
			progress(done)
		}
	}
	if stmt != nil {
		_ = stmt.Close()
	}
	if err := tx.Commit(); err != nil {
		return 0, fail("commit", err)
	}
	return done, nil
}

// insertSQL is a multi-row INSERT of rows rows.
func insertSQL(dialect, table string, names []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(names, ", "))
	b.WriteString(") VALUES ")
	k := 0
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range names {
			if c > 0 {
				b.WriteByte(',')
			}
			k++
			if dialect == "postgres" {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(k))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// sqlValue is row r of c as a database/sql argument (nil when missing).
func sqlValue(c *frame.Column, r int) any {
	if c.IsNull(r) {
		return nil
	}
	switch c.Type {
	case frame.Float:
		return c.Floats[r]
	case frame.Int:
		return c.Ints[r]
	case frame.Bool:
		return c.Bools[r]
	case frame.String:
		return c.Dict[c.Codes[r]]
	case frame.Time:
		return time.Unix(0, c.Times[r]).UTC()
	}
	return nil
}

// tableExists reports whether the table (table or schema.table) exists.
func tableExists(ctx context.Context, tx *sql.Tx, dialect, table string) (bool, error) {
	schema, name, found := strings.Cut(table, ".")
	if !found {
		schema, name = "", table
	}
	var n int
	var err error
	if dialect == "postgres" {
		if schema == "" {
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`, name).Scan(&n)
		} else {
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, schema, name).Scan(&n)
		}
	} else {
		master := "sqlite_master"
		if schema != "" {
			master = quoteIdent(schema) + ".sqlite_master"
		}
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM `+master+` WHERE type = 'table' AND name = ?`, name).Scan(&n)
	}
	return n > 0, err
}
