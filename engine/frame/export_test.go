package frame

// SetBlockSize makes readers cut their input into blocks of about n bytes,
// so that tests exercise block boundaries with small inputs.
func SetBlockSize(o *ReadOptions, n int) { o.blockSize = n }
