package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// The layout of a bbolt file, as far as verifyPages reads it: pages of
// the size the meta page gives, each with a 16-byte header (id, flags,
// count, overflow), then count elements of 16 bytes whose keys and
// values follow at offsets relative to the element. bbolt writes the
// machine's byte order.
const (
	pageHeaderSize  = 16
	pageElementSize = 16
	bucketHeader    = 16 // a bucket value: root page, sequence; an inline page follows when root is 0
	branchPage      = 0x01
	leafPage        = 0x02
	bucketLeaf      = 0x01
	boltMagic       = 0xED0CDAED
	maxTreeDepth    = 64
)

// verifyPages walks the page tree of the bbolt file at path from its
// current meta page, reading the file (not mapping it), and returns an
// error wrapping ErrDamaged at the first page that cannot be what bbolt
// will take it for: an id out of the file, a page referred to twice (a
// cycle, on which bbolt's own cursors would descend for ever), a wrong
// page type, an element or key reaching past its page. It is what lets
// Check report damage that would make bbolt loop or fault.
func verifyPages(path string) error {
	data, release, err := mapFile(path)
	if err != nil {
		return err
	}
	defer release()
	v := &pageWalker{data: data, size: int64(len(data))}
	root, err := v.meta()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	v.seen = make([]uint64, (v.highest+63)/64)
	if err := v.tree(root, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return nil
}

// pageWalker reads the file's bytes from a read-only mapping (mapFile):
// a page is a slice of it, so only the headers and elements the walk
// looks at are read, not the values (most of a large store's bytes).
type pageWalker struct {
	data     []byte
	size     int64
	pageSize int64
	highest  uint64   // the high-water page id: pages at or above it are unused
	seen     []uint64 // a bit per page id below highest
}

// readAt copies the file's bytes at off into buf, as os.File.ReadAt does.
func (v *pageWalker) readAt(buf []byte, off int64) (int, error) {
	if off < 0 || off >= v.size {
		return 0, io.EOF
	}
	n := copy(buf, v.data[off:])
	if n < len(buf) {
		return n, io.EOF
	}
	return n, nil
}

func (v *pageWalker) mark(id uint64) bool {
	w, bit := id/64, uint64(1)<<(id%64)
	was := v.seen[w]&bit != 0
	v.seen[w] |= bit
	return was
}

var ne = binary.NativeEndian

// meta reads both meta pages and returns the root page of the valid one
// with the higher transaction id, as bbolt picks it.
func (v *pageWalker) meta() (uint64, error) {
	var best struct {
		ok               bool
		txid, root, high uint64
		pageSize         int64
	}
	buf := make([]byte, pageHeaderSize+64)
	for i := range 2 {
		off := int64(0)
		if i == 1 {
			if !best.ok {
				// Meta 1 sits one page in; without meta 0's page size,
				// try the common one.
				off = 4096
			} else {
				off = best.pageSize
			}
		}
		if _, err := v.readAt(buf, off); err != nil {
			continue
		}
		m := buf[pageHeaderSize:]
		h := fnv.New64a()
		h.Write(m[:56])
		if ne.Uint32(m[0:]) != boltMagic || h.Sum64() != ne.Uint64(m[56:]) {
			continue
		}
		ps := int64(ne.Uint32(m[8:]))
		txid := ne.Uint64(m[48:])
		if ps < 1024 || ps > 1<<20 {
			continue
		}
		if !best.ok || txid > best.txid {
			best.ok, best.txid, best.root, best.high, best.pageSize = true, txid, ne.Uint64(m[16:]), ne.Uint64(m[40:]), ps
		}
	}
	if !best.ok {
		return 0, errors.New("no valid meta page")
	}
	v.pageSize, v.highest = best.pageSize, best.high
	if v.highest > uint64(v.size/v.pageSize)+1 {
		return 0, fmt.Errorf("the meta page counts %d pages in a file of %d", v.highest, v.size/v.pageSize)
	}
	return best.root, nil
}

// tree checks the page id and everything under it.
func (v *pageWalker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: the tree is deeper than %d", id, maxTreeDepth)
	}
	if id < 2 || id >= v.highest {
		return fmt.Errorf("page %d: outside the file's %d pages", id, v.highest)
	}
	if v.mark(id) {
		return fmt.Errorf("page %d: referred to twice", id)
	}
	off := int64(id) * v.pageSize
	if off+pageHeaderSize > v.size {
		return fmt.Errorf("page %d: past the end of the file", id)
	}
	hdr := v.data[off : off+pageHeaderSize]
	overflow := uint64(ne.Uint32(hdr[12:]))
	if ne.Uint64(hdr[0:]) != id {
		return fmt.Errorf("page %d: its header says page %d", id, ne.Uint64(hdr[0:]))
	}
	if id+overflow >= v.highest {
		return fmt.Errorf("page %d: %d overflow pages run past the file", id, overflow)
	}
	for o := uint64(1); o <= overflow; o++ {
		if v.mark(id + o) {
			return fmt.Errorf("page %d: its overflow page %d is used twice", id, id+o)
		}
	}
	page := v.data[off:min(off+int64(overflow+1)*v.pageSize, v.size)]
	return v.page(id, page, depth)
}

// page checks one page's elements (page holds it whole, overflow
// included, or an inline bucket's page) and walks its children.
func (v *pageWalker) page(id uint64, page []byte, depth int) error {
	if len(page) < pageHeaderSize {
		return fmt.Errorf("page %d: shorter than its header", id)
	}
	flags, count := ne.Uint16(page[8:]), int(ne.Uint16(page[10:]))
	if pageHeaderSize+count*pageElementSize > len(page) {
		return fmt.Errorf("page %d: %d elements do not fit in it", id, count)
	}
	// bbolt takes any page that is not a leaf for a branch and reads its
	// first element whatever the count: an empty branch would send it to
	// a page id found in the bytes after the header.
	if flags == branchPage && count == 0 {
		return fmt.Errorf("page %d: a branch without elements", id)
	}
	for i := range count {
		at := pageHeaderSize + i*pageElementSize
		e := page[at : at+pageElementSize]
		switch flags {
		case branchPage:
			pos, ksize := int64(ne.Uint32(e[0:])), int64(ne.Uint32(e[4:]))
			if int64(at)+pos+ksize > int64(len(page)) {
				return fmt.Errorf("page %d: key %d reaches past the page", id, i)
			}
			if err := v.tree(ne.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		case leafPage:
			lflags, pos, ksize, vsize := ne.Uint32(e[0:]), int64(ne.Uint32(e[4:])), int64(ne.Uint32(e[8:])), int64(ne.Uint32(e[12:]))
			start := int64(at) + pos + ksize
			if start+vsize > int64(len(page)) {
				return fmt.Errorf("page %d: element %d reaches past the page", id, i)
			}
			if lflags&bucketLeaf == 0 {
				continue
			}
			val := page[start : start+vsize]
			if len(val) < bucketHeader {
				return fmt.Errorf("page %d: bucket %d has a short header", id, i)
			}
			if root := ne.Uint64(val[0:]); root != 0 {
				if err := v.tree(root, depth+1); err != nil {
					return err
				}
			} else if err := v.inline(id, val[bucketHeader:], depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d: neither a branch nor a leaf (flags %#x)", id, flags)
		}
	}
	return nil
}

// inline checks the page of a bucket stored in its parent's value. bbolt
// writes only leaves there, and answers every page id inside such a
// bucket with this page: a branch here would be followed for ever.
func (v *pageWalker) inline(parent uint64, page []byte, depth int) error {
	if len(page) < pageHeaderSize || ne.Uint16(page[8:]) != leafPage {
		return fmt.Errorf("page %d: a bucket stored inline is not a leaf", parent)
	}
	return v.page(parent, page, depth)
}
