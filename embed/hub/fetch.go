package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ragd/ragd/data"
)

// fetch downloads one file into stage, resuming a *.partial left by an
// earlier attempt or run, and verifies it before renaming it into place.
// report gets the file's byte count so far.
func (p *Puller) fetch(ctx context.Context, repo string, rf remoteFile, stage string, report func(int64)) error {
	dst := filepath.Join(stage, filepath.FromSlash(rf.path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// A complete file from an earlier, failed pull is kept if it verifies.
	if _, err := os.Stat(dst); err == nil {
		if verify(dst, rf) == nil {
			return nil
		}
		os.Remove(dst)
	}
	partial := dst + ".partial"
	for attempt := 0; ; attempt++ {
		err := p.download(ctx, p.fileURL(repo, rf.path), partial, rf.size, report)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, data.ErrUnavailable) || attempt >= p.cfg.Retries {
			return err
		}
		p.log.Warn("model download interrupted, resuming", "file", rf.path, "attempt", attempt+1, "err", err)
		t := time.NewTimer(time.Duration(100<<min(attempt, 6)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := verify(partial, rf); err != nil {
		// A corrupt file cannot be resumed: start over next time.
		os.Remove(partial)
		return err
	}
	return os.Rename(partial, dst)
}

// download appends to partial from its current size with a Range request.
// Network failures wrap data.ErrUnavailable (worth resuming).
func (p *Puller) download(ctx context.Context, u, partial string, size int64, report func(int64)) error {
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	offset, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if size >= 0 && offset == size {
		return nil // complete; verified by the caller
	}
	if size >= 0 && offset > size {
		if err := restart(f); err != nil {
			return err
		}
		offset = 0
	}
	req, err := p.newRequest(ctx, http.MethodGet, u)
	if err != nil {
		return err
	}
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return netError(ctx, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		// Resume.
	case resp.StatusCode == http.StatusOK:
		// The server ignored the range: take the whole file again.
		if offset > 0 {
			if err := restart(f); err != nil {
				return err
			}
			offset = 0
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The partial file is as long as the server's copy or longer;
		// restart it so a bad tail cannot survive.
		if err := restart(f); err != nil {
			return err
		}
		return fmt.Errorf("%w: range not satisfiable, restarting", data.ErrUnavailable)
	default:
		if err := statusError(resp); err != nil {
			return err
		}
		return fmt.Errorf("%w: unexpected %s", ErrDownload, resp.Status)
	}
	report(offset)
	if _, err := copyProgress(ctx, f, resp.Body, offset, report); err != nil {
		return netError(ctx, err)
	}
	return f.Sync()
}

func restart(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// verify checks a file's size and hash against what the hub (or the
// catalog) promised: SHA-256 for large files, the git blob id for small
// ones.
func verify(file string, rf remoteFile) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if rf.size >= 0 && st.Size() != rf.size {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrChecksum, rf.path, st.Size(), rf.size)
	}
	var h hash.Hash
	var want string
	switch {
	case rf.sha256 != "":
		h, want = sha256.New(), rf.sha256
	case rf.gitSHA1 != "":
		h, want = sha1.New(), rf.gitSHA1
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	default:
		return nil
	}
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s has %s, want %s", ErrChecksum, rf.path, got, want)
	}
	return nil
}
