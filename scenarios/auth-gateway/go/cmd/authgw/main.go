// Command authgw is the auth gateway: config, logging, wiring, the key
// refresher, the rules watcher (file polling and SIGHUP), signals and
// graceful shutdown.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"authgw/internal/config"
	"authgw/internal/gateway"
	"authgw/internal/keys"
	"authgw/internal/metrics"
	"authgw/internal/rules"
)

func main() {
	os.Exit(run())
}

// run returns the exit status so deferred cleanup runs before os.Exit.
func run() int {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		return 2
	}
	store, err := rules.NewStore(cfg.RulesPath, log)
	if err != nil {
		log.Error("invalid rules file", "error", err.Error())
		return 2
	}
	set, _ := store.Current()
	log.Info("rules loaded", "routes", set.Len(), "fingerprint", set.Fingerprint())

	m := metrics.New()
	kc := keys.New(cfg.KeysURL, cfg.KeysTimeout, cfg.KeysMinRefresh, log, m)
	startCtx, cancelStart := context.WithTimeout(context.Background(), cfg.KeysTimeout)
	// Serving without keys is allowed: every token then asks for a fetch.
	_ = kc.Refresh(startCtx, "startup")
	cancelStart()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	go kc.Run(bg, cfg.KeysRefresh)
	go watchRules(bg, store, cfg.RulesPoll, m)

	gw := gateway.New(gateway.Options{
		BackendURL:     cfg.BackendURL,
		BackendTimeout: cfg.BackendTimeout,
		Leeway:         cfg.Leeway,
	}, kc, store, m, log)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		log.Error("fatal error", "error", err.Error())
		return 1
	}
	log.Info("listening", "addr", ln.Addr().String())
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		log.Error("fatal error", "error", err.Error())
		return 1
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down")
	stopBg()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
	}
	log.Info("stopped")
	return 0
}

// watchRules reloads the rules on SIGHUP and when the file changes; both in
// this one goroutine, so reloads never overlap.
func watchRules(ctx context.Context, store *rules.Store, every time.Duration, m *metrics.Metrics) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			store.Reload("sighup", m)
		case <-t.C:
			store.Poll(m)
		}
	}
}
