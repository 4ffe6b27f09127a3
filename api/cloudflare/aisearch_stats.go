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
	st, err := h.ais.Stats(c.Request().Context(), namespaceParam(c), c.Param("index"))
	if err != nil {
		return err
	}
	out := statsJSON{Completed: st.Completed, Error: st.Error, Queued: st.Queued, Running: st.Running,
		LastActivity: isoTime(st.LastActivity), FileErrors: make(map[string]any, len(st.FileErrors)),
		Engine: statsEngine{R2: statsR2{ObjectCount: st.Files, PayloadSizeBytes: st.Bytes},
			Vectorize: statsVectorize{Dimensions: st.Dims, VectorsCount: st.Vectors}}}
	for k, v := range st.FileErrors {
		out.FileErrors[k] = v
	}
	return ok(c, out)
}
