// Package metrics holds the service counters and renders them in the
// Prometheus text format. Hand-rolled: eight series do not need a client
// library, and the output is exactly the README's.
package metrics

import (
	"fmt"
	"io"
	"sync/atomic"
)

// Metrics is safe for concurrent use.
type Metrics struct {
	accepted        atomic.Uint64
	rejected        atomic.Uint64
	droppedQuota    atomic.Uint64
	droppedOverload atomic.Uint64
	queueDepth      atomic.Int64
	batches         atomic.Uint64
	linesFlushed    atomic.Uint64
	archiveFailures atomic.Uint64
}

// New returns zeroed metrics.
func New() *Metrics { return &Metrics{} }

// LinesAccepted counts lines taken into a batch.
func (m *Metrics) LinesAccepted(n int) { m.accepted.Add(uint64(n)) }

// LinesRejected counts lines refused as malformed or too long.
func (m *Metrics) LinesRejected(n int) { m.rejected.Add(uint64(n)) }

// LinesDropped counts valid lines refused, by reason ("quota", "overload").
func (m *Metrics) LinesDropped(reason string, n int) {
	if reason == "quota" {
		m.droppedQuota.Add(uint64(n))
	} else {
		m.droppedOverload.Add(uint64(n))
	}
}

// SetQueueDepth sets the gauge of lines waiting to be written.
func (m *Metrics) SetQueueDepth(n int) { m.queueDepth.Store(int64(n)) }

// BatchFlushed counts one batch written to the store.
func (m *Metrics) BatchFlushed(lines int) {
	m.batches.Add(1)
	m.linesFlushed.Add(uint64(lines))
}

// ArchiveFailed counts one batch the archive did not take.
func (m *Metrics) ArchiveFailed() { m.archiveFailures.Add(1) }

// WriteText writes every family in the Prometheus text format.
func (m *Metrics) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, `# TYPE ingest_lines_accepted_total counter
ingest_lines_accepted_total %d
# TYPE ingest_lines_rejected_total counter
ingest_lines_rejected_total %d
# TYPE ingest_lines_dropped_total counter
ingest_lines_dropped_total{reason="overload"} %d
ingest_lines_dropped_total{reason="quota"} %d
# TYPE ingest_queue_depth gauge
ingest_queue_depth %d
# TYPE ingest_batches_flushed_total counter
ingest_batches_flushed_total %d
# TYPE ingest_lines_flushed_total counter
ingest_lines_flushed_total %d
# TYPE ingest_archive_failures_total counter
ingest_archive_failures_total %d
`, m.accepted.Load(), m.rejected.Load(), m.droppedOverload.Load(), m.droppedQuota.Load(),
		m.queueDepth.Load(), m.batches.Load(), m.linesFlushed.Load(), m.archiveFailures.Load())
	return err
}
