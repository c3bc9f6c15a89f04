//! `do = "fake_calls"`: what a fake received: calls (exact, at least, at
//! most), effects, effects per key; optionally polled until it holds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{StepCx, StepFuture, StepKind, Vars};
use crate::harness::env::{clip, Env};
use crate::harness::fake::CallRecord;
use crate::harness::validate::is_pointer;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FakeCallsStep {
    pub fake: String,
    pub method: Option<String>,
    pub path: Option<String>,
    pub expect_calls: Option<u64>,
    pub expect_effects: Option<u64>,
    pub max_effects_per_key: Option<u64>,
    pub key_json: Option<String>,
    pub expect_min_calls: Option<u64>,
    /// No more calls than this (checked when the step runs; with `within_ms`, on every poll).
    pub expect_max_calls: Option<u64>,
    /// Poll until the expectations hold (asynchronous work), up to this long.
    pub within_ms: Option<u64>,
    /// Every selected call carried each of these headers exactly once, with
    /// this value (names compared without regard to case).
    #[serde(default)]
    pub expect_header: BTreeMap<String, String>,
}

impl StepKind for FakeCallsStep {
    fn validate(&self, cx: &mut StepCx<'_>) {
        let f = self;
        let Some(fake) = cx.fakes.get(&f.fake) else {
            cx.problem(format!(
                "field `fake`: no fake named {:?} is declared",
                f.fake
            ));
            return;
        };
        let has_key = fake.idempotency_header.is_some();
        if f.expect_calls.is_none()
            && f.expect_effects.is_none()
            && f.max_effects_per_key.is_none()
            && f.expect_min_calls.is_none()
            && f.expect_max_calls.is_none()
            && f.expect_header.is_empty()
        {
            cx.problem(
                "expects nothing: add `expect_calls`, `expect_min_calls`, `expect_max_calls`, `expect_effects`, `max_effects_per_key` or `expect_header`",
            );
        }
        cx.within_check_limit(f.within_ms, "within_ms");
        if f.max_effects_per_key.is_some() && f.key_json.is_none() && !has_key {
            cx.problem(
                "field `max_effects_per_key` needs `key_json` (the fake has no idempotency_header)",
            );
        }
        if let Some(ptr) = &f.key_json {
            if !is_pointer(ptr) {
                cx.problem(format!("field `key_json`: {ptr:?} is not a JSON pointer"));
            }
        }
    }

    fn describe(&self, _vars: &Vars) -> String {
        let filter: Vec<&str> = [self.method.as_deref(), self.path.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if filter.is_empty() {
            format!("fake_calls {}", self.fake)
        } else {
            format!("fake_calls {} {}", self.fake, filter.join(" "))
        }
    }

    fn run<'a>(&'a self, env: &'a mut Env, _vars: &'a mut Vars) -> StepFuture<'a> {
        Box::pin(run(self, env))
    }
}

async fn run(f: &FakeCallsStep, env: &Env) -> Result<(), String> {
    let deadline = f
        .within_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    loop {
        let calls = env
            .fake_calls(&f.fake)
            .ok_or_else(|| format!("no fake named {:?}", f.fake))?;
        match judge_calls(&calls, f) {
            Ok(()) => return Ok(()),
            // Polling is fine: the records are in memory and the wait is short.
            Err(why) => match deadline {
                Some(d) if Instant::now() < d => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Some(_) => return Err(format!("{why} after {} ms", f.within_ms.unwrap_or(0))),
                None => return Err(why),
            },
        }
    }
}

fn judge_calls(calls: &[CallRecord], f: &FakeCallsStep) -> Result<(), String> {
    let calls: Vec<&CallRecord> = calls
        .iter()
        .filter(|c| f.method.as_ref().is_none_or(|m| &c.method == m))
        .filter(|c| {
            f.path
                .as_ref()
                .is_none_or(|p| c.path.split('?').next() == Some(p.as_str()))
        })
        .collect();
    let key_of = |c: &CallRecord| -> String {
        let key = match &f.key_json {
            Some(ptr) => serde_json::from_str::<serde_json::Value>(&c.body)
                .ok()
                .and_then(|j| j.pointer(ptr).cloned())
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                }),
            None => c.key.clone(),
        };
        key.unwrap_or_else(|| "(no key)".to_string())
    };
    let mut by_key: BTreeMap<String, u64> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.effect.is_some()) {
        *by_key.entry(key_of(c)).or_default() += 1;
    }
    let effects: u64 = by_key.values().sum();
    let keys_note = || {
        let mut list: Vec<String> = by_key
            .iter()
            .take(5)
            .map(|(k, n)| format!("{}×{n}", clip(k, 40)))
            .collect();
        if by_key.len() > 5 {
            list.push(format!("… {} more", by_key.len() - 5));
        }
        if list.is_empty() {
            String::new()
        } else {
            format!(" (keys: {})", list.join(", "))
        }
    };
    let got = calls.len() as u64;
    let calls_note = || {
        let faulted = calls.iter().filter(|c| c.fault.is_some()).count();
        format!("({faulted} faulted, {effects} with an effect)")
    };

    if let Some(want) = f.expect_calls {
        if got != want {
            return Err(format!(
                "expected {}, got {got} {}",
                plural(want, "call"),
                calls_note()
            ));
        }
    }
    if let Some(want) = f.expect_min_calls {
        if got < want {
            return Err(format!(
                "expected at least {}, got {got} {}",
                plural(want, "call"),
                calls_note()
            ));
        }
    }
    if let Some(max) = f.expect_max_calls {
        if got > max {
            return Err(format!(
                "expected at most {}, got {got} {}",
                plural(max, "call"),
                calls_note()
            ));
        }
    }
    if let Some(want) = f.expect_effects {
        if effects != want {
            return Err(format!(
                "expected {}, got {effects}{}",
                plural(want, "effect"),
                keys_note()
            ));
        }
    }
    for (name, want) in &f.expect_header {
        for c in &calls {
            let values: Vec<&str> = c
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect();
            if values != [want.as_str()] {
                return Err(format!(
                    "call {} carried {name}: {:?}, expected exactly {want:?}",
                    c.index,
                    values.iter().map(|v| clip(v, 40)).collect::<Vec<_>>()
                ));
            }
        }
    }
    if let Some(max) = f.max_effects_per_key {
        let over: Vec<String> = by_key
            .iter()
            .filter(|(_, n)| **n > max)
            .take(3)
            .map(|(k, n)| format!("{}×{n}", clip(k, 40)))
            .collect();
        if !over.is_empty() {
            return Err(format!(
                "expected at most {} per key, got {}",
                plural(max, "effect"),
                over.join(", ")
            ));
        }
    }
    Ok(())
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(index: u64, path: &str, body: &str, effect: Option<u64>) -> CallRecord {
        CallRecord {
            index,
            method: "POST".into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.into(),
            key: None,
            fault: None,
            effect,
            replayed: false,
            status: Some(200),
            at_ms: 0,
        }
    }

    fn step(fields: &str) -> FakeCallsStep {
        toml::from_str(&format!("fake = \"provider\"\n{fields}")).unwrap()
    }

    #[test]
    fn effects_per_key_come_from_the_body_pointer_and_name_the_key_over_the_limit() {
        let calls = [
            call(1, "/v1/send?x=1", r#"{"ref":"a"}"#, Some(1)),
            call(2, "/v1/send", r#"{"ref":"a"}"#, Some(2)),
            call(3, "/v1/send", r#"{"ref":"b"}"#, Some(3)),
            call(4, "/other", r#"{"ref":"c"}"#, Some(4)),
        ];
        let f = step("path = \"/v1/send\"\nkey_json = \"/ref\"\nmax_effects_per_key = 1");
        assert_eq!(
            judge_calls(&calls, &f).unwrap_err(),
            "expected at most 1 effect per key, got a×2"
        );
        let f = step("path = \"/v1/send\"\nexpect_calls = 2");
        assert_eq!(
            judge_calls(&calls, &f).unwrap_err(),
            "expected 2 calls, got 3 (0 faulted, 3 with an effect)"
        );
        let f = step("expect_effects = 4\nexpect_max_calls = 4");
        assert_eq!(judge_calls(&calls, &f), Ok(()));
    }

    #[test]
    fn expect_header_wants_the_value_exactly_once_on_every_selected_call() {
        let mut one = call(1, "/api", "", Some(1));
        one.headers = vec![("x-auth-subject".into(), "alice".into())];
        let mut two = call(2, "/api", "", Some(2));
        two.headers = vec![
            ("X-Auth-Subject".into(), "mallory".into()),
            ("X-Auth-Subject".into(), "alice".into()),
        ];
        let f = step("expect_header = { \"X-Auth-Subject\" = \"alice\" }");
        assert_eq!(judge_calls(std::slice::from_ref(&one), &f), Ok(()));
        assert_eq!(
            judge_calls(&[one, two], &f).unwrap_err(),
            "call 2 carried X-Auth-Subject: [\"mallory\", \"alice\"], expected exactly \"alice\""
        );
    }
}
