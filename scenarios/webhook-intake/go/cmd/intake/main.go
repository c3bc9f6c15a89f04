// Command intake is the webhook-intake service: config, logging, wiring,
// signals and graceful shutdown.
package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"intake/internal/config"
	"intake/internal/downstream"
	"intake/internal/httpapi"
	"intake/internal/intake"
	"intake/internal/logging"
	"intake/internal/metrics"
	"intake/internal/signature"
	"intake/internal/store"
	"intake/internal/worker"
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

	// Work a previous process accepted but did not finish.
	pending, err := st.Pending(context.Background())
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}

	// Subscribed before listening, so a signal that comes during startup
	// is not lost.
	stopSig := make(chan os.Signal, 1)
	signal.Notify(stopSig, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(stopSig)

	m := metrics.New()
	dc := downstream.New(downstream.Options{
		BaseURL:     cfg.DownstreamURL,
		Timeout:     cfg.DownstreamTimeout,
		MaxAttempts: cfg.DownstreamMaxAttempts,
		Backoff:     cfg.DownstreamBackoff,
	}, log, m)
	pool := worker.New(cfg.QueueSize, dc, st, log, m)
	// The workers get their own context: they stop after the HTTP server
	// has drained, so requests still running can queue their events.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	pool.Start(workCtx, cfg.Workers)
	go func() {
		for _, ev := range pending {
			if !pool.Submit(ev) {
				return
			}
		}
	}()
	svc := intake.New(signature.NewVerifier(cfg.WebhookSecret, cfg.SignatureTolerance), st, pool, log, m)

	// Listening before logging means the "listening" line carries the real
	// port even when LISTEN_ADDR asks for port 0.
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())

	srv := &http.Server{
		Handler:           httpapi.New(svc, log, m, cfg.MaxBodyBytes),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var sig os.Signal
	select {
	case err := <-serveErr:
		log.Error("fatal error", "error", err.Error())
		return 1
	case sig = <-stopSig:
	}
	signal.Stop(stopSig) // a second signal now kills the process the default way
	log.Info("shutting down", "signal", signalName(sig))

	// One budget for both stages: drain the HTTP requests, then let the
	// workers finish the attempts they have on the wire.
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		srv.Close() // budget spent: drop the requests still running
	}
	stopWork()
	done := make(chan struct{})
	go func() { pool.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		// Budget spent: unfinished events stay pending for the next start.
	}
	st.Close() // before "stopped", as the README orders it
	log.Info("stopped")
	return 0
}

// signalName is the name operators know sig by ("SIGTERM"), rather than
// its description ("terminated").
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	}
	return sig.String()
}
