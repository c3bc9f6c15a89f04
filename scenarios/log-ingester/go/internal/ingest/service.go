// Package ingest is the ingest flow: parse, quota, batch; the flush of a
// batch to the store and the archive; queries; periodic housekeeping.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"ingester/internal/archive"
	"ingester/internal/batch"
	"ingester/internal/metrics"
	"ingester/internal/parse"
	"ingester/internal/quota"
	"ingester/internal/store"
)

// Formats of a request body.
const (
	FormatNDJSON = "ndjson"
	FormatPlain  = "plain"
)

// ErrInvalidTenant is returned for a missing or malformed tenant.
var ErrInvalidTenant = errors.New("invalid tenant")

// QuotaError is returned when the tenant is over its quota.
type QuotaError struct{ RetryAfter time.Duration }

func (e *QuotaError) Error() string { return "quota exceeded" }

// Receipt is the answer to an accepted request.
type Receipt struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
}

// Service wires the parser, the limiter, the batcher and the store.
type Service struct {
	maxLine int
	quotas  *quota.Limiter
	batcher *batch.Batcher
	store   *store.Store
	archive *archive.Client
	log     *slog.Logger
	metrics *metrics.Metrics
}

// New returns the service.
func New(maxLine int, q *quota.Limiter, b *batch.Batcher, st *store.Store, ar *archive.Client,
	log *slog.Logger, m *metrics.Metrics) *Service {
	return &Service{maxLine: maxLine, quotas: q, batcher: b, store: st, archive: ar, log: log, metrics: m}
}

// Ingest parses body, charges the tenant's quota and queues the good lines.
// Bad lines are counted and skipped; the good ones are kept all or none.
func (s *Service) Ingest(tenant, format string, body []byte) (Receipt, error) {
	if !parse.ValidTenant(tenant) {
		return Receipt{}, ErrInvalidTenant
	}
	var res parse.Result
	if format == FormatPlain {
		res = parse.Plain(body, s.maxLine)
	} else {
		res = parse.NDJSON(body, s.maxLine)
	}
	s.metrics.LinesRejected(res.Rejected)
	if res.Rejected > 0 {
		s.log.Warn("lines rejected", "tenant", tenant, "count", res.Rejected)
	}
	n := len(res.Lines)
	if n == 0 {
		return Receipt{Rejected: res.Rejected}, nil
	}
	now := time.Now()
	if ok, retry := s.quotas.Allow(tenant, n, now); !ok {
		s.metrics.LinesDropped("quota", n)
		s.log.Warn("quota exceeded", "tenant", tenant, "lines", n)
		return Receipt{}, &QuotaError{RetryAfter: retry}
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	lines := make([]store.Line, n)
	for i, l := range res.Lines {
		lines[i] = store.Line{Tenant: tenant, TS: ts, Level: l.Level, Msg: l.Msg}
	}
	if err := s.batcher.Add(lines, now); err != nil {
		s.quotas.Refund(tenant, n)
		s.metrics.LinesDropped("overload", n)
		s.log.Warn("lines dropped", "tenant", tenant, "lines", n, "error", err.Error())
		return Receipt{}, err
	}
	s.metrics.LinesAccepted(n)
	return Receipt{Accepted: n, Rejected: res.Rejected}, nil
}

// Query returns tenant's newest lines whose message contains q.
func (s *Service) Query(ctx context.Context, tenant, q string, limit int) ([]store.Line, error) {
	if !parse.ValidTenant(tenant) {
		return nil, ErrInvalidTenant
	}
	return s.store.Query(ctx, tenant, q, limit)
}

// Flush writes one batch to the store, then ships it to the archive. The
// store is the source of truth for queries: an archive failure is logged
// and counted, not retried.
func (s *Service) Flush(lines []store.Line) {
	start := time.Now()
	if err := s.store.InsertBatch(context.Background(), lines); err != nil {
		s.log.Error("flush failed", "lines", len(lines), "error", err.Error())
		return
	}
	s.metrics.BatchFlushed(len(lines))
	if err := s.archive.Send(context.Background(), lines); err != nil {
		s.metrics.ArchiveFailed()
		s.log.Warn("archive failed", "lines", len(lines), "error", err.Error())
	}
	s.log.Info("batch flushed", "lines", len(lines), "duration_ms", time.Since(start).Milliseconds())
}

// Housekeep runs on every tick: it seals a batch that waited long enough
// and forgets tenants whose quota window is over.
func (s *Service) Housekeep(now time.Time) {
	n := s.batcher.FlushAged(now)
	if n > 0 {
		s.log.Info("batch sealed", "lines", n, "reason", "age")
	}
	s.quotas.Sweep(now)
}
