package api

import (
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
	"github.com/ragd/ragd/index"
)

// createSnapshot writes a consistent snapshot under the data dir's
// snapshots folder while the server keeps serving (POST /v1/snapshots).
func (s *Server) createSnapshot(c echo.Context) error {
	if s.cfg.SnapshotDir == "" {
		return fmt.Errorf("snapshots are not configured: %w", data.ErrUnavailable)
	}
	eng, ok := s.cfg.Engine.(index.Snapshotter)
	if !ok {
		return fmt.Errorf("snapshots cover the embedded backend only; back up the external index tier with its own tools: %w", data.ErrUnsupported)
	}
	dir := filepath.Join(s.cfg.SnapshotDir, time.Now().UTC().Format("20060102T150405.000Z"))
	man, err := eng.Snapshot(c.Request().Context(), dir)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"dir": dir, "manifest": man})
}
