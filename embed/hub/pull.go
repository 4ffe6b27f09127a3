package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/embed"
)

// Sentinel errors. Errors also wrap the matching data error
// (data.ErrNotFound, data.ErrUnauthorized, data.ErrUnavailable,
// data.ErrInvalid) so callers can map them.
var (
	// ErrChecksum: a downloaded file's size or hash does not match.
	ErrChecksum = errors.New("hub: checksum mismatch")
	// ErrDownload: the hub answered with an unexpected status.
	ErrDownload = errors.New("hub: download failed")
)

// Config configures a Puller.
type Config struct {
	// Endpoint is the hub's base URL; files are fetched from
	// {Endpoint}/{repo}/resolve/{Revision}/{path}. Required (the caller
	// passes its default or the HF_ENDPOINT environment variable).
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer <token>" (gated
	// or private repositories).
	Token string
	// Revision is the branch, tag or commit to fetch. Default "main".
	Revision string
	// ModelsDir is where models are installed, one directory each.
	// Required.
	ModelsDir string
	// Catalog resolves short names and aliases. Default Catalog().
	Catalog []Model
	// Retries is how often a file download is resumed after a network
	// error within one Pull. Default 3; negative disables.
	Retries int
	// Force downloads a model again even when it is installed; the new
	// copy replaces the old one atomically.
	Force bool
	// HTTPClient sends the requests. Default: a client without timeout
	// (model files are large; cancel through ctx).
	HTTPClient *http.Client
	// Logger receives progress and retry notes. Default: discard.
	Logger *slog.Logger
}

// Progress reports bytes downloaded so far out of total (all files of the
// pull; total is 0 when the hub gave no sizes) and the file in flight.
type Progress func(done, total int64, file string)

// Puller downloads models from a Hugging Face compatible hub.
type Puller struct {
	cfg      Config
	endpoint *url.URL
	head     *http.Client // does not follow redirects
	log      *slog.Logger
}

// New checks cfg and returns a Puller.
func New(cfg Config) (*Puller, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("hub: endpoint required: %w", data.ErrInvalid)
	}
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub: endpoint %q is not an http(s) URL: %w", cfg.Endpoint, data.ErrInvalid)
	}
	if cfg.ModelsDir == "" {
		return nil, fmt.Errorf("hub: models directory required: %w", data.ErrInvalid)
	}
	if cfg.Revision == "" {
		cfg.Revision = "main"
	}
	if cfg.Catalog == nil {
		cfg.Catalog = Catalog()
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	head := *cfg.HTTPClient
	head.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Puller{cfg: cfg, endpoint: u, head: &head, log: log}, nil
}

// Resolve maps a catalog name, alias or "owner/name" repository to the
// model to pull. Repositories outside the catalog install under
// "owner--name" and take their metadata from their config files.
func (p *Puller) Resolve(repoOrName string) (Model, error) {
	if m, ok := Lookup(p.cfg.Catalog, repoOrName); ok {
		return m, nil
	}
	if validRepo(repoOrName) {
		return Model{Name: dirName(repoOrName), Repo: repoOrName, Kind: Embedding}, nil
	}
	return Model{}, fmt.Errorf("hub: %q is neither a known model nor an owner/name repository: %w: %w",
		repoOrName, embed.ErrModelNotFound, data.ErrNotFound)
}

// Pull downloads a model into ModelsDir/<name> and returns that directory.
// Files are staged in ModelsDir/.pull-<name>, where interrupted downloads
// stay as *.partial files that the next Pull resumes; the directory is
// renamed into place only when every file arrived and verified, so a
// failed pull never leaves a partial model installed. An installed model
// is returned as is unless Config.Force is set. progress may be nil.
func (p *Puller) Pull(ctx context.Context, repoOrName string, progress Progress) (string, error) {
	m, err := p.Resolve(repoOrName)
	if err != nil {
		return "", err
	}
	final := filepath.Join(p.cfg.ModelsDir, m.Name)
	if !p.cfg.Force {
		if _, err := os.Stat(filepath.Join(final, ManifestFile)); err == nil {
			return final, nil
		}
	}
	if progress == nil {
		progress = func(int64, int64, string) {}
	}
	stage := filepath.Join(p.cfg.ModelsDir, ".pull-"+m.Name)
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}

	// Look every file up first: missing files and bad credentials fail
	// before anything large is downloaded, and the total size is known.
	var plan []remoteFile
	var total int64
	for _, f := range m.FileList() {
		rf, err := p.lookup(ctx, m.Repo, f)
		if err != nil {
			return "", fmt.Errorf("hub: pull %s: %w", m.Repo, err)
		}
		if rf == nil || slices.ContainsFunc(plan, func(o remoteFile) bool { return o.path == rf.path }) {
			continue
		}
		plan = append(plan, *rf)
		total += max(rf.size, 0)
	}

	var done int64
	man := Manifest{Model: m, Revision: p.cfg.Revision, Source: p.endpoint.String() + "/" + m.Repo}
	for _, rf := range plan {
		base := done
		err := p.fetch(ctx, m.Repo, rf, stage, func(n int64) { done = base + n; progress(done, total, rf.path) })
		if err != nil {
			return "", fmt.Errorf("hub: pull %s: %s: %w", m.Repo, rf.path, err)
		}
		st, err := os.Stat(filepath.Join(stage, filepath.FromSlash(rf.path)))
		if err != nil {
			return "", fmt.Errorf("hub: %w", err)
		}
		done = base + st.Size()
		progress(done, total, rf.path)
		man.Files = append(man.Files, FileInfo{Path: rf.path, Size: st.Size(), SHA256: rf.sha256})
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("hub: pull %s: %w", m.Repo, err)
	}
	man.Model.Files = nil
	fillFromConfig(&man.Model, stage)
	man.PulledAt = time.Now().UTC()
	if err := writeManifest(stage, man); err != nil {
		return "", err
	}
	if err := install(stage, final); err != nil {
		return "", err
	}
	p.log.Info("model installed", "model", m.Name, "repo", m.Repo, "dir", final, "bytes", done)
	return final, nil
}

// install renames the staged directory into place, replacing an older
// copy.
func install(stage, final string) error {
	old := ""
	if _, err := os.Stat(final); err == nil {
		old = fmt.Sprintf("%s.old-%d", filepath.Join(filepath.Dir(final), "."+filepath.Base(final)), time.Now().UnixNano())
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("hub: replace %s: %w", final, err)
		}
	}
	if err := os.Rename(stage, final); err != nil {
		if old != "" {
			// Best effort: put the previous copy back; the install error
			// is the one to report.
			_ = os.Rename(old, final)
		}
		return fmt.Errorf("hub: install %s: %w", final, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// remoteFile is a file found on the hub.
type remoteFile struct {
	path    string
	size    int64  // -1 when unknown
	sha256  string // hex, when known
	gitSHA1 string // hex git blob id, when known
}

// fileURL is {endpoint}/{repo}/resolve/{revision}/{path}.
func (p *Puller) fileURL(repo, file string) string {
	u := *p.endpoint
	segs := []string{u.Path, repo, "resolve", url.PathEscape(p.cfg.Revision)}
	for s := range strings.SplitSeq(file, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	u.RawPath = strings.Join(segs, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	return u.String()
}

func (p *Puller) newRequest(ctx context.Context, method, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", data.ErrInvalid, err)
	}
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	// Sizes, checksums and byte ranges refer to the file itself, not to a
	// compressed transfer.
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// lookup asks the hub for a file (and its alternatives) with HEAD. It
// returns nil for a missing optional file.
func (p *Puller) lookup(ctx context.Context, repo string, f File) (*remoteFile, error) {
	for _, name := range append([]string{f.Path}, f.Alternatives...) {
		if !validPath(name) {
			return nil, fmt.Errorf("file path %q: %w", name, data.ErrInvalid)
		}
		rf, err := p.head1(ctx, p.fileURL(repo, name))
		if errors.Is(err, data.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rf.path = name
		if f.SHA256 != "" {
			rf.sha256 = strings.ToLower(f.SHA256)
		}
		return rf, nil
	}
	if f.Optional {
		return nil, nil
	}
	return nil, fmt.Errorf("%s: %w: %w", f.Path, ErrDownload, data.ErrNotFound)
}

// head1 sends HEAD without following redirects, so that the hub's
// X-Linked-Etag / X-Linked-Size headers of large (LFS) files are seen.
// Redirects without them (a renamed repository) are followed.
func (p *Puller) head1(ctx context.Context, u string) (*remoteFile, error) {
	for range 5 {
		req, err := p.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return nil, err
		}
		resp, err := p.head.Do(req)
		if err != nil {
			return nil, netError(ctx, err)
		}
		resp.Body.Close()
		if err := statusError(resp); err != nil {
			return nil, err
		}
		h := resp.Header
		linked := h.Get("X-Linked-Etag")
		if resp.StatusCode >= 300 && linked == "" {
			loc, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("%w: redirect without location", ErrDownload)
			}
			u = loc.String()
			continue
		}
		rf := &remoteFile{size: -1}
		tag := cleanETag(linked)
		if tag == "" {
			tag = cleanETag(h.Get("ETag"))
		}
		switch {
		case isHex(tag, 64):
			rf.sha256 = tag
		case isHex(tag, 40):
			rf.gitSHA1 = tag
		}
		if s := h.Get("X-Linked-Size"); s != "" {
			if _, err := fmt.Sscan(s, &rf.size); err != nil {
				rf.size = -1 // unparsable: size unknown
			}
		} else if resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 {
			rf.size = resp.ContentLength
		}
		return rf, nil
	}
	return nil, fmt.Errorf("%w: too many redirects", ErrDownload)
}

// statusError maps a hub status to an error; nil for 2xx and 3xx.
func statusError(resp *http.Response) error {
	switch c := resp.StatusCode; {
	case c < 400:
		return nil
	case c == http.StatusNotFound:
		return fmt.Errorf("%w: %w: %s", ErrDownload, data.ErrNotFound, resp.Status)
	case c == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w: %s (the repository is missing, gated or private: check the name and token)", ErrDownload, data.ErrUnauthorized, resp.Status)
	case c == http.StatusForbidden:
		return fmt.Errorf("%w: %w: %s", ErrDownload, data.ErrForbidden, resp.Status)
	case c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("%w: %w: %s", ErrDownload, data.ErrUnavailable, resp.Status)
	default:
		return fmt.Errorf("%w: %s", ErrDownload, resp.Status)
	}
}

func netError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", data.ErrUnavailable, err)
}

func cleanETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.ToLower(strings.Trim(s, `"`))
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validPath accepts relative slash paths that stay inside the model
// directory.
func validPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && !strings.HasPrefix(c, "../") && c != ".."
}

// copyProgress copies src to dst, reporting the running count from start.
func copyProgress(ctx context.Context, dst io.Writer, src io.Reader, start int64, report func(int64)) (int64, error) {
	buf := make([]byte, 256<<10)
	n := start
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := src.Read(buf)
		if k > 0 {
			if _, err := dst.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
			report(n)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
