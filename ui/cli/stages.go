package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
)

// stageDoc is one catalog entry in `sluice stages --json`.
type stageDoc struct {
	Name   string     `json:"name"`
	Group  string     `json:"group"`
	Doc    string     `json:"doc"`
	Takes  string     `json:"takes"`
	Inputs string     `json:"inputs"`
	Gives  string     `json:"gives"`
	Cache  string     `json:"cache"` // what the stage cache may do with it
	Params []paramDoc `json:"params"`
}

type paramDoc struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Default  any      `json:"default,omitempty"`
	Required bool     `json:"required,omitempty"`
	Range    string   `json:"range,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Doc      string   `json:"doc"`
}

func arity(t *engine.StageType) string {
	switch {
	case t.MaxIn == 0:
		return "0"
	case t.MaxIn < 0:
		return fmt.Sprintf("%d+", t.MinIn)
	case t.MinIn == t.MaxIn:
		return fmt.Sprint(t.MinIn)
	}
	return fmt.Sprintf("%d-%d", t.MinIn, t.MaxIn)
}

func newStageDoc(t *engine.StageType) stageDoc {
	d := stageDoc{Name: t.Name, Group: t.Group, Doc: t.Doc, Takes: t.In.String(), Inputs: arity(t), Gives: t.Out.String(), Cache: t.Cache.String(), Params: []paramDoc{}}
	for i := range t.Params {
		p := &t.Params[i]
		d.Params = append(d.Params, paramDoc{Name: p.Name, Type: p.Type.String(), Default: jsonDefault(p.Default), Required: p.Required, Range: p.RangeText(), Enum: p.Enum, Doc: p.Doc})
	}
	return d
}

func jsonDefault(v any) any {
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return v
}

func (e *env) stagesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stages [TYPE...]",
		Short: "List the stage catalog with every parameter",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var types []*engine.StageType
			if len(args) == 0 {
				types = e.reg.Types()
			}
			for _, a := range args {
				t, ok := e.reg.Lookup(a)
				if !ok {
					return usageErr(fmt.Errorf("no stage type %q (sluice stages lists them)", a))
				}
				types = append(types, t)
			}
			if asJSON {
				docs := make([]stageDoc, len(types))
				for i, t := range types {
					docs[i] = newStageDoc(t)
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetEscapeHTML(false) // print <, > and & as written
				enc.SetIndent("", "  ")
				return enc.Encode(docs)
			}
			group := ""
			for _, t := range types {
				if t.Group != group {
					group = t.Group
					fmt.Fprintf(e.stdout, "\n%s\n", strings.ToUpper(group))
				}
				fmt.Fprintf(e.stdout, "  %-30s %s → %s  %s%s\n", t.Name, inText(t), t.Out, t.Doc, cacheNote(t))
				for i := range t.Params {
					fmt.Fprintf(e.stdout, "      %s\n", ParamLine(&t.Params[i]))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the catalog as JSON")
	return cmd
}

// cacheNote says what the stage cache does with a stage type, when that
// is not plain reuse by fingerprint.
func cacheNote(t *engine.StageType) string {
	switch t.Cache {
	case engine.CacheReuse:
		return ""
	case engine.CacheVerifyWrites:
		return " (cached only while the file it wrote is unchanged)"
	}
	return " (never cached: it always runs, and so does everything downstream of it)"
}

func inText(t *engine.StageType) string {
	if t.MaxIn == 0 {
		return "∅"
	}
	a := arity(t)
	if a == "1" {
		return t.In.String()
	}
	return t.In.String() + "×" + a
}

// ParamLine renders one parameter declaration on a line:
// "C float = 1 (> 0): inverse regularisation strength".
func ParamLine(p *engine.Param) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %-8s", p.Name, p.Type)
	switch {
	case p.Required:
		b.WriteString(" required")
	case p.Default != nil:
		fmt.Fprintf(&b, " = %v", fmtDefault(p.Default))
	}
	if r := p.RangeText(); r != "" {
		fmt.Fprintf(&b, " (%s)", r)
	}
	if len(p.Enum) > 0 {
		fmt.Fprintf(&b, " {%s}", strings.Join(p.Enum, "|"))
	}
	fmt.Fprintf(&b, "  %s", p.Doc)
	return b.String()
}

func fmtDefault(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return `""`
		}
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = fmt.Sprint(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
