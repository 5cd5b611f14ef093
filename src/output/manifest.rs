//! The manifest every output carries, `_prepcost_manifest.json`: the files prepcost wrote
//! there (name and size), their rows and the run that wrote them. It is how a later run tells
//! its own earlier output, which it may replace, from files it did not write, which it never
//! touches. Its leading `_` keeps it out of Parquet readers' listings (prepcost's, pyarrow's,
//! Spark's).

use serde::{Deserialize, Serialize};

/// The manifest's file name inside an output.
pub const MANIFEST: &str = "_prepcost_manifest.json";

/// What one run wrote to an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub prepcost_version: String,
    pub run_id: String,
    /// The source the output was made from, secrets redacted.
    pub source: String,
    pub rows: u64,
    pub files: Vec<ManifestFile>,
}

/// One file of an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
}

impl Manifest {
    /// Parses a manifest; `None` for anything else (a file of that name prepcost did not
    /// write is treated as any other foreign file).
    pub fn parse(bytes: &[u8]) -> Option<Manifest> {
        serde_json::from_slice(bytes).ok()
    }

    /// The manifest as written, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serializes") + "\n"
    }

    /// True when `name` is a file of this output and has the size it was written with.
    pub fn lists(&self, name: &str, bytes: u64) -> bool {
        self.files
            .iter()
            .any(|f| f.name == name && f.bytes == bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_reads_back_and_lists_its_files_by_size() {
        let manifest = Manifest {
            prepcost_version: "0.1.0".into(),
            run_id: "20261207T000000.000000Z-1".into(),
            source: "data/".into(),
            rows: 10,
            files: vec![ManifestFile {
                name: "part-00000.parquet".into(),
                bytes: 123,
            }],
        };
        let read = Manifest::parse(manifest.to_json().as_bytes()).unwrap();
        assert_eq!(read, manifest);
        assert!(read.lists("part-00000.parquet", 123));
        assert!(!read.lists("part-00000.parquet", 124));
        assert!(!read.lists("notes.txt", 123));
        assert_eq!(Manifest::parse(b"{\"not\": \"a manifest\"}"), None);
    }
}
