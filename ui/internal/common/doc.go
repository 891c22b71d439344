// Package common holds what the workbench's screens share: the program
// context (size, styles, clock), the Screen interface the root model
// drives, the messages screens send to the root, and formatting helpers
// for statuses, durations and metrics.
package common
