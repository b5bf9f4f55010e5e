//! A sweep's combined files: `sweep.csv` (every variant's `national.csv` rows) and
//! `sweep_summary.csv` (every variant's `summary.csv` rows), each row keyed by the variant's
//! name and one column per swept key; the sweep's `manifest.json`; and the copying of a shard's
//! variant folders into a merged sweep. The combined CSVs are built from the variant folders
//! already written, by the same code whether one process ran the sweep or `merge` joined its
//! shards, so both write the same bytes.

use super::Staged;
use crate::error::InputError;
use crate::sweep::{SweepManifest, VariantRecord};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Every variant's England rows (`national.csv`).
pub const SWEEP_CSV: &str = "sweep.csv";
/// Every variant's council rows at the override end (`summary.csv`).
pub const SWEEP_SUMMARY_CSV: &str = "sweep_summary.csv";

/// The variant files each combined CSV gathers.
const COMBINED: [(&str, &str); 2] = [
    (SWEEP_CSV, "national.csv"),
    (SWEEP_SUMMARY_CSV, "summary.csv"),
];

/// Writes the sweep's own files into `dir` (already locked by `staged`), whose variant folders
/// are written: the combined CSVs (not for a shard) and the manifest.
pub fn write_sweep(mut staged: Staged, dir: &Path, manifest: &SweepManifest) -> Result<()> {
    if manifest.shard.is_none() {
        for (combined, file) in COMBINED {
            staged.file(combined, |w| write_combined(w, dir, manifest, file))?;
        }
    }
    staged.json("manifest.json", manifest)?;
    staged.commit()?;
    Ok(())
}

/// Writes `file` of every variant, in grid order, with the variant's name and values first.
fn write_combined(
    w: &mut dyn Write,
    dir: &Path,
    manifest: &SweepManifest,
    file: &str,
) -> Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let mut header: Option<csv::StringRecord> = None;
    for variant in &manifest.variants {
        let path = dir.join(variant.folder()).join(file);
        let mut reader = csv::Reader::from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let columns = reader.headers()?.clone();
        match &header {
            None => {
                let keys = manifest.grid.iter().map(|a| a.key.as_str());
                let names = ["variant"].into_iter().chain(keys).chain(columns.iter());
                out.write_record(names)?;
                header = Some(columns);
            }
            Some(first) if *first != columns => anyhow::bail!(
                "{} has other columns than the first variant's {file}",
                path.display()
            ),
            Some(_) => {}
        }
        let key: Vec<&str> = [variant.name.as_str()]
            .into_iter()
            .chain(variant.settings.iter().map(|s| s.value.as_str()))
            .collect();
        for record in reader.records() {
            let record = record.with_context(|| format!("cannot read {}", path.display()))?;
            out.write_record(key.iter().copied().chain(record.iter()))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Copies a variant's folder from a shard's folder into the merged sweep's, checking that it
/// is the variant the manifest names and that every file its manifest lists is there.
pub fn copy_variant(shard: &Path, out: &Path, variant: &VariantRecord) -> Result<()> {
    let from = shard.join(variant.folder());
    let manifest_path = from.join("manifest.json");
    let incomplete = |what: String| {
        InputError::invalid(
            &from,
            format!("{what}: the shard did not finish this variant; run the shard again"),
        )
    };
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|_| incomplete("no manifest.json".into()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| incomplete(format!("manifest.json cannot be read ({e})")))?;
    if manifest.get("variant") != serde_json::to_value(variant).ok().as_ref() {
        return Err(InputError::invalid(
            &manifest_path,
            format!(
                "is not the manifest of variant {} of this sweep (its `variant` differs)",
                variant.name
            ),
        )
        .into());
    }
    let outputs: Vec<String> = manifest
        .get("outputs")
        .and_then(|o| serde_json::from_value(o.clone()).ok())
        .ok_or_else(|| incomplete("manifest.json lists no outputs".into()))?;
    let mut staged = Staged::new(&out.join(variant.folder()))?;
    for name in outputs.iter().map(String::as_str).chain(["manifest.json"]) {
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return Err(
                incomplete(format!("manifest.json lists `{name}`, not a file name")).into(),
            );
        }
        let path = from.join(name);
        let mut file =
            std::fs::File::open(&path).map_err(|_| incomplete(format!("{name} is missing")))?;
        staged.file(name, |w| {
            std::io::copy(&mut file, w)?;
            Ok(())
        })?;
    }
    staged.commit()?;
    Ok(())
}
