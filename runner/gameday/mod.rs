//! Game days (`drill gameday`, docs/gameday.md): a drill's bugged service
//! running under steady traffic, a seeded timeline of injects, an SLO and a
//! burn-rate alert, an on-call who acknowledges, deploys and resolves from
//! another terminal, and clocks derived from the recorded evidence.
//!
//! - `definition`: `gameday.toml` or its defaults, and the seeded schedule;
//! - `sli`: good requests per window, the burn-rate alert, "mitigated" (pure);
//! - `record`: the append-only game-day record and the clocks derived from it;
//! - `folder`: the game day's folder and the files the processes talk through;
//! - `live`: the facilitator's loop (service, traffic, injects, windows, deploys);
//! - `debrief`: the timeline, clocks, SLI and reference fix of one game day;
//! - `webhook`: alerts, clears and pager messages POSTed to a URL, off the loop;
//! - `stats`: the clocks of many game days as Kaplan–Meier distributions per language.

pub mod debrief;
pub mod definition;
pub mod folder;
pub mod live;
pub mod record;
pub mod sli;
pub mod stats;
pub mod webhook;
