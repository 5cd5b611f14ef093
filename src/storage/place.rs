//! Where a path or URI points, for telling whether two of them overlap: a local path with its
//! symlinks and `..` resolved (as far as it exists), or an object store and the key segments
//! inside it; a glob counts as the folder or prefix it searches.

use std::path::{Component, Path, PathBuf};

use super::{Provider, parse_remote, split_glob};

/// The place a path or URI names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// An absolute local path, symlinks and `..` resolved.
    Local(PathBuf),
    /// A key (its `/`-separated segments) in one object store: `s3://bucket`, `gs://bucket`,
    /// `az://container`, or an HTTP origin.
    Remote { store: String, key: Vec<String> },
}

/// How one place relates to another that it overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Both name the same file, folder or prefix.
    Same,
    /// The first lies inside the second.
    Inside,
    /// The first holds the second.
    Contains,
}

impl Place {
    /// The place `uri` names, or `None` for a URI prepcost cannot read. Globs are cut at their
    /// first component with a pattern.
    pub fn of(uri: &str) -> Option<Place> {
        match uri.split_once("://") {
            Some((scheme, _)) if scheme != "file" => Self::remote(uri),
            _ => Some(Place::Local(resolve_local(
                uri.strip_prefix("file://").unwrap_or(uri),
            ))),
        }
    }

    fn remote(uri: &str) -> Option<Place> {
        let remote = parse_remote(uri).ok()?;
        let authority = remote.root.split_once("://").map_or("", |(_, a)| a);
        let store = match remote.provider {
            Provider::S3 => format!("s3://{authority}"),
            Provider::Gcs => format!("gs://{authority}"),
            // `abfss://container@account.dfs…` and `az://container` name one container.
            Provider::Azure => format!("az://{}", authority.split('@').next().unwrap_or("")),
            _ => remote.root.to_ascii_lowercase(),
        };
        let (key, _) = split_glob(&remote.key);
        let key = key
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_string)
            .collect();
        Some(Place::Remote { store, key })
    }

    /// How this place relates to `other`, or `None` when they do not overlap.
    pub fn overlap(&self, other: &Place) -> Option<Overlap> {
        match (self, other) {
            (Place::Local(a), Place::Local(b)) => relate(a.starts_with(b), b.starts_with(a)),
            (Place::Remote { store: s, key: a }, Place::Remote { store: t, key: b }) if s == t => {
                relate(a.starts_with(b), b.starts_with(a))
            }
            _ => None,
        }
    }
}

fn relate(inside: bool, contains: bool) -> Option<Overlap> {
    match (inside, contains) {
        (true, true) => Some(Overlap::Same),
        (true, false) => Some(Overlap::Inside),
        (false, true) => Some(Overlap::Contains),
        (false, false) => None,
    }
}

/// `path` made absolute: its longest existing ancestor canonicalized (symlinks and `..`
/// resolved), the rest appended with `.` and `..` applied by name. A glob searches the folder
/// before its first pattern.
fn resolve_local(path: &str) -> PathBuf {
    let (base, _) = split_glob(path);
    let base = match base {
        "" if path.starts_with('/') => "/",
        "" => ".",
        base => base,
    };
    let absolute = std::path::absolute(base).unwrap_or_else(|_| PathBuf::from(base));
    let mut existing = absolute.as_path();
    while let Some(parent) = existing.parent() {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let rest = absolute.strip_prefix(existing).unwrap_or(Path::new(""));
            return lexically_normal(&real.join(rest));
        }
        existing = parent;
    }
    lexically_normal(&absolute)
}

/// `path` with `.` and `..` applied by name.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlap(a: &str, b: &str) -> Option<Overlap> {
        Place::of(a).unwrap().overlap(&Place::of(b).unwrap())
    }

    #[test]
    fn local_paths_resolve_symlinks_dots_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::os::unix::fs::symlink(&data, dir.path().join("link")).unwrap();
        let at = |p: &str| format!("{}/{p}", dir.path().display());
        assert_eq!(overlap(&at("link"), &at("data")), Some(Overlap::Same));
        assert_eq!(
            overlap(&at("data/../data/"), &at("data")),
            Some(Overlap::Same)
        );
        assert_eq!(
            overlap(&at("link/new/out"), &at("data")),
            Some(Overlap::Inside)
        );
        assert_eq!(
            overlap(&at("new/../data/x"), &at("data")),
            Some(Overlap::Inside)
        );
        assert_eq!(
            overlap(&at(""), &at("data/*.parquet")),
            Some(Overlap::Contains)
        );
        assert_eq!(
            overlap(&at("data/a"), &at("data/*/x")),
            Some(Overlap::Inside)
        );
        assert_eq!(overlap(&at("data2"), &at("data")), None);
        assert_eq!(
            overlap(&format!("file://{}", at("link")), &at("data")),
            Some(Overlap::Same)
        );
    }

    #[test]
    fn store_keys_compare_by_segment() {
        assert_eq!(overlap("s3://b/data", "s3a://b/data/"), Some(Overlap::Same));
        assert_eq!(
            overlap("s3://b/data/out", "s3://b/data"),
            Some(Overlap::Inside)
        );
        assert_eq!(
            overlap("s3://b", "s3://b/data/*.parquet"),
            Some(Overlap::Contains)
        );
        assert_eq!(overlap("s3://b/data2", "s3://b/data"), None);
        assert_eq!(overlap("s3://c/data", "s3://b/data"), None);
        assert_eq!(overlap("gs://b/data", "s3://b/data"), None);
        assert_eq!(
            overlap("abfss://c@acct.dfs.core.windows.net/d/x", "az://c/d"),
            Some(Overlap::Inside)
        );
        assert_eq!(overlap("/tmp/b/data", "s3://b/data"), None);
    }
}
