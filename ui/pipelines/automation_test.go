package pipelines

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-ml/sluice/engine"
)

func TestAutomationText(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name, head, want string
	}{
		{"daily", "schedule: \"@daily\"\n", "schedule @daily (UTC) · next due 2025-03-02 00:00 UTC · catchup latest · overlap skip"},
		{"zoned", "schedule: \"0 9 * * *\"\ntimezone: Asia/Tokyo\ncatchup: all\n", "next due 2025-03-02 09:00 JST · catchup all"},
		{"trigger", "trigger: {files: \"in/*.csv\"}\n", "trigger in/*.csv (settle 5s)"},
		{"neither", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec, err := engine.ParseSpec("p.yaml", []byte("name: p\n"+tt.head+"stages:\n  - id: a\n    uses: x\n"))
			if err != nil {
				t.Fatal(err)
			}
			got := automationText(&spec.Automation, now)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
