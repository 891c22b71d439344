package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/ui/internal/common"
)

type savedMsg struct {
	path      string
	src       []byte // what was written
	err       error
	kept      bool     // the file's text was edited, comments kept
	rewritten []string // stages written afresh within it
	fresh     bool     // the file was written afresh: its comments are gone
}

// fileName is where the draft's problems point: its file, or the file a
// new draft would be saved to.
func (c *composer) fileName() string {
	if c.path != "" {
		return c.path
	}
	return filepath.Join(c.ctx.Dir, slug(c.name)+".yaml")
}

func slug(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = regexp.MustCompile(`[^a-z0-9_-]+`).ReplaceAllString(s, "-")
	s = strings.Trim(s, "-")
	if s == "" {
		return "pipeline"
	}
	return s
}

// save writes the draft: to its file after a confirmation, or to a path
// asked for (always with as).
func (c *composer) save(as bool) tea.Cmd {
	if len(c.stages) == 0 {
		return common.Errorf("nothing to save: a adds a stage")
	}
	if c.path != "" && !as {
		path := c.path
		c.confirm = common.NewConfirm(c.ctx.Styles, "Overwrite "+path+"?", "The file is replaced by the draft.", c.write(path))
		return c.confirm.Init()
	}
	c.savePath = c.fileName()
	if c.path != "" {
		ext := filepath.Ext(c.path)
		c.savePath = strings.TrimSuffix(c.path, ext) + "-copy" + ext
	}
	c.form = common.NewForm(c.ctx.Styles, "SAVE PIPELINE", min(c.w-2, 90), 10, func() tea.Cmd {
		path := strings.TrimSpace(c.savePath)
		if _, err := os.Stat(path); err == nil {
			c.confirm = common.NewConfirm(c.ctx.Styles, "Overwrite "+path+"?", "The file exists.", c.write(path))
			return c.confirm.Init()
		}
		return c.write(path)
	}, huh.NewGroup(huh.NewInput().Title("Save to").Description("A new pipeline file (.yaml).").Value(&c.savePath).Validate(func(s string) error {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return errors.New("type a file path")
		case !strings.HasSuffix(s, ".yaml") && !strings.HasSuffix(s, ".yml"):
			return errors.New("a pipeline file ends in .yaml or .yml")
		}
		if fi, err := os.Stat(s); err == nil && fi.IsDir() {
			return errors.New("that is a folder")
		}
		return nil
	})))
	return c.form.Init()
}

// write saves the draft to path atomically: a temporary file beside it,
// synced, then renamed over it.
func (c *composer) write(path string) tea.Cmd {
	msg := savedMsg{path: path, src: c.source()}
	if c.orig != nil {
		out, rewritten, ok := keepLayout(c.orig, draftOf{name: c.name, desc: c.desc, seed: c.seed, stages: c.stages})
		if ok {
			// The edit must read back as the draft; if not, write afresh.
			if spec, err := engine.ParseSpec(path, out); err == nil &&
				bytes.Equal(engine.FormatSpec(spec.Name, spec.Description, spec.Seed, engine.DraftSpec(spec)), msg.src) {
				msg.src, msg.rewritten, msg.kept = out, rewritten, true
			} else {
				msg.fresh = true
			}
		} else {
			msg.fresh = true
		}
	}
	return func() tea.Msg {
		if err := engine.WriteBytesAtomic(path, msg.src); err != nil {
			msg.err = fmt.Errorf("save: %w", err)
		}
		return msg
	}
}
