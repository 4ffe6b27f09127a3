package sched

import "github.com/prometheus/client_golang/prometheus"

// timeBuckets span a 0.1 ms search to a 10 s model call.
var timeBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

type metrics struct {
	wait, service     prometheus.Histogram
	depth, busy       prometheus.Gauge
	rejected, dropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pool string) (*metrics, error) {
	l := prometheus.Labels{"pool": pool}
	m := &metrics{
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ragd", Subsystem: "sched", Name: "wait_seconds", ConstLabels: l,
			Help: "Time a job waited in the queue before it started.", Buckets: timeBuckets}),
		service: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ragd", Subsystem: "sched", Name: "service_seconds", ConstLabels: l,
			Help: "Time a job ran once started.", Buckets: timeBuckets}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ragd", Subsystem: "sched", Name: "queue_depth", ConstLabels: l,
			Help: "Jobs waiting for a worker."}),
		busy: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ragd", Subsystem: "sched", Name: "busy_workers", ConstLabels: l,
			Help: "Worker slots in use."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ragd", Subsystem: "sched", Name: "rejected_total", ConstLabels: l,
			Help: "Jobs refused because the queue was full."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ragd", Subsystem: "sched", Name: "cancelled_total", ConstLabels: l,
			Help: "Jobs dropped unrun because their context ended while they waited."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.wait, m.service, m.depth, m.busy, m.rejected, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
