package artifacts

import (
	"bytes"
	"context"
)

// SetAfterDelete sets a function DeleteBefore calls between deleting a
// blob and looking at its touch: where a concurrent Put may touch it.
func (s *S3) SetAfterDelete(fn func()) { s.afterDelete = fn }

// Touch writes a blob's touch object, as a Put that found the blob does.
func (s *S3) Touch(ctx context.Context, key string) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.touch(key), bytes.NewReader(nil), 0, putOptions(""))
	return err
}

// RawPut writes an object under the store's prefix as it is.
func (s *S3) RawPut(ctx context.Context, name string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+name, bytes.NewReader(data), int64(len(data)), putOptions(""))
	return err
}

// RawHas reports whether an object is stored under the store's prefix.
func (s *S3) RawHas(ctx context.Context, name string) bool {
	_, err := s.stat(ctx, s.prefix+name)
	return err == nil
}
