// Package httpapi is the HTTP layer: routes, handlers, JSON errors and the
// request log.
package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"ingester/internal/batch"
	"ingester/internal/ingest"
	"ingester/internal/metrics"
	"ingester/internal/store"
)

type server struct {
	svc          *ingest.Service
	log          *slog.Logger
	metrics      *metrics.Metrics
	maxBodyBytes int64
	mux          *http.ServeMux
}

// New returns the service's HTTP handler; bodies above maxBodyBytes are
// refused.
func New(svc *ingest.Service, log *slog.Logger, m *metrics.Metrics, maxBodyBytes int64) http.Handler {
	s := &server{svc: svc, log: log, metrics: m, maxBodyBytes: maxBodyBytes, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/logs", s.ingestHandler(ingest.FormatNDJSON))
	s.mux.HandleFunc("POST /v1/lines", s.ingestHandler(ingest.FormatPlain))
	s.mux.HandleFunc("GET /v1/query", s.query)
	s.mux.HandleFunc("GET /healthz", healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	// Method-less patterns catch the other methods on known paths, so the
	// 405 has our JSON body.
	for _, p := range []string{"/v1/logs", "/v1/lines", "/v1/query", "/healthz", "/metrics"} {
		s.mux.HandleFunc(p, methodNotAllowed)
	}
	s.mux.HandleFunc("/", notFound)
	return s
}

// ServeHTTP logs every request once it has been answered.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.Info("request", "method", r.Method, "path", r.URL.Path,
		"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *server) ingestHandler(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		receipt, err := s.svc.Ingest(r.Header.Get("X-Tenant"), format, body)
		var qe *ingest.QuotaError
		switch {
		case errors.Is(err, ingest.ErrInvalidTenant):
			writeError(w, http.StatusBadRequest, err.Error())
		case errors.As(err, &qe):
			w.Header().Set("Retry-After", retryAfter(qe.RetryAfter))
			writeError(w, http.StatusTooManyRequests, err.Error())
		case errors.Is(err, batch.ErrOverloaded), errors.Is(err, batch.ErrClosed):
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "overloaded")
		case err != nil:
			s.internalError(w, err)
		default:
			writeJSON(w, http.StatusAccepted, receipt)
		}
	}
}

// retryAfter is d in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

type queryAnswer struct {
	Lines []store.Line `json:"lines"`
	Count int          `json:"count"`
}

func (s *server) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit must be 1..1000")
			return
		}
		limit = n
	}
	lines, err := s.svc.Query(r.Context(), q.Get("tenant"), q.Get("q"), limit)
	switch {
	case errors.Is(err, ingest.ErrInvalidTenant):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, queryAnswer{lines, len(lines)})
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.WriteHeader(http.StatusOK)
	s.metrics.WriteText(w) // a write error means the client went away
}

func (s *server) internalError(w http.ResponseWriter, err error) {
	s.log.Error("internal error", "error", err.Error())
	writeError(w, http.StatusInternalServerError, "internal error")
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "method not allowed")
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "not found")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// writeJSON writes v without a trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
