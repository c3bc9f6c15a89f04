//! A scenario bench side by side: one row per figure, each language's median
//! with its spread across rounds, the Rust/Go ratio with its interval, and
//! each limit marked met or missed. Rendered for a terminal (through the
//! console's table), as Markdown, or as CSV (one line per figure × language).

use super::scenario::{BenchResult, FigureSummary, RateSummary, STARTUP_FIGURE};

/// What a person reads for a figure name.
pub fn label(name: &str) -> String {
    let pct = |p: &str| match p {
        "p999" => "p99.9".to_string(),
        other => other.to_string(),
    };
    if let Some(rest) = name.strip_prefix("latency_") {
        let parts: Vec<&str> = rest.split('_').collect();
        if let [kind, p, "ms"] = parts.as_slice() {
            return format!("latency {} {kind} (ms)", pct(p));
        }
    }
    match name {
        STARTUP_FIGURE => "startup to first answer (ms)".into(),
        "error_rate" => "error rate (%)".into(),
        "achieved_rate" => "achieved rate (req/s)".into(),
        "rss_mean_mb" => "RSS mean (MB)".into(),
        "rss_peak_mb" => "RSS peak, sampled (MB)".into(),
        "maxrss_wait4_mb" => "RSS peak, wait4 (MB, see note)".into(),
        "cpu_ms_per_1000_requests" => "CPU per 1000 requests (ms)".into(),
        "threads_max" => "threads (max)".into(),
        "fds_max" => "open fds (max)".into(),
        other => other.to_string(),
    }
}

/// Error rates are shown in percent; everything else as measured.
fn scale(name: &str) -> f64 {
    if name == "error_rate" {
        100.0
    } else {
        1.0
    }
}

pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A rate, an input or a limit as written: `80`, `3.25`, `0.04`.
pub fn plain(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn cell(f: &FigureSummary, lang: &str) -> String {
    let Some(s) = f.by_lang.get(lang) else {
        return "-".into();
    };
    let k = scale(&f.name);
    let mut c = num(s.median * k);
    if s.n > 1 {
        c.push_str(&format!(" ({}–{})", num(s.min * k), num(s.max * k)));
    }
    if let Some(cv) = s.cv {
        c.push_str(&format!(" ±{:.1}%", cv * 100.0));
    }
    if s.noisy {
        c.push_str(" noisy");
    }
    c
}

fn ratio_cell(f: &FigureSummary) -> String {
    match &f.ratio {
        None => "-".into(),
        Some(r) => match (r.lo, r.hi) {
            (Some(lo), Some(hi)) => format!("{:.2} [{:.2}, {:.2}]", r.ratio, lo, hi),
            _ => format!("{:.2}", r.ratio),
        },
    }
}

fn limit_cells(f: &FigureSummary, langs: &[String]) -> (String, Vec<String>) {
    match &f.limit {
        None => (String::new(), langs.iter().map(|_| String::new()).collect()),
        Some(l) => (
            format!("≤ {}", num(l.max * scale(&f.name))),
            langs
                .iter()
                .map(|lang| match l.met.get(lang) {
                    Some(true) => "met".into(),
                    Some(false) => "MISSED".into(),
                    None => "-".into(),
                })
                .collect(),
        ),
    }
}

/// Header and rows of one rate's table.
pub fn rows(r: &BenchResult, s: &RateSummary) -> Vec<Vec<String>> {
    let langs = langs(r);
    let mut head = vec![format!("at {} req/s", num(s.rate))];
    head.extend(langs.iter().cloned());
    head.push(ratio_header(&langs));
    head.push("limit".into());
    head.extend(langs.iter().map(|l| format!("{l} limit")));
    let mut out = vec![head];
    for f in &s.figures {
        let mut row = vec![label(&f.name)];
        row.extend(langs.iter().map(|l| cell(f, l)));
        row.push(ratio_cell(f));
        let (limit, marks) = limit_cells(f, &langs);
        row.push(limit);
        row.extend(marks);
        out.push(row);
    }
    out
}

fn langs(r: &BenchResult) -> Vec<String> {
    r.languages.iter().map(|l| l.lang.clone()).collect()
}

fn ratio_header(langs: &[String]) -> String {
    match langs {
        [a, b] => format!("{b}/{a} [95% CI]"),
        _ => "ratio".into(),
    }
}

/// The lines above the tables: what ran, on what.
pub fn preamble(r: &BenchResult) -> Vec<String> {
    let o = &r.options;
    let m = &r.machine;
    let first = match &r.sweep {
        Some(sw) => format!(
            "drill bench {} --sweep: from {} req/s, × {} per step up to {}, {} refinement(s), languages in turns; each step {} s measured after {} s warm-up, {} connection(s); a step holds with corrected {} ≤ {} ms, errors ≤ {}% and {}% of its rate achieved ({})",
            r.scenario,
            plain(sw.plan.start),
            plain(sw.plan.factor),
            plain(sw.plan.max),
            sw.plan.refine,
            plain(o.duration_s),
            plain(o.warmup_s),
            o.connections,
            sw.judge.percentile,
            plain(sw.judge.latency_ms),
            plain(sw.judge.error_rate * 100.0),
            plain(sw.judge.min_achieved * 100.0),
            sw.judge.source
        ),
        None => format!(
            "drill bench {}: {} round(s) (languages interleaved), {} s measured after {} s warm-up, {} connection(s), durations {}",
            r.scenario,
            o.rounds,
            num(o.duration_s),
            num(o.warmup_s),
            o.connections,
            o.duration_label
        ),
    };
    let mut lines = vec![
        first,
        format!(
            "machine: {} core(s), {} MB, {} {}, load {} before, {} after",
            m.cores,
            m.memory_mb
                .map(|v| v.to_string())
                .unwrap_or_else(|| "?".into()),
            m.os,
            m.kernel.clone().unwrap_or_default(),
            m.load_before.map(num).unwrap_or_else(|| "?".into()),
            m.load_after.map(num).unwrap_or_else(|| "?".into()),
        ),
    ];
    for l in &r.languages {
        lines.push(format!(
            "{}: {}, built in {} s (`{}`), binary {:.1} MB",
            l.lang,
            l.toolchain,
            num(l.build_s),
            l.build_command.join(" "),
            l.binary_bytes as f64 / 1e6
        ));
    }
    lines
}

/// Notes a reader must see: 4xx shares, noisy figures, an interruption.
pub fn notes(r: &BenchResult) -> Vec<String> {
    let mut notes = Vec::new();
    for l in &r.languages {
        let (mut answered, mut c4) = (0u64, 0u64);
        for run in r.runs.iter().filter(|x| x.lang == l.lang) {
            answered += run.counts.completed();
            c4 += run.counts.status_4xx;
        }
        if answered > 0 && c4 > 0 {
            notes.push(format!(
                "{}: {:.1}% of answers were 4xx (counted apart from errors; see per_kind in --json)",
                l.lang,
                c4 as f64 * 100.0 / answered as f64
            ));
        }
    }
    let noisy: usize = r
        .summary
        .iter()
        .flat_map(|s| &s.figures)
        .map(|f| f.by_lang.values().filter(|s| s.noisy).count())
        .sum();
    if noisy > 0 {
        notes.push(format!(
            "{noisy} figure(s) vary by more than 5% across rounds (noisy): read their ratios with care"
        ));
    }
    if r.runs.iter().any(|x| x.resources.maxrss_mb.is_some()) {
        notes.push(
            "RSS peak, wait4: the kernel folds the RSS of the forked copy of drill (before exec) into ru_maxrss, \
             so it is at least drill's own RSS; the sampled peak is the service's"
                .into(),
        );
    }
    if r.options.rounds < 2 && r.sweep.is_none() {
        notes.push("one round: no spread and no interval (use --rounds 5 or more)".into());
    }
    if r.interrupted {
        notes.push("interrupted: the figures cover what was measured before the stop".into());
    }
    notes
}

/// A sweep's steps (`--sweep`), one row per language and rate in the order
/// run, then the highest rate each language held.
pub fn sweep_rows(r: &BenchResult) -> Option<Vec<Vec<String>>> {
    let sw = r.sweep.as_ref()?;
    let mut out = vec![vec![
        "language".to_string(),
        "rate (req/s)".into(),
        format!("{} corrected (ms)", sw.judge.percentile),
        "error rate (%)".into(),
        "achieved (req/s)".into(),
        "step".into(),
    ]];
    for l in &sw.langs {
        for st in &l.steps {
            out.push(vec![
                l.lang.clone(),
                plain(st.rate),
                num(st.point.latency_ms),
                num(st.point.error_rate * 100.0),
                num(st.point.achieved_rate),
                if st.held {
                    "held".into()
                } else {
                    format!("BROKE: {}", st.why)
                },
            ]);
        }
    }
    Some(out)
}

/// The sweep's outcome in words, per language.
pub fn sweep_lines(r: &BenchResult) -> Vec<String> {
    let Some(sw) = &r.sweep else {
        return Vec::new();
    };
    sw.langs
        .iter()
        .map(|l| match (l.sustained, l.broke_at) {
            (Some(s), Some(b)) => format!(
                "{}: sustains {} req/s within the limits; broke at {} req/s",
                l.lang,
                plain(s),
                plain(b)
            ),
            (Some(s), None) if l.done && s >= sw.plan.max => format!(
                "{}: sustains at least {} req/s (the highest rate tried)",
                l.lang,
                plain(s)
            ),
            (Some(s), None) => format!(
                "{}: sustains at least {} req/s (the sweep stopped before it broke)",
                l.lang,
                plain(s)
            ),
            (None, Some(b)) => format!(
                "{}: does not sustain even the first rate ({} req/s)",
                l.lang,
                plain(b)
            ),
            (None, None) => format!("{}: not measured", l.lang),
        })
        .collect()
}

/// The build and edit-test loop figures (`--builds`), if measured.
pub fn build_rows(r: &BenchResult) -> Option<Vec<Vec<String>>> {
    if r.build.is_empty() {
        return None;
    }
    let langs: Vec<&String> = r.build.keys().collect();
    let mut head = vec!["build and loop (wall s)".to_string()];
    head.extend(langs.iter().map(|l| l.to_string()));
    head.push(
        ratio_header(&langs.iter().map(|l| l.to_string()).collect::<Vec<_>>())
            .replace(" [95% CI]", ""),
    );
    let mut out = vec![head];
    fn series(f: &super::build::BuildFigures, i: usize) -> &super::build::Stats {
        match i {
            0 => &f.clean_build.wall_s,
            1 => &f.incremental_build.wall_s,
            _ => &f.tests.wall_s,
        }
    }
    for (i, name) in [
        "clean build",
        "incremental build (one-line change)",
        "visible tests",
    ]
    .iter()
    .enumerate()
    {
        let mut row = vec![name.to_string()];
        let mut medians = Vec::new();
        for l in &langs {
            let st = series(&r.build[*l], i);
            medians.push(st.median);
            row.push(format!(
                "{} ({}–{}, n={})",
                num(st.median),
                num(st.min),
                num(st.max),
                st.n
            ));
        }
        row.push(match medians.as_slice() {
            [a, b] if *a > 0.0 => format!("{:.2}", b / a),
            _ => "-".into(),
        });
        out.push(row);
    }
    let mut row = vec!["binary size (MB)".to_string()];
    let sizes: Vec<f64> = langs
        .iter()
        .map(|l| r.build[*l].binary_bytes as f64 / 1e6)
        .collect();
    row.extend(sizes.iter().map(|s| num(*s)));
    row.push(match sizes.as_slice() {
        [a, b] if *a > 0.0 => format!("{:.2}", b / a),
        _ => "-".into(),
    });
    out.push(row);
    Some(out)
}

pub fn terminal(r: &BenchResult) -> String {
    let mut out = preamble(r).join("\n");
    out.push_str("\n\n");
    if let Some(rows) = build_rows(r) {
        out.push_str(&crate::console::table(&rows));
        out.push('\n');
    }
    for s in &r.summary {
        out.push_str(&crate::console::table(&rows(r, s)));
        out.push('\n');
    }
    if let Some(rows) = sweep_rows(r) {
        out.push_str(&crate::console::table(&rows));
        out.push('\n');
    }
    for line in sweep_lines(r) {
        out.push_str(&format!("{line}\n"));
    }
    for n in notes(r) {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

pub fn markdown(r: &BenchResult) -> String {
    let esc = |c: &str| c.replace('|', "\\|");
    let mut out = String::new();
    for line in preamble(r) {
        out.push_str(&format!("{}  \n", esc(&line)));
    }
    out.push('\n');
    let tables: Vec<Vec<Vec<String>>> = build_rows(r)
        .into_iter()
        .chain(r.summary.iter().map(|s| rows(r, s)))
        .chain(sweep_rows(r))
        .collect();
    for rows in tables {
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|c| esc(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
            if i == 0 {
                out.push_str(&format!("|{}\n", "---|".repeat(row.len())));
            }
        }
        out.push('\n');
    }
    for n in sweep_lines(r).into_iter().chain(notes(r)) {
        out.push_str(&format!("- {}\n", esc(&n)));
    }
    out
}

/// One line per rate × figure × language, for spreadsheets.
pub fn csv(r: &BenchResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "scenario", "rate", "figure", "lang", "n", "median", "min", "max", "cv", "noisy", "ratio",
        "ratio_lo", "ratio_hi", "limit", "met",
    ]);
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for s in &r.summary {
        for f in &s.figures {
            for (lang, sp) in &f.by_lang {
                let _ = w.write_record([
                    r.scenario.clone(),
                    s.rate.to_string(),
                    f.name.clone(),
                    lang.clone(),
                    sp.n.to_string(),
                    sp.median.to_string(),
                    sp.min.to_string(),
                    sp.max.to_string(),
                    opt(sp.cv),
                    sp.noisy.to_string(),
                    opt(f.ratio.as_ref().map(|x| x.ratio)),
                    opt(f.ratio.as_ref().and_then(|x| x.lo)),
                    opt(f.ratio.as_ref().and_then(|x| x.hi)),
                    opt(f.limit.as_ref().map(|l| l.max)),
                    f.limit
                        .as_ref()
                        .and_then(|l| l.met.get(lang))
                        .map(|m| m.to_string())
                        .unwrap_or_default(),
                ]);
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
