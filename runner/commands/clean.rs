//! `drill clean`: what the kit's cache and scratch space hold, and freeing
//! what no open attempt needs (the inventory and the rules: `crate::clean`).

use clap::Args;

use super::Context;
use crate::builder::Cache;
use crate::error::Failure;
use crate::exit_code;

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Show what would be freed, free nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also free the shared build caches (compiled dependencies): the next
    /// start of each scenario builds them again, slowly.
    #[arg(long)]
    pub all: bool,
}

pub fn clean(_ctx: &Context, args: CleanArgs) -> Result<u8, Failure> {
    let report = crate::clean::clean(&Cache::from_env(), args.dry_run, args.all);
    out!("{}", crate::clean::render(&report));
    Ok(exit_code::SUCCESS)
}
