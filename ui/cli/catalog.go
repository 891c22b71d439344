package cli

import (
	"fmt"
	"strings"

	"github.com/sluice-ml/sluice/engine"
)

// CatalogMarkdown renders the stage catalog as the README shows it: one
// table per group, one row per stage type with its parameters. It is
// generated from the stage declarations, and a test keeps README.md in
// step with it.
func CatalogMarkdown(reg *engine.Registry) string {
	var b strings.Builder
	group := ""
	for _, t := range reg.Types() {
		if t.Group != group {
			group = t.Group
			fmt.Fprintf(&b, "\n#### %s\n\n| stage | takes → gives | parameters | what it does |\n|---|---|---|---|\n", group)
		}
		var params []string
		for i := range t.Params {
			p := &t.Params[i]
			s := fmt.Sprintf("`%s` %s", p.Name, p.Type)
			switch {
			case p.Required:
				s += " (required)"
			case p.Default != nil:
				s += fmt.Sprintf(" = `%s`", fmtDefault(p.Default))
			}
			if r := p.RangeText(); r != "" {
				s += " " + r
			}
			if len(p.Enum) > 0 {
				s += " {" + strings.Join(p.Enum, ", ") + "}"
			}
			s += ": " + p.Doc
			params = append(params, escapePipes(s))
		}
		if len(params) == 0 {
			params = []string{"—"}
		}
		fmt.Fprintf(&b, "| `%s` | %s → %s | %s | %s |\n", t.Name, inText(t), t.Out, strings.Join(params, "<br>"), escapePipes(t.Doc+cacheNote(t)))
	}
	return b.String()
}

func escapePipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
