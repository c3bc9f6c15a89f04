// Command edgeproxy is the edge proxy: config, logging, wiring, the health
// checker, signals and graceful shutdown.
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

	"edgeproxy/internal/config"
	"edgeproxy/internal/logging"
	"edgeproxy/internal/metrics"
	"edgeproxy/internal/proxy"
	"edgeproxy/internal/upstream"
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

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	m := metrics.New()
	pool := upstream.New(cfg.UpstreamURLs, upstream.Options{
		MaxConns:      cfg.UpstreamMaxConns,
		HealthTimeout: cfg.HealthTimeout,
	}, log)
	px := proxy.New(pool, proxy.Options{
		UpstreamTimeout: cfg.UpstreamTimeout,
		BodyIdleTimeout: cfg.BodyIdleTimeout,
		MaxIdle:         cfg.UpstreamMaxIdle,
	}, log, m)
	defer px.Close()

	// One round of probes before listening, so the first request already
	// knows which upstreams answer.
	pool.CheckAll(ctx)
	healthCtx, stopHealth := context.WithCancel(context.Background())
	defer stopHealth()

	// Listening before logging means the "listening" line carries the real
	// port even when LISTEN_ADDR asks for port 0.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())
	go pool.Run(healthCtx, cfg.HealthInterval)

	srv := &http.Server{
		Handler:           px,
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
	stopHealth()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		srv.Close() // budget spent: drop the requests still running
	}
	log.Info("stopped")
	return 0
}

// signalName maps NotifyContext's cancellation cause (which describes the
// signal as "<sig.String()> signal received") to the conventional name, e.g.
// "SIGTERM".
func signalName(cause error) string {
	for sig, name := range map[os.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"} {
		if strings.HasPrefix(cause.Error(), sig.String()) {
			return name
		}
	}
	return cause.Error()
}
