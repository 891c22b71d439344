package frame

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
)

const (
	firstBlockSize = 64 << 10
	maxBlockSize   = 4 << 20
)

// block is a run of whole records (CSV) or lines (JSONL) of the input.
type block struct {
	off      int64  // offset of the block in the input
	n        int    // length of the block
	data     []byte // the block's bytes while loaded
	line     int    // line number of data[0]
	maxRows  int    // upper bound of the records in data
	rowStart int    // first row of the block in the slots (upper-bound layout)
	rows     int    // records actually found
	cols     []blockCol
	err      error
}

// splitBlocks reads all of in and cuts it into blocks that end at record
// boundaries. With quotes set, a newline inside a double-quoted field is not
// a boundary. It strips a UTF-8 byte order mark. sizeHint, when positive, is
// the expected input size.
func splitBlocks(in io.Reader, quotes bool, sizeHint int64, maxBlock int) ([]*block, int64, error) {
	var blocks []*block
	var carry []byte
	var total int64
	bs := min(firstBlockSize, maxBlock)
	if sizeHint > 0 {
		bs = int(min(sizeHint+1, int64(maxBlock)))
	}
	line := 1
	first := true
	for {
		buf := make([]byte, len(carry)+bs)
		copy(buf, carry)
		n, err := io.ReadFull(in, buf[len(carry):])
		total += int64(n)
		eof := false
		switch {
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			return nil, total, err
		}
		buf = buf[:len(carry)+n]
		if first {
			// A byte order mark is looked for in the input's first 3
			// bytes only: a buffer shorter than that is not cut (its
			// start would pass for the input's start next time round).
			if len(buf) < 3 && !eof {
				carry = buf
				continue
			}
			if len(buf) >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF {
				buf = buf[3:]
			}
			first = false
		}
		cut := len(buf)
		quoted := quotes && bytes.IndexByte(buf, '"') >= 0
		if !eof {
			if quoted {
				cut = lastQuotedBoundary(buf)
			} else {
				cut = bytes.LastIndexByte(buf, '\n') + 1
			}
			if cut == 0 {
				// A record longer than the buffer: read more.
				carry = buf
				bs = min(2*bs, 1<<30)
				continue
			}
		}
		if cut > 0 {
			data := buf[:cut:cut]
			lines := bytes.Count(data, []byte{'\n'})
			rows := lines
			if data[len(data)-1] != '\n' {
				rows++
			}
			blocks = append(blocks, &block{data: data, n: len(data), line: line, maxRows: rows})
			line += lines
		}
		if eof {
			return blocks, total, nil
		}
		carry = buf[cut:]
		bs = min(2*bs, maxBlock)
	}
}

// lastQuotedBoundary returns the offset just past the last newline in buf
// that is outside double quotes, or 0. buf starts outside quotes, so a
// newline is outside them when an even number of quotes comes before it
// (an escaped quote counts twice). It counts the quotes once, then walks
// back from the end one newline at a time: the cut is usually found in
// the last record.
func lastQuotedBoundary(buf []byte) int {
	quote := []byte{'"'}
	q := bytes.Count(buf, quote)
	end := len(buf)
	for {
		i := bytes.LastIndexByte(buf[:end], '\n')
		if i < 0 {
			return 0
		}
		q -= bytes.Count(buf[i:end], quote) // quotes before i
		if q%2 == 0 {
			return i + 1
		}
		end = i
	}
}

// source gives blocks their bytes. With ra set, blocks are read on demand
// into recycled buffers, so the whole input is never held at once;
// otherwise every block holds its data from the start.
type source struct {
	ra   io.ReaderAt
	free chan []byte
	// bufCap is the capacity a new buffer gets: the largest block, so a
	// recycled buffer fits any block and a small input is not given a
	// buffer of maxBlockSize bytes.
	bufCap int
}

func newSource(ra io.ReaderAt, workers int, blocks []*block) *source {
	s := &source{ra: ra, free: make(chan []byte, workers+1)}
	for _, b := range blocks {
		s.bufCap = max(s.bufCap, b.n)
	}
	return s
}

// inPlace is an io.ReaderAt whose bytes can be had without copying (a
// mapped file): slice returns them, done says they are not needed for now.
type inPlace interface {
	slice(off int64, n int) []byte
	done(off int64, n int)
}

// load makes b.data available.
func (s *source) load(b *block) error {
	if s.ra == nil || b.data != nil {
		return nil
	}
	if m, ok := s.ra.(inPlace); ok {
		b.data = m.slice(b.off, b.n)
		return nil
	}
	var buf []byte
	select {
	case buf = <-s.free:
	default:
	}
	if cap(buf) < b.n {
		buf = make([]byte, b.n, max(b.n, s.bufCap))
	}
	buf = buf[:b.n]
	n, err := s.ra.ReadAt(buf, b.off)
	if n < b.n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	b.data = buf
	return nil
}

// release lets b's buffer be reused; b.data must not be used afterwards.
func (s *source) release(b *block) {
	if s.ra == nil || b.data == nil {
		return
	}
	if m, ok := s.ra.(inPlace); ok {
		m.done(b.off, b.n)
		b.data = nil
		return
	}
	select {
	case s.free <- b.data[:0]:
	default:
	}
	b.data = nil
}

// scanBlocks cuts the size bytes at base of ra into blocks like splitBlocks,
// reading them once through one buffer and keeping only their places.
func scanBlocks(ra io.ReaderAt, base, size int64, quotes bool, maxBlock int) ([]*block, error) {
	var blocks []*block
	m, mapped := ra.(inPlace)
	var buf []byte
	bufLen := int(max(min(size, int64(maxBlock)), 1))
	if !mapped {
		buf = make([]byte, bufLen)
	}
	pos, end := base, base+size
	line := 1
	if size >= 3 {
		var bom [3]byte
		if _, err := ra.ReadAt(bom[:], base); err != nil && err != io.EOF {
			return nil, err
		}
		if bom == [3]byte{0xEF, 0xBB, 0xBF} {
			pos += 3
		}
	}
	for pos < end {
		want := int(min(int64(bufLen), end-pos))
		var data []byte
		if mapped {
			data = m.slice(pos, want)
		} else {
			n, err := ra.ReadAt(buf[:want], pos)
			if n < want {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			data = buf[:want]
		}
		cut := want
		if pos+int64(want) < end {
			if quotes && bytes.IndexByte(data, '"') >= 0 {
				cut = lastQuotedBoundary(data)
			} else {
				cut = bytes.LastIndexByte(data, '\n') + 1
			}
			if cut == 0 {
				bufLen *= 2
				if !mapped {
					buf = make([]byte, bufLen)
				}
				continue
			}
		}
		data = data[:cut]
		lines := bytes.Count(data, []byte{'\n'})
		rows := lines
		if data[len(data)-1] != '\n' {
			rows++
		}
		blocks = append(blocks, &block{off: pos, n: cut, line: line, maxRows: rows})
		if mapped {
			m.done(pos, cut)
		}
		line += lines
		pos += int64(cut)
	}
	return blocks, nil
}

// readBlocks cuts in into blocks. An input that is an io.ReaderAt and an
// io.Seeker (a file) is scanned once and its blocks read again on demand;
// any other is read into memory. total is the input's size in bytes.
func readBlocks(in io.Reader, quotes bool, sizeHint int64, workers, maxBlock int) ([]*block, *source, int64, error) {
	if maxBlock <= 0 {
		maxBlock = maxBlockSize
	}
	if ra, ok := in.(io.ReaderAt); ok {
		if sk, ok := in.(io.Seeker); ok {
			cur, err1 := sk.Seek(0, io.SeekCurrent)
			end, err2 := sk.Seek(0, io.SeekEnd)
			if err1 == nil && err2 == nil && end >= cur {
				if m, ok := ra.(*mappedFile); ok && end <= int64(len(m.data)) {
					blocks, err := scanMapped(m, cur, end-cur, quotes, maxBlock, workers)
					return blocks, newSource(ra, workers, blocks), end - cur, err
				}
				blocks, err := scanBlocks(ra, cur, end-cur, quotes, maxBlock)
				return blocks, newSource(ra, workers, blocks), end - cur, err
			}
		}
	}
	blocks, total, err := splitBlocks(in, quotes, sizeHint, maxBlock)
	return blocks, &source{}, total, err
}

// scanMapped cuts the size bytes at base of the mapped file m into blocks
// like scanBlocks, with the same rule for a record boundary (a newline
// after an even number of quotes since the start), but on workers
// goroutines: the input is split every maxBlock bytes, each piece's
// quotes and newlines are counted in parallel, and each block then starts
// at the first boundary at or after a split. Pieces with no boundary join
// the block before them. A file that shrinks meanwhile gives
// ErrFileChanged.
func scanMapped(m *mappedFile, base, size int64, quotes bool, maxBlock, workers int) ([]*block, error) {
	data := m.data[base : base+size]
	start := 0
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		start = 3
	}
	n := len(data)
	if start == n {
		return nil, nil
	}
	pieces := (n - start + maxBlock - 1) / maxBlock
	// lines[k] and odd[k]: newlines before piece k, and whether an odd
	// number of quotes comes before it (prefix sums once counted).
	lines := make([]int, pieces+1)
	qs := make([]int, pieces+1)
	var changed atomic.Bool
	runBlocks(pieces, workers, func(k int) {
		lo := start + k*maxBlock
		hi := min(lo+maxBlock, n)
		err := m.withFaults("", func() error {
			piece := m.slice(base+int64(lo), hi-lo)
			lines[k+1] = bytes.Count(piece, []byte{'\n'})
			if quotes {
				qs[k+1] = bytes.Count(piece, []byte{'"'})
			}
			return nil
		})
		if err != nil {
			changed.Store(true)
		}
		m.done(base+int64(lo), hi-lo)
	})
	if changed.Load() {
		return nil, ErrFileChanged
	}
	for k := 1; k <= pieces; k++ {
		lines[k] += lines[k-1]
		qs[k] += qs[k-1]
	}
	// linesBefore counts the newlines in data[start:x].
	linesBefore := func(x int) int {
		if x == n {
			return lines[pieces]
		}
		k := (x - start) / maxBlock
		return lines[k] + bytes.Count(data[start+k*maxBlock:x], []byte{'\n'})
	}
	var blocks []*block
	cut := start
	for k := 1; k <= pieces; k++ {
		end := n
		if k < pieces {
			from := start + k*maxBlock
			if from < cut {
				continue // the block before reaches past this split
			}
			end = nextBoundary(data, from, quotes, qs[k]%2 == 1)
		}
		if end <= cut {
			continue
		}
		first := linesBefore(cut)
		rows := linesBefore(end) - first
		if data[end-1] != '\n' {
			rows++
		}
		blocks = append(blocks, &block{off: base + int64(cut), n: end - cut, line: 1 + first, maxRows: rows})
		cut = end
	}
	return blocks, nil
}

// nextBoundary returns the offset just past the first newline at or after
// data[from] that is outside quotes (any newline without quotes), or
// len(data); inQuote says whether data[from] is inside them.
func nextBoundary(data []byte, from int, quotes, inQuote bool) int {
	for i := from; ; {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return len(data)
		}
		j += i
		if quotes && bytes.Count(data[i:j], []byte{'"'})%2 == 1 {
			inQuote = !inQuote
		}
		if !inQuote {
			return j + 1
		}
		i = j + 1
	}
}
