package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// createSnapshot writes a consistent snapshot under the data dir's
// snapshots folder while the server keeps serving (POST /v1/snapshots).
// Snapshots run one at a time; one that cannot start within SnapshotWait
// answers 503 with Retry-After, and leaves no folder behind.
func (s *Server) createSnapshot(c echo.Context) error {
	if s.cfg.SnapshotDir == "" {
		return fmt.Errorf("snapshots are not configured: %w", data.ErrUnavailable)
	}
	eng, ok := s.cfg.Engine.(index.Snapshotter)
	if !ok {
		return fmt.Errorf("snapshots cover the embedded backend only; back up the external index tier with its own tools: %w", data.ErrUnsupported)
	}
	res, err := eng.SnapshotInto(c.Request().Context(), s.cfg.SnapshotDir, index.SnapshotOptions{
		Wait: s.cfg.SnapshotWait, Files: s.cfg.SnapshotFiles, Keep: s.cfg.SnapshotKeep})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"dir": res.Dir, "manifest": res.Manifest, "pruned": res.Pruned})
}
