// Package httpapi is the HTTP layer: routes, handlers, JSON errors, the
// request log and the metrics middleware.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"emailworker/internal/metrics"
	"emailworker/internal/queue"
)

// maxRequestBytes bounds the request body we are willing to parse.
const maxRequestBytes = 1 << 20

// Limits of an email, checked before it is queued.
const (
	maxToBytes       = 254
	maxSubjectChars  = 200
	maxEmailBodySize = 64 << 10
)

type server struct {
	q       *queue.Queue
	log     *slog.Logger
	metrics *metrics.Metrics
	mux     *http.ServeMux
}

// New returns the service's HTTP handler.
func New(q *queue.Queue, log *slog.Logger, m *metrics.Metrics) http.Handler {
	s := &server{q: q, log: log, metrics: m, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/emails", s.enqueue)
	s.mux.HandleFunc("GET /v1/emails/{id}", s.getEmail)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	// Method-less patterns catch the other methods on known paths, so the
	// 405 has our JSON body instead of ServeMux's plain-text one.
	for _, p := range []string{"/v1/emails", "/v1/emails/{id}", "/healthz", "/metrics"} {
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

// routeLabel turns a ServeMux pattern ("GET /v1/emails/{id}") into the
// metrics label ("/v1/emails/{id}"); the catch-all becomes "other" so
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

// emailBody uses pointers so a missing or null field is told apart from an
// empty string: both are "invalid JSON body".
type emailBody struct {
	To      *string `json:"to"`
	Subject *string `json:"subject"`
	Body    *string `json:"body"`
}

func (s *server) enqueue(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	var body emailBody
	if err != nil || json.Unmarshal(raw, &body) != nil ||
		body.To == nil || body.Subject == nil || body.Body == nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if msg := validate(*body.To, *body.Subject, *body.Body); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}

	e := queue.Email{
		ID:        queue.NewID(),
		To:        *body.To,
		Subject:   *body.Subject,
		Body:      *body.Body,
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
	}
	if err := s.q.Enqueue(r.Context(), &e); err != nil {
		s.internalError(w, err)
		return
	}
	s.metrics.Enqueued()
	s.log.Info("email queued", "email_id", e.ID)
	writeJSON(w, http.StatusAccepted, e)
}

// validate returns the error message for the first invalid field, or "".
func validate(to, subject, body string) string {
	local, domain, ok := strings.Cut(to, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		len(to) > maxToBytes || strings.ContainsFunc(to, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "invalid to"
	}
	if subject == "" || utf8.RuneCountInString(subject) > maxSubjectChars {
		return "invalid subject"
	}
	if len(body) > maxEmailBodySize {
		return "invalid body"
	}
	return ""
}

func (s *server) getEmail(w http.ResponseWriter, r *http.Request) {
	e, err := s.q.Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, queue.ErrNotFound):
		writeError(w, http.StatusNotFound, "email not found")
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, e)
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

// writeJSON writes v as a JSON body, without a trailing newline and without
// HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	data := []byte(`{"error":"internal error"}`)
	if err := enc.Encode(v); err == nil {
		data = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	} else {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
