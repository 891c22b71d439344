package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
)

// annotationsDoc is what tag, untag and note print with --json.
type annotationsDoc struct {
	Run  int64    `json:"run"`
	Tags []string `json:"tags"`
	Note string   `json:"note"`
}

func (e *env) printAnnotations(id int64, asJSON bool) error {
	db, err := e.openStore()
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.Run(e.ctx, id)
	if err != nil {
		return usageErr(err)
	}
	if asJSON {
		doc := annotationsDoc{Run: id, Tags: r.Tags, Note: r.Note}
		if doc.Tags == nil {
			doc.Tags = []string{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	tags := "no tags"
	if len(r.Tags) > 0 {
		tags = "tags " + strings.Join(r.Tags, " ")
	}
	fmt.Fprintf(e.stdout, "run %d: %s\n", id, tags)
	if r.Note != "" {
		fmt.Fprintf(e.stdout, "note: %s\n", r.Note)
	}
	return nil
}

func (e *env) tagCmds() []*cobra.Command {
	var asJSON bool
	tag := &cobra.Command{
		Use:   "tag RUN NAME...",
		Short: "Tag a run (find it again with tag:NAME in queries)",
		Long: `Tag adds tags to a recorded run. A tag is one word of letters, digits, '.',
'_' and '-'. Tags show in runs, show, compare and the workbench, and
sluice runs --where tag:NAME (or / in the workbench) finds the runs.`,
		Example: "  sluice tag 12 baseline paper\n  sluice runs --where tag:baseline",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.annotate(args[0], asJSON, func(db annotator, id int64) error {
				_, err := db.Tag(e.ctx, id, args[1:]...)
				return err
			})
		},
	}
	tag.Flags().BoolVar(&asJSON, "json", false, "print the run's tags and note as JSON")
	var untagJSON bool
	untag := &cobra.Command{
		Use:     "untag RUN NAME...",
		Short:   "Remove tags from a run",
		Example: "  sluice untag 12 paper",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.annotate(args[0], untagJSON, func(db annotator, id int64) error {
				_, err := db.Untag(e.ctx, id, args[1:]...)
				return err
			})
		},
	}
	untag.Flags().BoolVar(&untagJSON, "json", false, "print the run's tags and note as JSON")
	var noteJSON, clear bool
	note := &cobra.Command{
		Use:   "note RUN [TEXT...]",
		Short: "Write a note on a run (in $EDITOR when TEXT is omitted)",
		Long: `Note replaces a run's note with TEXT. Without TEXT, the note opens in $EDITOR
(or $VISUAL, or vi) and what is saved becomes the note. --clear removes it.
Notes show in show, compare and the workbench, and free text in queries
finds them.`,
		Example: "  sluice note 12 C too high, try 0.1\n  sluice note latest",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.annotate(args[0], noteJSON, func(db annotator, id int64) error {
				var text string
				switch {
				case clear:
					if len(args) > 1 {
						return usageErr(errors.New("--clear takes no TEXT"))
					}
				case len(args) > 1:
					text = strings.Join(args[1:], " ")
				default:
					r, err := db.Run(e.ctx, id)
					if err != nil {
						return err
					}
					if text, err = e.editNote(id, r.Note); err != nil {
						return err
					}
				}
				return db.SetNote(e.ctx, id, text)
			})
		},
	}
	note.Flags().BoolVar(&noteJSON, "json", false, "print the run's tags and note as JSON")
	note.Flags().BoolVar(&clear, "clear", false, "remove the note")
	return []*cobra.Command{tag, untag, note}
}

// annotator is the part of the store tag, untag and note use.
type annotator interface {
	Run(ctx context.Context, id int64) (*engine.Run, error)
	Tag(ctx context.Context, id int64, tags ...string) ([]string, error)
	Untag(ctx context.Context, id int64, tags ...string) ([]string, error)
	SetNote(ctx context.Context, id int64, note string) error
}

func (e *env) annotate(ref string, asJSON bool, change func(db annotator, id int64) error) error {
	db, err := e.openStore()
	if err != nil {
		return err
	}
	id, err := e.parseRunRef(db, ref)
	if err != nil {
		db.Close()
		return err
	}
	err = change(db, id)
	db.Close()
	if err != nil {
		var xe *exitError
		if errors.As(err, &xe) {
			return err
		}
		return usageErr(err)
	}
	return e.printAnnotations(id, asJSON)
}

// editNote opens the note in the user's editor and returns what was saved.
func (e *env) editNote(id int64, current string) (string, error) {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	dir, err := os.MkdirTemp("", "sluice-note-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir) //nolint:errcheck // best effort: a temporary folder holding the draft
	path := filepath.Join(dir, fmt.Sprintf("run-%d-note.txt", id))
	if err := os.WriteFile(path, []byte(current+"\n"), 0o600); err != nil {
		return "", err
	}
	// The editor is a command line (EDITOR="code --wait" is common).
	fields := strings.Fields(editor)
	cmd := exec.CommandContext(e.ctx, fields[0], append(fields[1:], path)...)
	cmd.Stdin, cmd.Stdout = os.Stdin, os.Stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("editor %s: %v %s", editor, err, strings.TrimSpace(stderr.String()))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
