//! What a run may write over. `--output` is never the source, a folder inside it or one that
//! holds it; report, metrics, history and lock files are never written into the source or the
//! output. A target that exists is classified by what it holds — nothing, an earlier output of
//! prepcost's (its manifest and exactly the files it lists), or files prepcost did not write —
//! and the last is refused unless `--overwrite`, which writes beside them and keeps them. A
//! commit removes only files a manifest names: no flag deletes data prepcost did not write.

use std::path::Path;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;

use super::manifest::{MANIFEST, Manifest};
use crate::error::{Error, Result, one_line};
use crate::storage::instrumented::RequestCounter;
use crate::storage::place::{Overlap, Place};
use crate::storage::{self, OutputLocation, StorageOptions};
use crate::util::redact;

/// What an output target holds before the run writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Nothing: no folder, an empty one, or no object under the prefix.
    Nothing,
    /// An earlier output of prepcost's: its manifest and the files it lists, nothing else.
    Ours(Manifest),
    /// Files prepcost did not write (names relative to the target), beside an earlier
    /// output of its own when there is one.
    Others {
        names: Vec<String>,
        ours: Option<Manifest>,
    },
}

impl Existing {
    /// Classifies the files at a target (name relative to it, size) given the manifest found
    /// there, if any.
    pub fn classify(files: Vec<(String, u64)>, manifest: Option<Manifest>) -> Existing {
        let mut others: Vec<String> = files
            .into_iter()
            .filter(|(name, bytes)| {
                let listed = manifest.as_ref().is_some_and(|m| m.lists(name, *bytes));
                !(listed || manifest.is_some() && name == MANIFEST)
            })
            .map(|(name, _)| name)
            .collect();
        others.sort();
        match (others.is_empty(), manifest) {
            (true, None) => Existing::Nothing,
            (true, Some(m)) => Existing::Ours(m),
            (false, ours) => Existing::Others {
                names: others,
                ours,
            },
        }
    }

    /// The earlier output of prepcost's at the target, whose files the commit replaces.
    pub fn ours(&self) -> Option<&Manifest> {
        match self {
            Existing::Ours(m) => Some(m),
            Existing::Others { ours, .. } => ours.as_ref(),
            Existing::Nothing => None,
        }
    }

    /// Refuses a target holding files prepcost did not write, unless `overwrite`; and with
    /// it, one whose files have a name prepcost writes, which it would replace.
    pub fn check(&self, overwrite: bool) -> Result<(), String> {
        let Existing::Others { names, .. } = self else {
            return Ok(());
        };
        let shown = match names.len() {
            1 => names[0].clone(),
            n => format!("{} and {} more", names[0], n - 1),
        };
        if !overwrite {
            return Err(format!(
                "holds files prepcost did not write ({shown}); write to a new or empty folder, \
                 or add --overwrite to write beside them (they are kept)"
            ));
        }
        match names.iter().find(|n| is_written_name(n)) {
            Some(clash) => Err(format!(
                "holds {clash}, which prepcost did not write and would replace; even with \
                 --overwrite it keeps files it did not write: move it or write elsewhere"
            )),
            None => Ok(()),
        }
    }
}

/// The names an output's files have: `part-NNNNN.parquet` and the manifest.
pub fn is_written_name(name: &str) -> bool {
    let part = name
        .strip_prefix("part-")
        .and_then(|rest| rest.strip_suffix(".parquet"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    part || name == MANIFEST
}

/// Refuses an output that is the source, lies inside it or holds it.
pub fn check_apart_from_source(source: &str, target: &str) -> Result<()> {
    let Some(overlap) = overlap(target, source) else {
        return Ok(());
    };
    let source = redact::redact(source);
    let message = match overlap {
        Overlap::Same => "is the source; prepcost never writes over its input".to_string(),
        Overlap::Inside => format!("is inside the source {source}; write the output elsewhere"),
        Overlap::Contains => format!(
            "holds the source {source}; replacing it would delete the source: write the \
             output elsewhere"
        ),
    };
    Err(refused("--output", target, message))
}

/// Refuses a file the run writes besides its output (`flag` names it: `--report`, …) when it
/// is the source, lies inside it, or lies inside the output.
pub fn check_side_file(
    flag: &'static str,
    path: &str,
    source: &str,
    output: Option<&str>,
) -> Result<()> {
    if let Some(overlap) = overlap(path, source) {
        let source = redact::redact(source);
        let message = match overlap {
            Overlap::Same => "is the source; prepcost never writes over its input".to_string(),
            _ => format!("is inside the source {source}; prepcost never writes into its input"),
        };
        return Err(refused(flag, path, message));
    }
    if let Some(output) = output
        && overlap(path, output).is_some()
    {
        let message = format!(
            "is inside the output {}, whose files are prepcost's dataset alone; write it elsewhere",
            redact::redact(output)
        );
        return Err(refused(flag, path, message));
    }
    Ok(())
}

/// Checks, before a run, that it may write its output to `target`: apart from the source, and
/// holding nothing prepcost did not write (or, with `overwrite`, nothing it would replace).
/// Requests to a remote target are counted in `requests`.
pub async fn check_target(
    (source, target): (&str, &str),
    overwrite: bool,
    options: &StorageOptions,
    requests: &Arc<RequestCounter>,
) -> Result<()> {
    check_apart_from_source(source, target)?;
    let existing = match storage::output_location(target, options, requests)? {
        Some(remote) => remote_existing(&remote).await,
        None => local_existing(Path::new(target.strip_prefix("file://").unwrap_or(target))),
    };
    let display = redact::redact(target).into_owned();
    existing
        .and_then(|e| e.check(overwrite))
        .map_err(|message| Error::Output {
            path: display,
            message,
        })
}

fn overlap(a: &str, b: &str) -> Option<Overlap> {
    Place::of(a)?.overlap(&Place::of(b)?)
}

fn refused(flag: &'static str, path: &str, message: String) -> Error {
    Error::Refused {
        flag,
        path: redact::redact(path).into_owned(),
        message,
    }
}

/// What the local folder `target` holds; an error when it exists and is not a folder.
pub fn local_existing(target: &Path) -> Result<Existing, String> {
    let metadata = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(e.to_string()),
    };
    if !std::fs::metadata(target).is_ok_and(|m| m.is_dir()) || metadata.is_symlink() {
        return Err("exists and is not a folder prepcost can write its files into".into());
    }
    let mut files = Vec::new();
    list_local(target, "", &mut files).map_err(|e| format!("listing it: {e}"))?;
    let manifest = std::fs::read(target.join(MANIFEST))
        .ok()
        .and_then(|bytes| Manifest::parse(&bytes));
    Ok(Existing::classify(files, manifest))
}

/// Every entry below `dir` (folders by their files, an empty folder or anything that is not
/// a plain file by itself, with size `u64::MAX` so that no manifest lists it).
fn list_local(dir: &Path, prefix: &str, out: &mut Vec<(String, u64)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type()?;
        if kind.is_file() {
            out.push((name, entry.metadata()?.len()));
        } else if kind.is_dir() {
            let before = out.len();
            list_local(&entry.path(), &format!("{name}/"), out)?;
            if out.len() == before {
                out.push((format!("{name}/"), u64::MAX));
            }
        } else {
            out.push((name, u64::MAX));
        }
    }
    Ok(())
}

/// What the object-store prefix of `output` holds.
pub async fn remote_existing(output: &OutputLocation) -> Result<Existing, String> {
    let listing: Vec<_> = output
        .store
        .list(Some(&output.path))
        .try_collect()
        .await
        .map_err(|e| format!("listing it: {}", one_line(&e.to_string())))?;
    let files: Vec<(String, u64)> = listing
        .iter()
        .filter_map(|meta| {
            let rest: Vec<_> = meta.location.prefix_match(&output.path)?.collect();
            let name = rest
                .iter()
                .map(|p| p.as_ref())
                .collect::<Vec<_>>()
                .join("/");
            Some((name, meta.size))
        })
        .collect();
    let manifest = if files.iter().any(|(name, _)| name == MANIFEST) {
        let path = output.path.clone().join(MANIFEST);
        let bytes = output
            .store
            .get(&path)
            .await
            .map_err(|e| format!("reading its {MANIFEST}: {}", one_line(&e.to_string())))?
            .bytes()
            .await
            .map_err(|e| format!("reading its {MANIFEST}: {}", one_line(&e.to_string())))?;
        Manifest::parse(&bytes)
    } else {
        None
    };
    Ok(Existing::classify(files, manifest))
}

#[cfg(test)]
mod tests {
    use super::super::manifest::ManifestFile;
    use super::*;

    fn manifest(files: &[(&str, u64)]) -> Manifest {
        Manifest {
            prepcost_version: "0".into(),
            run_id: "r".into(),
            source: "s".into(),
            rows: 1,
            files: files
                .iter()
                .map(|(n, b)| ManifestFile {
                    name: n.to_string(),
                    bytes: *b,
                })
                .collect(),
        }
    }

    fn files(names: &[(&str, u64)]) -> Vec<(String, u64)> {
        names.iter().map(|(n, b)| (n.to_string(), *b)).collect()
    }

    #[test]
    fn a_target_is_ours_only_when_its_manifest_lists_every_file_at_its_size() {
        assert_eq!(Existing::classify(vec![], None), Existing::Nothing);
        let m = manifest(&[("part-00000.parquet", 10)]);
        let ours = files(&[("part-00000.parquet", 10), (MANIFEST, 99)]);
        assert_eq!(
            Existing::classify(ours, Some(m.clone())),
            Existing::Ours(m.clone())
        );
        // A listed file whose size changed, or one more file, is someone else's.
        let changed = files(&[("part-00000.parquet", 11), (MANIFEST, 99)]);
        let Existing::Others { names, ours } = Existing::classify(changed, Some(m.clone())) else {
            panic!("a changed file is not ours");
        };
        assert_eq!(
            (names, ours),
            (vec!["part-00000.parquet".to_string()], Some(m))
        );
        // Without a manifest, even prepcost's names are others'.
        let bare = files(&[("part-00000.parquet", 10)]);
        assert!(matches!(
            Existing::classify(bare, None),
            Existing::Others { .. }
        ));
    }

    #[test]
    fn others_files_are_refused_and_never_replaced() {
        let notes = Existing::classify(files(&[("notes.txt", 1), ("b.txt", 1)]), None);
        let refused = notes.check(false).unwrap_err();
        assert!(refused.contains("b.txt and 1 more"), "{refused}");
        assert!(refused.contains("--overwrite"), "{refused}");
        assert_eq!(notes.check(true), Ok(()));
        let clash = Existing::classify(files(&[("part-00003.parquet", 1)]), None);
        assert!(
            clash
                .check(true)
                .unwrap_err()
                .contains("part-00003.parquet")
        );
        assert!(is_written_name(MANIFEST));
        assert!(!is_written_name("part-.parquet"));
        assert!(!is_written_name("part-1a.parquet"));
    }

    #[test]
    fn local_folders_are_listed_with_their_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        assert_eq!(local_existing(&target), Ok(Existing::Nothing));
        std::fs::create_dir_all(target.join("sub/empty")).unwrap();
        let Ok(Existing::Others { names, .. }) = local_existing(&target) else {
            panic!("an empty subfolder is not prepcost's");
        };
        assert_eq!(names, ["sub/empty/"]);
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        assert!(local_existing(&dir.path().join("file")).is_err());
    }

    #[test]
    fn outputs_and_side_files_stay_apart_from_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let at = |p: &str| format!("{}/{p}", dir.path().display());
        for target in [at("data"), at("data/clean"), at(""), at("data/..")] {
            let e = check_apart_from_source(&at("data"), &target).unwrap_err();
            assert!(e.to_string().starts_with("--output "), "{e}");
        }
        assert!(check_apart_from_source(&at("data"), &at("clean")).is_ok());
        let side = |path: &str| check_side_file("--report", path, &at("data"), Some(&at("out")));
        assert!(side(&at("data/report.json")).is_err());
        assert!(side(&at("out/report.json")).is_err());
        assert!(side(&at("report.json")).is_ok());
    }
}
