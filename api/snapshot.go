package api

import (
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/ragd/ragd/data"
)

// createSnapshot writes a consistent snapshot under the data dir's
// snapshots folder while the server keeps serving (POST /v1/snapshots).
func (s *Server) createSnapshot(c echo.Context) error {
	if s.cfg.SnapshotDir == "" {
		return fmt.Errorf("snapshots are not configured: %w", data.ErrUnavailable)
	}
	dir := filepath.Join(s.cfg.SnapshotDir, time.Now().UTC().Format("20060102T150405.000Z"))
	man, err := s.cfg.Engine.Snapshot(c.Request().Context(), dir)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"dir": dir, "manifest": man})
}
