package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluice-ml/sluice/engine"
	"github.com/sluice-ml/sluice/engine/stages"
)

func (e *env) predictCmd() *cobra.Command {
	var out string
	var allowOutside bool
	var maxLine int64
	cmd := &cobra.Command{
		Use:   "predict MODEL FILE.csv|-",
		Short: "Predict on raw rows with an exported model",
		Long: `Predict reads raw rows (the columns the model was trained on; extra columns
are ignored) and appends the prediction and, for classifiers, one probability
column per class. With - it reads CSV (header first) or JSONL from stdin and
writes one prediction per input line as soon as the line arrives.`,
		Example: "  sluice predict iris.model.json sample-data/iris.csv -o predictions.csv\n  tail -f events.jsonl | sluice predict model.json -",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, name, err := e.modelBytes(args[0])
			if err != nil {
				return err
			}
			p, err := stages.LoadModel(name, data)
			if err != nil {
				return usageErr(err)
			}
			if args[1] == "-" {
				if maxLine < 1 {
					return usageErr(fmt.Errorf("--max-line %d: want a positive number of bytes", maxLine))
				}
				return e.predictStream(p, int(maxLine))
			}
			if out != "" {
				// Checked first, to refuse before any work; the write
				// checks again.
				if _, err = engine.OutputPath(".", out, allowOutside); err != nil {
					return usageErr(err)
				}
			}
			return e.predictFile(p, args[1], out, allowOutside)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the rows with predictions here (default: stdout)")
	cmd.Flags().BoolVar(&allowOutside, "allow-outside", false, "allow -o outside the current folder (symbolic links followed)")
	cmd.Flags().Int64Var(&maxLine, "max-line", 16<<20, "with -, the longest input line in bytes; a longer one is answered with an error")
	return cmd
}

// predictFile writes a CSV file's rows with their predictions
// (stages.PredictedCSV) to out atomically, or to stdout.
func (e *env) predictFile(p *stages.Predictor, in, out string, allowOutside bool) error {
	rows, err := p.PredictCSVFile(in)
	if err != nil {
		return usageErr(err)
	}
	if out == "" {
		w := bufio.NewWriter(e.stdout)
		if err := rows.Write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	if _, err := engine.WriteOutput(".", out, allowOutside, rows.Write); err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stderr, "wrote %d predictions to %s\n", rows.Len(), out)
	return nil
}

// readLine reads one line of at most max bytes (its newline included).
// A longer line is read to its end and discarded: it comes back as
// tooLong with its length, and memory stays bounded by max.
func readLine(in *bufio.Reader, max int) (line string, tooLong bool, n int, err error) {
	var buf []byte
	for {
		chunk, err := in.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(buf), tooLong, n, err
	}
}

// predictStream answers stdin one line at a time (stages.PredictStream):
// each answer written and flushed as its line arrives, each failed row
// also reported on stderr as stdin:LINE[:COL]: message.
func (e *env) predictStream(p *stages.Predictor, maxLine int) error {
	in := bufio.NewReaderSize(e.stdin, 1<<16)
	w := bufio.NewWriter(e.stdout)
	stream := p.NewStream()
	lineNo, rowsSeen, failed := 0, 0, 0
	for {
		line, tooLong, size, err := readLine(in, maxLine)
		var answer []byte
		var lerr *stages.LineError
		switch {
		case tooLong:
			lineNo++
			rowsSeen++
			lerr = &stages.LineError{Line: lineNo, Err: fmt.Errorf("the line is %d bytes, longer than --max-line %d", size, maxLine)}
			if !stream.Started() {
				return usageErr(fmt.Errorf("stdin:1: header: %v", lerr.Err))
			}
			answer = stream.Failed(lerr)
		case len(line) > 0:
			lineNo++
			var row bool
			var serr error
			answer, row, serr = stream.Line(strings.TrimRight(line, "\r\n"), lineNo)
			if errors.Is(serr, stages.ErrHeader) {
				return usageErr(fmt.Errorf("stdin:1: %v", serr))
			}
			if row {
				rowsSeen++
			}
			errors.As(serr, &lerr)
		}
		if lerr != nil {
			failed++
			fmt.Fprintf(e.stderr, "stdin:%v\n", lerr)
		}
		if answer != nil {
			if _, werr := w.Write(answer); werr != nil {
				return werr
			}
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			if ferr := w.Flush(); ferr != nil {
				return ferr
			}
			if failed > 0 {
				// Every line was answered; the exit status says some
				// answers are errors.
				return usageErr(fmt.Errorf("%d of %d rows failed", failed, rowsSeen))
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
