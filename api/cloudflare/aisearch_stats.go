package cloudflare

import (
	"github.com/labstack/echo/v4"
)

// statsJSON is the SDK's InstanceStatsResponse.
type statsJSON struct {
	Completed    int            `json:"completed"`
	Error        int            `json:"error"`
	Queued       int            `json:"queued"`
	Running      int            `json:"running"`
	Skipped      int            `json:"skipped"`
	Outdated     int            `json:"outdated"`
	LastActivity *string        `json:"last_activity,omitempty"`
	Engine       statsEngine    `json:"engine"`
	Degraded     bool           `json:"degraded"`
	FileErrors   map[string]any `json:"file_embed_errors"`
}

type statsEngine struct {
	R2        statsR2        `json:"r2"`
	Vectorize statsVectorize `json:"vectorize"`
}

type statsR2 struct {
	MetadataSizeBytes int64 `json:"metadataSizeBytes"`
	ObjectCount       int   `json:"objectCount"`
	PayloadSizeBytes  int64 `json:"payloadSizeBytes"`
}

type statsVectorize struct {
	Dimensions   int `json:"dimensions"`
	VectorsCount int `json:"vectorsCount"`
}

func (h *handler) instanceStats(c echo.Context) error {
	ns, id := namespaceParam(c), c.Param("index")
	out := statsJSON{FileErrors: map[string]any{}}
	var idx string
	var err error
	h.ais.read(func(d *aisData) {
		var r *instanceRecord
		if r, err = findInstance(d, ns, id); err != nil {
			return
		}
		idx = r.Index
		out.LastActivity = isoTime(r.LastActivity)
		for _, it := range r.Items {
			switch it.Status {
			case itemCompleted:
				out.Completed++
			case itemError:
				out.Error++
				out.FileErrors[it.Key] = it.Error
			case itemQueued:
				out.Queued++
			case itemRunning:
				out.Running++
			}
			out.Engine.R2.ObjectCount++
			out.Engine.R2.PayloadSizeBytes += it.FileSize
		}
	})
	if err != nil {
		return h.fail(c, err)
	}
	info, err := h.cfg.Engine.Index(c.Request().Context(), idx)
	if err != nil {
		return h.fail(c, err)
	}
	out.Engine.Vectorize = statsVectorize{Dimensions: info.Dims, VectorsCount: info.Stats.Vectors}
	return ok(c, out)
}
