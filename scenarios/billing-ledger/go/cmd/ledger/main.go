// Command ledger is the billing-ledger service: config, logging, wiring,
// signals and graceful shutdown.
package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"ledger/internal/config"
	"ledger/internal/httpapi"
	"ledger/internal/ledger"
	"ledger/internal/logging"
	"ledger/internal/metrics"
	"ledger/internal/provider"
	"ledger/internal/store"
)

func main() {
	os.Exit(run())
}

// run returns the exit status so deferred cleanup runs before os.Exit.
func run() int {
	log := logging.New(os.Stderr)

	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		return 2
	}

	st, err := store.Open(cfg.DBPath)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	defer st.Close() // for the early returns; Close is idempotent

	m := metrics.New()
	pc := provider.New(provider.Options{
		BaseURL:     cfg.ProviderURL,
		Timeout:     cfg.ProviderTimeout,
		MaxAttempts: cfg.ProviderMaxAttempts,
		Backoff:     cfg.ProviderBackoff,
	}, log, m)
	svc := ledger.New(st, pc, log, m, cfg.MaxBalanceCents)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// Listening before logging means the "listening" line carries the real
	// port even when LISTEN_ADDR asks for port 0.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())

	srv := &http.Server{
		Handler:           httpapi.New(svc, log, m),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		log.Error("fatal error", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way
	log.Info("shutting down", "signal", signalName(context.Cause(ctx)))

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		srv.Close() // budget spent: drop the requests still running
	}
	st.Close() // before "stopped", as the README orders it
	log.Info("stopped")
	return 0
}

// signalName maps NotifyContext's cancellation cause (which describes the
// signal as "<sig.String()> signal received") to the conventional name
// the log carries, e.g. "SIGTERM".
func signalName(cause error) string {
	for sig, name := range map[os.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"} {
		if strings.HasPrefix(cause.Error(), sig.String()) {
			return name
		}
	}
	return cause.Error()
}
