// Package pipelines is the workbench's Pipelines screen: the pipeline
// files found, each with its validation state (a bad file shows its first
// problem as file:line:col), run with r, and opened with enter in the
// composer, which adds, removes, reorders and wires stages, edits their
// parameters in forms generated from the catalog, validates as you go and
// saves to YAML.
package pipelines
