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

	"ledger/internal/ledger"
	"ledger/internal/metrics"
	"ledger/internal/store"
)

// maxBodyBytes bounds the request body we are willing to parse.
const maxBodyBytes = 1 << 20

type server struct {
	svc     *ledger.Service
	log     *slog.Logger
	metrics *metrics.Metrics
	mux     *http.ServeMux
}

// New returns the service's HTTP handler.
func New(svc *ledger.Service, log *slog.Logger, m *metrics.Metrics) http.Handler {
	s := &server{svc: svc, log: log, metrics: m, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /v1/charges", s.createCharge)
	s.mux.HandleFunc("GET /v1/charges/{id}", s.getCharge)
	s.mux.HandleFunc("GET /v1/accounts/{id}", s.getAccount)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	// Method-less patterns catch the other methods on known paths, so the
	// 405 has our JSON body instead of ServeMux's plain-text one.
	for _, p := range []string{"/v1/charges", "/v1/charges/{id}", "/v1/accounts/{id}", "/healthz", "/metrics"} {
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

// routeLabel turns a ServeMux pattern ("GET /v1/charges/{id}") into the
// metrics label ("/v1/charges/{id}"); the catch-all becomes "other" so
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

// chargeBody uses pointers so a missing or null field is told apart from a
// zero value: both are "invalid JSON body", not "invalid amount_cents".
type chargeBody struct {
	Account     *string `json:"account"`
	AmountCents *int64  `json:"amount_cents"`
	Currency    *string `json:"currency"`
}

func (s *server) createCharge(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if err := ledger.ValidateKey(key); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var body chargeBody
	if err != nil || json.Unmarshal(raw, &body) != nil ||
		body.Account == nil || body.AmountCents == nil || body.Currency == nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}

	ch, replayed, err := s.svc.Charge(r.Context(), ledger.Request{
		IdempotencyKey: key,
		Account:        *body.Account,
		AmountCents:    *body.AmountCents,
		Currency:       *body.Currency,
	})
	var verr *ledger.ValidationError
	switch {
	case err == nil:
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, http.StatusCreated, ch)
	case errors.As(err, &verr):
		writeError(w, http.StatusBadRequest, verr.Msg)
	case errors.Is(err, ledger.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ledger.ErrLimitExceeded):
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, ledger.ErrProviderUnavailable):
		writeError(w, http.StatusBadGateway, err.Error())
	default:
		s.internalError(w, err)
	}
}

func (s *server) getCharge(w http.ResponseWriter, r *http.Request) {
	ch, err := s.svc.GetCharge(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "charge not found")
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, ch)
	}
}

func (s *server) getAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := s.svc.Account(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "account not found")
	case err != nil:
		s.internalError(w, err)
	default:
		writeJSON(w, http.StatusOK, acct)
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

// writeJSON writes v as a JSON body, without a trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
