package stages

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/sluice-ml/sluice/engine"
)

// ExportModelFile writes a model file to path in the named format
// (ModelFileSluice or ModelFileJSON), whole or not at all
// (engine.WriteFileAtomic), and returns the SHA-256 and the size of the
// bytes written.
// data is checked first as LoadModel checks it (name places its errors),
// so a damaged file is never exported; a file in the sluice format is
// written as it is, any other is encoded anew. `sluice export`, the
// workbench's export and the export_model stage all write through it (or
// ExportModelFileTo).
func ExportModelFile(name string, data []byte, format, path string) (sha string, size int, err error) {
	return ExportModelFileTo(name, data, format, func(write func(io.Writer) error) error {
		return engine.WriteFileAtomic(path, write)
	})
}

// ExportModelFileTo is ExportModelFile with the file written by save,
// which hands write a writer on the file and keeps it whole or not at all:
// engine.WriteOutput, for one, which writes under the write policy.
func ExportModelFileTo(name string, data []byte, format string, save func(write func(io.Writer) error) error) (sha string, size int, err error) {
	p, err := LoadModel(name, data)
	if err != nil {
		return "", 0, err
	}
	if format == ModelFileJSON || !bytes.HasPrefix(data, []byte(ModelFormat+" 2\n")) {
		if data, err = EncodeModelFile(p, format); err != nil {
			return "", 0, err
		}
	}
	if err := save(func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), len(data), nil
}
