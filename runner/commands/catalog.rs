//! `drill list` and `drill show`: what the catalog holds, without the answers.

use super::{Context, ResultsArgs};
use crate::blind::Withheld;
use crate::catalog::{Catalog, Drill};
use crate::console;
use crate::error::Failure;
use crate::exit_code;
use crate::results::ResultsDir;

/// The drills an open blind attempt in the results directory meant here
/// could be (runner/blind.rs): `list` and `show` withhold them.
fn withheld(ctx: &Context, catalog: &Catalog) -> (Withheld, Option<ResultsDir>) {
    let results = ctx
        .results_dirs(&ResultsArgs::default())
        .ok()
        .and_then(|mut dirs| dirs.pop());
    let withheld = Withheld::in_results(catalog, results.as_ref());
    (withheld, results)
}

pub fn list(ctx: &Context, json: bool) -> Result<u8, Failure> {
    let catalog = ctx.catalog()?;
    let (withheld, results) = withheld(ctx, catalog);
    let drills: Vec<&Drill> = catalog
        .drills
        .iter()
        .filter(|d| !withheld.contains(&d.id))
        .collect();
    if let (false, Some(results)) = (withheld.drills.is_empty(), &results) {
        eprintln!(
            "note: {} drill(s) not listed: {}",
            withheld.drills.len(),
            withheld.reason(results)
        );
    }
    for w in &catalog.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        let items: Vec<serde_json::Value> = drills
            .iter()
            .map(|d| {
                serde_json::json!({
                    "id": d.id,
                    "scenario": d.scenario,
                    "bug": d.bug,
                    "title": d.title,
                    "class": d.class,
                    "difficulty": d.difficulty,
                    "languages": d.languages,
                    // A one-language drill: the language whose idioms prevent the bug.
                    "prevented_in": d.prevented.as_ref().map(|p| &p.lang),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&items).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    let mut rows = vec![vec![
        "id".to_string(),
        "title".into(),
        "class".into(),
        "difficulty".into(),
        "languages".into(),
    ]];
    for d in &drills {
        rows.push(vec![
            d.id.clone(),
            d.title.clone(),
            d.class.clone(),
            format!("{}/5", d.difficulty),
            languages_text(d),
        ]);
    }
    out!("{}", console::table(&rows));
    outln!(
        "\n{} drill(s) in {} scenario(s) from {}",
        drills.len(),
        catalog.scenarios.len(),
        source(ctx, catalog)
    );
    Ok(exit_code::SUCCESS)
}

/// `go, rust`, or for a one-language drill `go (prevented in rust)`. The
/// note of what prevents it stays out: it names the cause.
fn languages_text(d: &crate::catalog::Drill) -> String {
    let mut text = d.languages.join(", ");
    if let Some(p) = &d.prevented {
        text.push_str(&format!(" (prevented in {})", p.lang));
    }
    text
}

/// Which catalog, and which revision of it: `list` says so.
fn source(ctx: &Context, catalog: &Catalog) -> String {
    let revision = match catalog.revision() {
        // A git commit: the first 12 digits name it (and `-dirty` stays).
        Some(r) if !r.starts_with("built-in-") && r.len() >= 40 => {
            format!("revision {}{}", &r[..12], &r[40..])
        }
        Some(r) => format!("revision {r}"),
        None => "revision unknown: not a git repository".to_string(),
    };
    if ctx.catalog_is_built_in() {
        format!(
            "the built-in catalog ({revision}; unpacked in {})",
            catalog.root.display()
        )
    } else {
        format!("{} ({revision})", catalog.root.display())
    }
}

pub fn show(ctx: &Context, id: &str, json: bool) -> Result<u8, Failure> {
    let catalog = ctx.catalog()?;
    let d = catalog.drill(id)?;
    let (withheld, results) = withheld(ctx, catalog);
    if let (true, Some(results)) = (withheld.contains(&d.id), &results) {
        return Err(Failure::usage(format!(
            "that drill is not shown now: {}",
            withheld.reason(results)
        )));
    }
    let scenario = catalog.scenario(&d.scenario);
    let class = crate::taxonomy::find(&d.class)
        .map(|c| c.name)
        .unwrap_or("");
    if json {
        let v = serde_json::json!({
            "id": d.id,
            "scenario": d.scenario,
            "scenario_title": scenario.title,
            "title": d.title,
            "class": d.class,
            "class_name": class,
            "difficulty": d.difficulty,
            "languages": d.languages,
            "prevented_in": d.prevented.as_ref().map(|p| &p.lang),
            "hints": d.hints.len(),
            "ticket": { "title": d.ticket.title, "body": d.ticket.body },
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
        return Ok(exit_code::SUCCESS);
    }
    outln!("{}  {}", d.id, d.title);
    outln!();
    outln!("scenario    {} ({})", scenario.title, d.scenario);
    outln!("class       {} ({class})", d.class);
    outln!("difficulty  {}/5", d.difficulty);
    outln!("languages   {}", languages_text(d));
    outln!("hints       {}", d.hints.len());
    outln!();
    outln!("# {}", d.ticket.title);
    outln!();
    outln!("{}", d.ticket.body.trim_end());
    Ok(exit_code::SUCCESS)
}
