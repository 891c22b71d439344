package stages

import (
	"errors"
	"strings"
	"testing"
)

// TestRedact: whatever a driver or server puts in an error, the URL and
// the password (raw or escaped) do not come out.
func TestRedact(t *testing.T) {
	t.Parallel()
	raw := "postgres://etl:p%40ss%2Fw0rd@db.example.org:5432/analytics?sslmode=disable"
	c, err := parseConnURL("warehouse", raw, "SLUICE_CONN_WAREHOUSE", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("cannot parse `" + raw + "`: password p@ss/w0rd rejected (p%40ss%2Fw0rd)")
	got := c.errorf("connection %s: %v", c.name, cause).Error()
	for _, secret := range []string{"p@ss/w0rd", "p%40ss%2Fw0rd", raw} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows %q", got, secret)
		}
	}
	if !strings.HasPrefix(got, "connection warehouse: cannot parse `xxxxx`") {
		t.Errorf("got %q", got)
	}
	if _, err := parseConnURL("x", "mysql://u:pw@h/db", "SLUICE_CONN_X", "."); err == nil || strings.Contains(err.Error(), "pw") {
		t.Errorf("an unsupported URL: got %v", err)
	}
}
