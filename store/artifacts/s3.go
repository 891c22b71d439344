package artifacts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Object names under an S3 store's prefix.
const (
	s3Blobs   = "sha256/" // sha256/<key>: the blobs
	s3Touch   = "touch/"  // touch/<key>: written by a Put that found its blob present
	s3Refs    = "refs/"   // refs/<name>: a ref, holding a key
	s3Aside   = "gc/"     // gc/<key>.<suffix>: a blob a collector is deleting
	s3Clock   = "gc/clock-"
	clockLife = 10 * time.Minute
)

// S3Options say how to reach an S3 store. OpenURL fills them from the
// environment (S3OptionsFromEnv); the pipeline file never names them.
type S3Options struct {
	// Endpoint is the server's URL, e.g. http://127.0.0.1:9000 for a
	// MinIO-like server (bucket addressed by path); "" means AWS S3
	// (https://s3.amazonaws.com, bucket addressed by name or path as AWS
	// wants). A bare HOST:PORT means https.
	Endpoint string
	// Region is the bucket's region; "" lets the client find it.
	Region string
	// AccessKeyID, SecretAccessKey and SessionToken, when AccessKeyID is
	// set, are the credentials. Otherwise they come from the standard AWS
	// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_SESSION_TOKEN), else the shared credentials and config files
	// (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE), else
	// none (anonymous requests).
	AccessKeyID, SecretAccessKey, SessionToken string
	// Transport, if set, carries the requests (tests).
	Transport http.RoundTripper
}

// S3OptionsFromEnv reads the endpoint and region from the environment:
// the endpoint from SLUICE_S3_ENDPOINT, else AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL; the region from AWS_REGION, else AWS_DEFAULT_REGION.
// Credentials are left to the standard AWS chain (see S3Options).
func S3OptionsFromEnv() (*S3Options, error) {
	o := &S3Options{}
	for _, v := range []string{"SLUICE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if e := os.Getenv(v); e != "" {
			o.Endpoint = e
			break
		}
	}
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := os.Getenv(v); r != "" {
			o.Region = r
			break
		}
	}
	return o, nil
}

// ParseS3URL splits s3://BUCKET/PREFIX into the bucket and the prefix
// ("" or ending in "/"). The error wraps ErrBadURL.
func ParseS3URL(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%w: %q is not an s3:// URL", ErrBadURL, loc)
	}
	if strings.ContainsAny(rest, "?#") {
		return "", "", fmt.Errorf("%w: %q: an s3 URL is s3://BUCKET/PREFIX, without query or fragment (the endpoint comes from SLUICE_S3_ENDPOINT)", ErrBadURL, loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return "", "", fmt.Errorf("%w: %q: bucket %q: %v", ErrBadURL, loc, bucket, err)
	}
	prefix = strings.Trim(prefix, "/")
	if strings.Contains(prefix, "//") {
		return "", "", fmt.Errorf("%w: %q: empty part in the prefix", ErrBadURL, loc)
	}
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// S3 is an artifact store in an S3 bucket (AWS S3 or an S3-compatible
// server such as MinIO), under a prefix. Its zero value is not usable;
// call OpenS3 or OpenURL. It is safe for concurrent use by goroutines and
// by processes on any number of machines sharing the bucket.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string

	mu    sync.Mutex
	clock clockEstimate // guarded by mu

	afterDelete func() // tests: called where a concurrent Put may touch
}

// OpenS3 returns the store of the objects under prefix in bucket. It
// checks that the bucket exists and can be reached, so a wrong endpoint,
// bucket or credentials fail here rather than at the first write.
func OpenS3(ctx context.Context, bucket, prefix string, o *S3Options) (*S3, error) {
	if o == nil {
		o = &S3Options{}
	}
	host, secure, lookup := "s3.amazonaws.com", true, minio.BucketLookupAuto
	if o.Endpoint != "" {
		e := o.Endpoint
		if !strings.Contains(e, "://") {
			e = "https://" + e
		}
		u, err := url.Parse(e)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%w: endpoint %q: want http(s)://HOST[:PORT]", ErrBadURL, o.Endpoint)
		}
		host, secure, lookup = u.Host, u.Scheme == "https", minio.BucketLookupPath
	}
	var creds *credentials.Credentials
	if o.AccessKeyID != "" {
		creds = credentials.NewStaticV4(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
		})
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Region:       o.Region,
		BucketLookup: lookup,
		Transport:    o.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("open artifacts s3://%s/%s: %w", bucket, prefix, err)
	}
	s := &S3{client: c, bucket: bucket, prefix: prefix}
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open artifacts %s: %w", s.Location(), err)
	}
	if !ok {
		return nil, fmt.Errorf("open artifacts %s: bucket %s does not exist", s.Location(), bucket)
	}
	return s, nil
}

// Location returns the store's s3:// URL.
func (s *S3) Location() string {
	return "s3://" + s.bucket + "/" + s.prefix
}

func (s *S3) blob(key string) string  { return s.prefix + s3Blobs + key }
func (s *S3) touch(key string) string { return s.prefix + s3Touch + key }
func (s *S3) ref(name string) string  { return s.prefix + s3Refs + name }

// putOptions are the options of every upload: the server checks the
// bytes against their MD5 (Content-MD5), and the payload is not signed
// chunk by chunk (minio-go does that over plain http, and some servers
// refuse it for an empty object).
func putOptions(contentType string) minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: contentType, SendContentMd5: true, DisableContentSha256: true}
}

// notFound reports an error of the server that means "no such object".
func notFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == "NoSuchKey" || r.Code == "NotFound" || (r.StatusCode == http.StatusNotFound && r.Code != "NoSuchBucket")
}

// stat returns an object's size and time; a missing one gives an error
// wrapping fs.ErrNotExist.
func (s *S3) stat(ctx context.Context, name string) (minio.ObjectInfo, error) {
	info, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return info, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		return info, err
	}
	return info, nil
}

// Put stores the bytes r yields under their SHA-256 and returns the key
// and size. The bytes are spooled to a local temporary file while they
// are hashed (the object's name is their hash), then uploaded in one
// PUT (or a multipart upload for large blobs), which S3 makes visible
// whole or not at all; the server checks them against their MD5. If the
// blob is already stored Put writes a small touch object instead, which
// counts as the blob's modification time for a collector (see
// DeleteBefore), and looks once more that the blob is still there.
func (s *S3) Put(ctx context.Context, r io.Reader) (string, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp("", "sluice-artifact-*")
	if err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	defer func() {
		_ = tmp.Close() // a local staging copy, uploaded or abandoned by now
		_ = os.Remove(tmp.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	key := hex.EncodeToString(h.Sum(nil))
	info, err := s.stat(ctx, s.blob(key))
	switch {
	case err == nil && info.Size == n:
		// The touch goes first, the second look after it: a collector
		// that deletes the blob before the touch is seen makes the
		// second look miss it (and Put uploads); one that deletes it
		// later sees the touch and puts the blob back.
		if _, err := s.client.PutObject(ctx, s.bucket, s.touch(key), bytes.NewReader(nil), 0, putOptions("")); err != nil {
			return "", 0, fmt.Errorf("put artifact %s: touch: %w", short(key), err)
		}
		if _, err := s.stat(ctx, s.blob(key)); err == nil {
			return key, n, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", 0, fmt.Errorf("put artifact %s: %w", short(key), err)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", 0, fmt.Errorf("put artifact %s: %w", short(key), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("put artifact: %w", err)
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.blob(key), tmp, n, putOptions("application/octet-stream"))
	if err != nil {
		return "", 0, fmt.Errorf("put artifact %s: %w", short(key), err)
	}
	return key, n, nil
}

// Get returns a reader of the blob under key, checked against the key
// as it streams (ErrCorrupt at the end instead of io.EOF on a
// mismatch). A missing key gives an error wrapping fs.ErrNotExist.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.blob(key), minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat() // sends the request: a missing blob shows here
		if err != nil {
			_ = obj.Close() // the Stat error is the one to report
		}
	}
	if err != nil {
		if notFound(err) {
			return nil, fmt.Errorf("artifact %s: %w", short(key), fs.ErrNotExist)
		}
		return nil, fmt.Errorf("artifact %s: %w", short(key), err)
	}
	return &verifier{r: obj, h: sha256.New(), key: key}, nil
}

// Has reports whether a blob is stored under key.
func (s *S3) Has(ctx context.Context, key string) (bool, error) {
	if _, err := s.Size(ctx, key); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Size returns the size of the blob under key, or an error wrapping
// fs.ErrNotExist.
func (s *S3) Size(ctx context.Context, key string) (int64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	info, err := s.stat(ctx, s.blob(key))
	if err != nil {
		return 0, fmt.Errorf("artifact %s: %w", short(key), err)
	}
	return info.Size, nil
}

// Delete removes the blob under key and its touch; a missing one is not
// an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	for _, name := range []string{s.blob(key), s.touch(key)} {
		if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
			return fmt.Errorf("delete artifact %s: %w", short(key), err)
		}
	}
	return nil
}

// list calls fn with every object under the store's prefix+sub.
func (s *S3) list(ctx context.Context, sub string, fn func(minio.ObjectInfo) error) error {
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + sub, Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// List calls fn with every blob's key, size and modification time: the
// later of the blob's and its touch's, on the local clock (see
// DeleteBefore), stopping at fn's first error.
func (s *S3) List(ctx context.Context, fn func(key string, size int64, modified time.Time) error) error {
	touched := map[string]time.Time{}
	err := s.list(ctx, s3Touch, func(o minio.ObjectInfo) error {
		touched[strings.TrimPrefix(o.Key, s.prefix+s3Touch)] = o.LastModified
		return nil
	})
	if err != nil {
		return fmt.Errorf("list artifacts: %w", err)
	}
	// Without the right to write (the clock is read by writing an
	// object), times are the server's as they are: enough for du, and a
	// collector stops at DeleteBefore, which needs the clock.
	lo, err := s.clockOffset(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lo = time.Second
	}
	err = s.list(ctx, s3Blobs, func(o minio.ObjectInfo) error {
		key := strings.TrimPrefix(o.Key, s.prefix+s3Blobs)
		if CheckKey(key) != nil {
			return nil
		}
		mod := o.LastModified
		if t, ok := touched[key]; ok && t.After(mod) {
			mod = t
		}
		return fn(key, o.Size, toLocal(mod, lo))
	})
	if err != nil {
		return fmt.Errorf("list artifacts: %w", err)
	}
	return nil
}

// PutRef points the ref name (a stage fingerprint) at key: one small
// object, refs/<name>, replaced whole by a PUT. It does not check that a
// blob is stored under key.
func (s *S3) PutRef(ctx context.Context, name, key string) error {
	if err := CheckRef(name); err != nil {
		return err
	}
	if err := CheckKey(key); err != nil {
		return err
	}
	body := []byte(key + "\n")
	_, err := s.client.PutObject(ctx, s.bucket, s.ref(name), bytes.NewReader(body), int64(len(body)), putOptions("text/plain"))
	if err != nil {
		return fmt.Errorf("put ref %s: %w", short(name), err)
	}
	return nil
}

// GetRef returns the key the ref name points at, or an error wrapping
// fs.ErrNotExist if there is none (ErrCorrupt if the object holds no
// key).
func (s *S3) GetRef(ctx context.Context, name string) (string, error) {
	if err := CheckRef(name); err != nil {
		return "", err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.ref(name), minio.GetObjectOptions{})
	if err != nil {
		return "", fmt.Errorf("ref %s: %w", short(name), err)
	}
	defer obj.Close() //nolint:errcheck // opened for reading: a failed close loses nothing
	b, err := io.ReadAll(io.LimitReader(obj, 2*maxRef))
	if err != nil {
		if notFound(err) {
			return "", fmt.Errorf("ref %s: %w", short(name), fs.ErrNotExist)
		}
		return "", fmt.Errorf("ref %s: %w", short(name), err)
	}
	return parseRef(name, b)
}
