//! `drill bench`: a scenario's two languages side by side (`drill bench
//! SCENARIO`), open-loop load against an HTTP URL (`--url`), or the load
//! generator's self-checks (`--self-check`). Method and JSON: docs/bench.md.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::bench::loadgen::{self, LoadSpec, RequestSpec};
use crate::bench::scenario::{self, BenchResult, Measured, Options, Stop};
use crate::bench::workload::Workload;
use crate::bench::{selfcheck, sweep, table, Machine, UrlReport};
use crate::builder::Cache;
use crate::commands::Context;
use crate::console::LoadBar;
use crate::console::Progress;
use crate::error::Failure;
use crate::exit_code::{self, Kind};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["scenario", "url", "self_check", "serve_reference"])))]
#[command(group(clap::ArgGroup::new("format").args(["json", "markdown", "csv"])))]
pub struct BenchArgs {
    /// A scenario of the catalog: build both languages and measure them
    /// under its workload (scenarios/<name>/bench.toml), interleaved rounds.
    pub scenario: Option<String>,
    /// Rounds (each language once per round, interleaved A B A B …).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: u32,
    /// Seeds the fakes' faults and the bootstrap intervals.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also measure builds and the edit-test loop per language first: clean
    /// and incremental builds, visible tests, binary size (minutes per language).
    #[arg(long)]
    pub builds: bool,
    /// Measured repeats of each build step with --builds (clean builds: at most 3).
    #[arg(long, value_name = "N", requires = "builds", value_parser = clap::value_parser!(u32).range(1..=50))]
    pub build_runs: Option<u32>,
    /// Instead of rounds at fixed rates: raise the rate step by step until
    /// the latency limit (p99, else p95 of bench.toml) or the error limit
    /// breaks, per language; the highest rate each sustains.
    #[arg(long, conflicts_with_all = ["builds", "csv"])]
    pub sweep: bool,
    /// The sweep's first rate [default: --rate, else the workload's lowest].
    #[arg(long, value_name = "R", requires = "sweep")]
    pub sweep_from: Option<f64>,
    /// Each step's rate is the last one held × this.
    #[arg(long, value_name = "F", default_value_t = 1.5, requires = "sweep")]
    pub sweep_factor: f64,
    /// The highest rate tried [default: 10 × the first].
    #[arg(long, value_name = "R", requires = "sweep")]
    pub sweep_max: Option<f64>,
    /// Halvings of the gap between the last rate held and the first broken.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "sweep",
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub sweep_refine: u32,
    #[command(flatten)]
    pub results: super::ResultsArgs,
    /// Load this URL (http://host:port/path?query) at a constant rate, open loop.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Measure the load generator itself on this machine (two reference checks).
    #[arg(long)]
    pub self_check: bool,
    /// Serve the reference server (every answer takes MS milliseconds) on
    /// 127.0.0.1, print its URL, and stop after --serve-for seconds: calibrate
    /// another load tool against the same server.
    #[arg(long, value_name = "MS")]
    pub serve_reference: Option<u64>,
    /// How long --serve-reference serves (seconds).
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub serve_for: u64,
    /// Requests per second, constant: each request has an intended start
    /// time. Default: 100 for --url, the workload's rates for a scenario.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Seconds measured. For a scenario also `short` (3 s after a 1 s
    /// warm-up, one startup per load) or `default` (the workload's).
    /// Default: 10 for --url.
    #[arg(long, value_name = "S|short|default")]
    pub duration: Option<String>,
    /// Seconds sent first and not recorded (connections and caches warm up).
    /// Default: 1 for --url, the workload's for a scenario.
    #[arg(long, value_name = "S")]
    pub warmup: Option<f64>,
    /// Keep-alive connections, one worker each (default 16 for --url).
    #[arg(long, value_name = "N")]
    pub connections: Option<usize>,
    /// A request unanswered this long fails, milliseconds (default 5000 for --url).
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body (the same for every request).
    #[arg(long)]
    pub body: Option<String>,
    /// Print the report as JSON on stdout (format in docs/bench.md), no progress.
    #[arg(long)]
    pub json: bool,
    /// A scenario's table as Markdown on stdout.
    #[arg(long)]
    pub markdown: bool,
    /// A scenario's figures as CSV on stdout (one line per figure and language).
    #[arg(long)]
    pub csv: bool,
}

/// The load generator reports finished requests; the console draws them.
struct Bar(LoadBar);

impl loadgen::Observer for Bar {
    fn finished(&self, n: u64) {
        self.0.inc(n);
    }
}

pub fn bench(ctx: &Context, args: BenchArgs) -> Result<u8, Failure> {
    if args.scenario.is_some() {
        return scenario_bench(ctx, args);
    }
    if args.markdown || args.csv {
        return Err(Failure::usage(
            "--markdown and --csv are for a scenario's table; use --json with --url",
        ));
    }
    let rt = ctx.runtime()?;
    if args.self_check {
        return rt.block_on(self_check(args.json));
    }
    if let Some(ms) = args.serve_reference {
        let server =
            selfcheck::FixedDelayServer::start(Duration::from_millis(ms), None).map_err(|e| {
                Failure::new(
                    Kind::Infrastructure,
                    anyhow::anyhow!("reference server: {e}"),
                )
            })?;
        outln!("{}", server.url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let stop = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = tokio::time::sleep(Duration::from_secs(args.serve_for)) => {}
            }
            stop.store(true, Ordering::Relaxed);
        });
        drop(server);
        return Ok(exit_code::SUCCESS);
    }
    let url = args
        .url
        .clone()
        .expect("clap requires --url or --self-check");
    let usage = |e: String| Failure::new(Kind::Usage, anyhow::anyhow!(e));
    let secs = |name: &str, v: f64| -> Result<Duration, Failure> {
        if v.is_finite() && (0.0..=86_400.0).contains(&v) {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(usage(format!(
                "--{name} {v}: give seconds between 0 and 86400"
            )))
        }
    };
    let duration = match args.duration.as_deref() {
        None => 10.0,
        Some(d) => d.parse::<f64>().map_err(|_| {
            usage(format!(
                "--duration {d}: give seconds (`short` and `default` are for a scenario)"
            ))
        })?,
    };
    let spec = LoadSpec {
        rate: args.rate.unwrap_or(100.0),
        warmup: secs("warmup", args.warmup.unwrap_or(1.0))?,
        duration: secs("duration", duration)?,
        connections: args.connections.unwrap_or(16),
        timeout: Duration::from_millis(args.timeout.unwrap_or(5000)),
    };
    spec.validate().map_err(|e| usage(e.to_string()))?;
    let method: hyper::Method = args
        .method
        .parse()
        .map_err(|_| usage(format!("--method {}: not an HTTP method", args.method)))?;
    rt.block_on(async move {
        let mut req = RequestSpec::from_url(&url, method)
            .await
            .map_err(|e| usage(e.to_string()))?;
        for h in &args.headers {
            let Some((k, v)) = h.split_once(':') else {
                return Err(usage(format!("--header {h:?}: write it as `Name: value`")));
            };
            let (k, v) = (k.trim(), v.trim());
            if hyper::header::HeaderName::from_bytes(k.as_bytes()).is_err()
                || hyper::header::HeaderValue::from_str(v).is_err()
            {
                return Err(usage(format!("--header {h:?}: not a valid HTTP header")));
            }
            req.headers.push((k.to_string(), v.to_string()));
        }
        if let Some(b) = &args.body {
            req.body = bytes::Bytes::from(b.clone());
        }
        let machine = Machine::now();
        let total = ((spec.warmup + spec.duration).as_secs_f64() * spec.rate).round() as u64;
        let bar = Arc::new(Bar(LoadBar::new(total, args.json)));
        let stop = Arc::new(AtomicBool::new(false));
        let on_ctrl_c = stop.clone();
        let ctrl_c = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.store(true, Ordering::Relaxed);
            }
        });
        let source: Arc<dyn loadgen::Source> = Arc::new(req.clone());
        let result = loadgen::run(source, &spec, stop, bar.clone()).await;
        ctrl_c.abort();
        bar.0.finish();
        let result = result.map_err(|e| usage(e.to_string()))?;
        let mut machine = machine;
        machine.load_after = crate::bench::load_average();
        let report = UrlReport::new(&req, &url, &spec, &result, machine);
        if args.json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&report).expect("report serializes")
            );
        } else {
            out!("{}", report.render());
        }
        Ok(if result.counts.completed() == 0 {
            // Nothing answered: the measurement says nothing about the service.
            exit_code::INFRASTRUCTURE
        } else {
            exit_code::SUCCESS
        })
    })
}

async fn self_check(json: bool) -> Result<u8, Failure> {
    let infra = |e: loadgen::LoadError| Failure::new(Kind::Infrastructure, anyhow::anyhow!(e));
    if !json {
        eprintln!("measuring the load generator against its reference server (about 10 s)...");
    }
    let checks = vec![
        selfcheck::fixed_delay().await.map_err(infra)?,
        selfcheck::stall().await.map_err(infra)?,
    ];
    let machine = Machine::now();
    if json {
        let v = serde_json::json!({
            "format_version": crate::bench::FORMAT_VERSION,
            "checks": checks,
            "machine": machine,
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        for c in &checks {
            outln!(
                "{} {}: {} (generator {:.0} ms CPU per 1000 requests)",
                if c.passed { "ok  " } else { "FAIL" },
                c.name,
                c.detail,
                c.generator_cpu_ms_per_1000_requests
            );
        }
        outln!(
            "machine: {} core(s), {} MB, load {:.2}",
            machine.cores,
            machine.memory_mb.unwrap_or(0),
            machine.load_before.unwrap_or(0.0)
        );
    }
    Ok(if checks.iter().all(|c| c.passed) {
        exit_code::SUCCESS
    } else {
        exit_code::FAILED
    })
}

/// `drill bench SCENARIO`.
fn scenario_bench(ctx: &Context, args: BenchArgs) -> Result<u8, Failure> {
    let name = args.scenario.clone().expect("checked by the caller");
    let catalog = ctx.catalog()?;
    let Some(s) = catalog.scenarios.get(&name) else {
        let names: Vec<&str> = catalog.scenarios.keys().map(String::as_str).collect();
        return Err(Failure::usage(format!(
            "no scenario `{name}` in the catalog (scenarios: {})",
            names.join(", ")
        )));
    };
    let workload =
        Workload::load_for(&s.dir, &s.suite).map_err(|e| Failure::new(Kind::Catalog, e))?;
    let options = options(&args, &workload)?;
    for spec in s.languages.values() {
        crate::toolchain::require(
            spec.toolchain,
            &spec.min_version,
            &format!("scenario `{}` ({})", s.name, spec.lang),
        )
        .map_err(|e| Failure::new(Kind::Toolchain, e))?;
    }
    let results = ctx.results_dir(&args.results)?;
    results
        .check_writable()
        .map_err(|e| Failure::new(Kind::Records, e))?;
    let quiet = args.json || args.markdown || args.csv;
    let progress = Progress::new(quiet);
    let cache = Cache::from_env();
    let started_at = ctx.now();
    let mut machine = Machine::now();
    let (rt, mut interrupts) = super::interruptible()?;
    let stop = Stop::default();
    let mut measured = Measured::default();
    let input = scenario::Inputs {
        scenario: s,
        workload: &workload,
        options: &options,
        cache: &cache,
        progress: &progress,
        stop: &stop,
        builds: args.builds.then(|| {
            let mut o = crate::bench::build::BuildOpts::default();
            if let Some(n) = args.build_runs {
                o.runs = n;
                o.clean_runs = n.min(o.clean_runs);
            }
            o
        }),
    };
    // Ctrl-C or SIGTERM asks the run to stop: the load in progress ends
    // early, every process started is stopped, and what was measured is kept.
    let sweep = if args.sweep {
        Some(sweep_plan(&args, &workload, &options)?)
    } else {
        None
    };
    let (outcome, signal) = rt.block_on(async {
        let run = async {
            match sweep.clone() {
                Some((plan, judge)) => scenario::sweep(&input, plan, judge, &mut measured).await,
                None => scenario::run(&input, &mut measured).await,
            }
        };
        tokio::pin!(run);
        let mut signal = None;
        let outcome = loop {
            tokio::select! {
                r = &mut run => break r,
                i = interrupts.recv(), if signal.is_none() => {
                    signal = Some(i);
                    stop.request();
                }
            }
        };
        (outcome, signal)
    });
    progress.finish();
    machine.load_after = crate::bench::load_average();
    for l in &measured.languages {
        machine
            .toolchains
            .insert(l.lang.clone(), l.toolchain.clone());
    }
    if let Err(e) = &outcome {
        if measured.runs.is_empty() && measured.startups.is_empty() {
            let kind = match e {
                scenario::BenchError::Build { .. } => Kind::Infrastructure,
                scenario::BenchError::Scratch(_) => Kind::Environment,
                _ => Kind::Infrastructure,
            };
            return Err(Failure::new(kind, anyhow::anyhow!("{e}")));
        }
        eprintln!("drill bench stopped: {e}; keeping what was measured");
    }
    let langs: Vec<String> = measured.languages.iter().map(|l| l.lang.clone()).collect();
    // A sweep's steps are one run per language and rate, not rounds to
    // compare: its table is the sweep's own.
    let summary = if measured.sweep.is_some() {
        Vec::new()
    } else {
        scenario::summarize(
            &langs,
            &measured.runs,
            &measured.startups,
            &options.rates,
            &workload.limits,
            options.seed,
        )
    };
    let id = format!(
        "{}-{}-{:04x}",
        s.name,
        started_at.compact(),
        std::process::id() & 0xffff
    );
    let result = BenchResult {
        format_version: scenario::RESULT_FORMAT_VERSION,
        id: id.clone(),
        scenario: s.name.clone(),
        catalog_revision: catalog.revision(),
        started_at: started_at.to_string(),
        finished_at: ctx.now().to_string(),
        options,
        workload: scenario::WorkloadInfo::of(&workload),
        languages: measured.languages,
        startups: measured.startups,
        runs: measured.runs,
        summary,
        build: measured.build,
        sweep: measured.sweep,
        machine,
        interrupted: signal.is_some() || outcome.is_err(),
    };
    let mut bytes = serde_json::to_vec_pretty(&result).expect("a bench result serializes");
    bytes.push(b'\n');
    let saved = results
        .save_bench(&id, &bytes)
        .map_err(|e| Failure::new(Kind::Records, e))?;
    if args.json {
        outln!("{}", String::from_utf8_lossy(&bytes).trim_end());
    } else if args.markdown {
        out!("{}", table::markdown(&result));
    } else if args.csv {
        out!("{}", table::csv(&result));
    } else {
        out!("{}", table::terminal(&result));
    }
    eprintln!("saved {}", saved.display());
    if let Some(i) = signal {
        eprintln!(
            "Interrupted ({}): every process drill bench started was stopped; the result above covers what was measured.",
            i.name()
        );
        return Ok(i.exit_code());
    }
    Ok(match outcome {
        Ok(()) => exit_code::SUCCESS,
        Err(_) => exit_code::INFRASTRUCTURE,
    })
}

/// The run's options: the workload's, overridden by the command line.
fn options(args: &BenchArgs, w: &Workload) -> Result<Options, Failure> {
    let usage = |m: String| Failure::usage(m);
    let mut o = Options {
        rounds: args.rounds,
        rates: w.rates.clone(),
        warmup_s: w.warmup.as_secs_f64(),
        duration_s: w.duration.as_secs_f64(),
        connections: w.connections,
        timeout_ms: w.timeout.as_millis() as u64,
        startup_runs: w.startup_runs,
        seed: args.seed,
        duration_label: "default".into(),
    };
    match args.duration.as_deref() {
        None | Some("default") => {}
        Some("short") => {
            o.warmup_s = SHORT_WARMUP_S;
            o.duration_s = SHORT_DURATION_S;
            o.startup_runs = 1;
            o.duration_label = "short".into();
        }
        Some(d) => {
            let v: f64 = d.parse().map_err(|_| {
                usage(format!(
                    "--duration {d}: give seconds, `short` or `default`"
                ))
            })?;
            if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
                return Err(usage(format!(
                    "--duration {d}: give seconds between 0 and 86400"
                )));
            }
            o.duration_s = v;
            o.duration_label = format!("{v} s");
        }
    }
    if let Some(v) = args.warmup {
        if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
            return Err(usage(format!(
                "--warmup {v}: give seconds between 0 and 86400"
            )));
        }
        o.warmup_s = v;
    }
    if let Some(r) = args.rate {
        o.rates = vec![r];
    }
    if let Some(c) = args.connections {
        o.connections = c;
    }
    if let Some(t) = args.timeout {
        o.timeout_ms = t;
    }
    for &rate in &o.rates {
        o.load_at(rate)
            .validate()
            .map_err(|e| usage(e.to_string()))?;
    }
    Ok(o)
}

/// The sweep's steps and what it judges them on (the workload's limits).
fn sweep_plan(
    args: &BenchArgs,
    w: &Workload,
    o: &Options,
) -> Result<(sweep::Plan, sweep::Judge), Failure> {
    let lowest = o.rates.iter().copied().fold(f64::INFINITY, f64::min);
    let start = args.sweep_from.unwrap_or(lowest);
    let max = args.sweep_max.unwrap_or(start * 10.0);
    if !(start.is_finite() && start >= 1.0) {
        return Err(Failure::usage("--sweep-from must be a rate >= 1"));
    }
    if !(args.sweep_factor.is_finite() && args.sweep_factor > 1.0) {
        return Err(Failure::usage("--sweep-factor must be a number > 1"));
    }
    if !(max.is_finite() && max >= start) {
        return Err(Failure::usage(format!(
            "--sweep-max must be at least the first rate ({start})"
        )));
    }
    for rate in [start, max] {
        o.load_at(rate)
            .validate()
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    let l = &w.limits;
    let (percentile, latency_ms, from) = match (l.p99_ms, l.p95_ms) {
        (Some(ms), _) => ("p99", ms, "limits.p99_ms"),
        (None, Some(ms)) => ("p95", ms, "limits.p95_ms (no p99_ms set)"),
        (None, None) => {
            return Err(Failure::usage(format!(
                "{}: --sweep needs a latency limit to break: set limits.p99_ms (or p95_ms)",
                w.path.display()
            )))
        }
    };
    let (error_rate, error_from) = match l.error_rate {
        Some(e) => (e, "limits.error_rate"),
        None => (sweep::DEFAULT_ERROR_RATE, "the default 1%"),
    };
    Ok((
        sweep::Plan {
            start,
            factor: args.sweep_factor,
            max,
            refine: args.sweep_refine,
        },
        sweep::Judge {
            percentile: percentile.into(),
            latency_ms,
            error_rate,
            source: format!("bench.toml {from}; errors: {error_from}"),
            min_achieved: sweep::MIN_ACHIEVED,
        },
    ))
}

/// `--duration short`: enough to see the service work, not to compare.
const SHORT_WARMUP_S: f64 = 1.0;
const SHORT_DURATION_S: f64 = 3.0;
