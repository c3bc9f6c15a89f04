// Command ingester is the log-ingester service: config, logging, wiring,
// the housekeeping tick, signals and graceful shutdown.
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

	"ingester/internal/archive"
	"ingester/internal/batch"
	"ingester/internal/config"
	"ingester/internal/httpapi"
	"ingester/internal/ingest"
	"ingester/internal/logging"
	"ingester/internal/metrics"
	"ingester/internal/quota"
	"ingester/internal/store"
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
	defer st.Close()

	// Subscribed before listening, so a signal during startup is not lost.
	stopSig := make(chan os.Signal, 1)
	signal.Notify(stopSig, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(stopSig)

	m := metrics.New()
	b := batch.New(cfg.BatchSize, cfg.MaxQueuedLines, cfg.FlushInterval, m.SetQueueDepth)
	svc := ingest.New(cfg.MaxLineBytes,
		quota.New(cfg.QuotaLines, cfg.QuotaWindow, cfg.QuotaMaxTenants),
		b, st, archive.New(cfg.ArchiveURL, cfg.ArchiveTimeout), log, m)

	flushCtx, stopFlush := context.WithCancel(context.Background())
	defer stopFlush()
	flushed := make(chan struct{})
	go func() { b.Run(flushCtx, svc.Flush); close(flushed) }()
	// Ticks at half the flush interval, so a batch waits at most 1.5 of it.
	tick := time.NewTicker(max(cfg.FlushInterval/2, time.Millisecond))
	defer tick.Stop()
	go func() {
		for now := range tick.C {
			svc.Housekeep(now)
		}
	}()

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())

	srv := &http.Server{Handler: httpapi.New(svc, log, m, cfg.MaxBodyBytes), ReadHeaderTimeout: 10 * time.Second}
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

	// One budget: drain the HTTP requests, then flush what they queued.
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
	}
	b.Close()
	select {
	case <-flushed:
	case <-time.After(time.Until(deadline)):
		log.Error("shutdown budget spent: lines not flushed")
	}
	st.Close()
	log.Info("stopped")
	return 0
}

// signalName is the name operators know sig by ("SIGTERM").
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	}
	return sig.String()
}
