// Package httpapi is the HTTP layer: routes, handlers, JSON errors, the
// request log and the metrics middleware.
package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"intake/internal/intake"
	"intake/internal/metrics"
	"intake/internal/signature"
	"intake/internal/store"
)

type server struct {
	svc          *intake.Service
	log          *slog.Logger
	metrics      *metrics.Metrics
	maxBodyBytes int64
	mux          *http.ServeMux
}

// New returns the service's HTTP handler; webhook bodies above maxBodyBytes
// are refused.
func New(svc *intake.Service, log *slog.Logger, m *metrics.Metrics, maxBodyBytes int64) http.Handler {
	s := &server{svc: svc, log: log, metrics: m, maxBodyBytes: maxBodyBytes, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/webhooks", s.receiveWebhook)
	s.mux.HandleFunc("GET /v1/events/{id}", s.getEvent)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	// Method-less patterns catch the other methods on known paths, so the
	// 405 has our JSON body instead of ServeMux's plain-text one.
	for _, p := range []string{"/v1/webhooks", "/v1/events/{id}", "/healthz", "/metrics"} {
		s.mux.HandleFunc(p, methodNotAllowed)
	}
	s.mux.HandleFunc("/", notFound)
	return s
}

// ServeHTTP wraps every request with the in-flight gauge, the request
// counter and the request log line.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.metrics.AddInFlight(1)
	defer s.metrics.AddInFlight(-1)

	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)

	_, pattern := s.mux.Handler(r)
	s.metrics.ObserveRequest(routeLabel(pattern), rec.status)
	s.log.Info("request", "method", r.Method, "path", r.URL.Path,
		"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
}

// routeLabel turns a ServeMux pattern ("GET /v1/events/{id}") into the
// metrics label ("/v1/events/{id}"); the catch-all becomes "other" so
// arbitrary paths cannot blow up the number of series.
func routeLabel(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	if pattern == "" || pattern == "/" {
		return "other"
	}
	return pattern
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

type receipt struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (s *server) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes))
	if err != nil {
		s.reject(w, http.StatusRequestEntityTooLarge, "too_large", "body too large")
		return
	}

	out, err := s.svc.Receive(r.Context(), r.Header.Get("Webhook-Signature"), body)
	switch {
	case errors.Is(err, signature.ErrStale):
		s.reject(w, http.StatusUnauthorized, "timestamp", err.Error())
	case errors.Is(err, signature.ErrInvalid):
		s.reject(w, http.StatusUnauthorized, "signature", err.Error())
	case errors.Is(err, intake.ErrInvalidEvent):
		s.reject(w, http.StatusBadRequest, "invalid_event", err.Error())
	case err != nil:
		s.internalError(w, err)
	case out.Duplicate:
		writeJSON(w, http.StatusOK, receipt{out.ID, "duplicate"})
	default:
		writeJSON(w, http.StatusAccepted, receipt{out.ID, "accepted"})
	}
}

// reject answers a refused webhook, counts it and says why in the log.
func (s *server) reject(w http.ResponseWriter, status int, reason, msg string) {
	s.metrics.EventRejected()
	s.log.Warn("webhook rejected", "reason", reason)
	writeError(w, status, msg)
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.svc.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "event not found")
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, ev)
	}
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
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

// writeJSON writes v without a trailing newline (json.Marshal, not an
// Encoder), as the README's examples show the bodies.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
