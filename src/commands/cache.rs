//! `lambda-batch cache stats|prune`: the cache named as `run` names it (`--cache`,
//! LAMBDA_BATCH_CACHE, the manifest's `cache` node), looked into or pruned by `upkeep`.

use std::time::SystemTime;

use super::Error;
use crate::cache::{CacheLocation, CacheMode};
use crate::cli::{CacheArgs, CacheCommand, Format, PruneArgs};
use crate::exit_code::ExitCode;
use crate::upkeep;

/// Runs `cache stats` or `cache prune`.
pub fn cache(command: &CacheCommand) -> Result<ExitCode, Error> {
    match command {
        CacheCommand::Stats(args) => stats(args),
        CacheCommand::Prune(args) => prune(args),
    }
}

/// The cache `args` name: `--cache` (or LAMBDA_BATCH_CACHE), else the manifest's node; the
/// manifest is read only in the second case.
fn location(args: &CacheArgs, mode: CacheMode) -> Result<CacheLocation, Error> {
    let flag = args.cache.as_deref().filter(|f| !f.is_empty());
    let manifest = match flag {
        Some(_) => None,
        None => {
            let path = super::locate(args.manifest.as_deref()).map_err(|e| match e {
                Error::Manifest { .. } if args.manifest.is_none() => no_cache(),
                e => e,
            })?;
            let text = crate::manifest::limits::read(&path).map_err(Error::manifest)?;
            let manifest = crate::manifest::parse(&path, &text)
                .map_err(|errors| Error::manifest_at(errors, &path, args.format == Format::Json))?;
            manifest.cache.map(|c| c.value)
        }
    };
    match super::cache_settings(flag, manifest.as_ref(), mode, false)? {
        Some(settings) => Ok(settings.location),
        None => Err(no_cache()),
    }
}

fn no_cache() -> Error {
    Error::usage(
        "no cache is named",
        "give `--cache URL`, set LAMBDA_BATCH_CACHE, or add `cache \"URL\"` to lambda.kdl",
    )
}

/// `cache stats`.
fn stats(args: &CacheArgs) -> Result<ExitCode, Error> {
    let location = location(args, CacheMode::Read)?;
    let CacheLocation::Directory { path } = &location else {
        return Err(Error::usage(
            format!("`cache stats` reads a directory cache; {location} is in S3"),
            "for S3, `aws s3 ls s3://BUCKET/PREFIX/v2/ --recursive --summarize` counts the objects and bytes, and S3 Storage Lens or the bucket's metrics show use over time",
        ));
    };
    let inventory = if path.exists() {
        crate::cache::inventory(path).map_err(|why| cache_error(&location, why))?
    } else {
        crate::cache::Inventory::default()
    };
    let (runs, bad) = crate::cache::last_runs(path, upkeep::RUNS_SHOWN);
    let stats = upkeep::stats(&location.to_string(), &inventory, runs, bad);
    match args.format {
        Format::Text => super::print(&upkeep::stats_text(&stats))?,
        Format::Json => super::print(&json(&stats))?,
    }
    Ok(ExitCode::OK)
}

/// `cache prune`.
fn prune(args: &PruneArgs) -> Result<ExitCode, Error> {
    // Nothing modified after this is removed (see `upkeep::SETTLE`).
    let started = SystemTime::now() - upkeep::SETTLE;
    let location = location(&args.cache, CacheMode::Read)?;
    let limits = upkeep::Limits {
        max_size: args.max_size,
        older_than: args.older_than,
    };
    let path = match &location {
        CacheLocation::Directory { path } => path,
        CacheLocation::S3 { bucket, prefix } => return s3_rule(&location, bucket, prefix, args),
    };
    if !path.exists() {
        return Err(cache_error(&location, format!("`{path}` does not exist")));
    }
    let inventory = crate::cache::inventory(path).map_err(|why| cache_error(&location, why))?;
    let selection = upkeep::select(&inventory, limits, started);
    let pruned = upkeep::execute(
        &location.to_string(),
        path,
        &selection,
        limits,
        started,
        args.dry_run,
    )
    .map_err(|why| cache_error(&location, why))?;
    match args.cache.format {
        Format::Text => super::print(&upkeep::prune_text(&pruned))?,
        Format::Json => super::print(&json(&pruned))?,
    }
    Ok(ExitCode::OK)
}

/// An S3 cache is not pruned by lambda-batch: the lifecycle rule to set instead goes to
/// standard output (for `file://`), why to standard error, and the command exits 2 so that a
/// script that meant to prune does not take it for done.
fn s3_rule(
    location: &CacheLocation,
    bucket: &str,
    prefix: &str,
    args: &PruneArgs,
) -> Result<ExitCode, Error> {
    let days = args.older_than.map_or(upkeep::DEFAULT_DAYS, upkeep::days);
    super::print(&json(&upkeep::rule(prefix, days)))?;
    let size = if args.max_size.is_some() {
        format!(
            " S3 expires objects by age, not by size: the rule above expires them after {days} days{}.",
            if args.older_than.is_none() {
                " (give --older-than to choose)"
            } else {
                ""
            }
        )
    } else {
        String::new()
    };
    Err(Error::usage(
        format!(
            "`cache prune` does not prune an S3 cache ({location}): S3 keeps no time of last use, and listing every object to find the least recently used costs a request per 1000 objects and races with every run that stores.{size} Set the lifecycle rule printed above instead; S3 applies it for free"
        ),
        format!(
            "save the rule and apply it: `aws s3api put-bucket-lifecycle-configuration --bucket {bucket} --lifecycle-configuration file://lifecycle.json` (it replaces the bucket's other lifecycle rules: merge them in first)"
        ),
    ))
}

fn cache_error(location: &CacheLocation, why: String) -> Error {
    Error::CacheUpkeep(format!("{location}: {why}"))
}

fn json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("serializes");
    text.push('\n');
    text
}
