//! `--output` never destroys data prepcost did not write: the source, a folder inside it, one
//! that holds it, a folder of other files, and the same places in an S3 bucket are refused
//! in one line with exit 2, every file of the source byte-identical afterwards; report,
//! history and lock files stay out of the source; an earlier output of prepcost's (its
//! manifest) is replaced, and `--overwrite` writes beside others' files, keeping them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::servers::{Faults, Server};
use crate::storage::{json, run, s3_env};
use crate::support::{assert_error, prepcost, profile_json, repo};

/// Every file below `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// A folder `data` holding a copy of the sample's English prose, in a new temporary folder.
fn source_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    crate::servers::copy_tree(&repo("sample-data/en_prose"), &data);
    (root, data)
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn the_source_and_folders_around_or_inside_it_are_refused() {
    let (root, data) = source_copy();
    std::os::unix::fs::symlink(&data, root.path().join("link")).unwrap();
    let before = snapshot(root.path());
    let cases = [
        (data.clone(), "is the source"),
        (data.join("."), "is the source"),
        (root.path().join("link"), "is the source"),
        (root.path().join("data/../data"), "is the source"),
        (data.join("clean"), "is inside the source"),
        (root.path().join("link/new/clean"), "is inside the source"),
        (root.path().to_path_buf(), "holds the source"),
    ];
    for (target, words) in cases {
        let run = prepcost(&["profile", text(&data), "--output", text(&target)]);
        assert_error(&run, &["--output", words]);
        // --overwrite changes nothing here.
        let run = prepcost(&[
            "profile",
            text(&data),
            "--output",
            text(&target),
            "--overwrite",
        ]);
        assert_error(&run, &["--output", words]);
    }
    // A glob source searches its folder: that folder is the source.
    let glob = format!("{}/*.parquet", data.display());
    assert_error(
        &prepcost(&["profile", &glob, "--output", text(&data)]),
        &["is the source"],
    );
    assert_eq!(
        snapshot(root.path()),
        before,
        "the source is byte-identical"
    );
}

#[test]
fn a_folder_of_other_files_is_refused_or_kept_with_overwrite() {
    let (root, data) = source_copy();
    let notes = root.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("important.txt"), b"do not lose me").unwrap();
    let before = snapshot(root.path());
    let run = prepcost(&["profile", text(&data), "--output", text(&notes)]);
    assert_error(
        &run,
        &["output", "important.txt", "did not write", "--overwrite"],
    );
    assert_eq!(snapshot(root.path()), before, "nothing changed");
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".prepcost"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // With --overwrite the output goes beside them; they are kept, byte for byte, and a
    // second run replaces only its own files.
    let mut files = 0;
    for _ in 0..2 {
        let report = profile_json(&[text(&data), "--output", text(&notes), "--overwrite"]);
        files = report["output"]["files"].as_u64().unwrap();
    }
    let after = snapshot(&notes);
    assert_eq!(after["important.txt"], b"do not lose me");
    assert_eq!(
        after.len() as u64,
        files + 2,
        "the output's files, its manifest, theirs"
    );
    assert!(after.contains_key("_prepcost_manifest.json"));
    // A file with a name prepcost writes is never replaced, even with --overwrite.
    let clash = root.path().join("clash");
    std::fs::create_dir(&clash).unwrap();
    std::fs::write(clash.join("part-00000.parquet"), b"theirs").unwrap();
    let run = prepcost(&[
        "profile",
        text(&data),
        "--output",
        text(&clash),
        "--overwrite",
    ]);
    assert_error(&run, &["part-00000.parquet", "did not write"]);
    assert_eq!(
        std::fs::read(clash.join("part-00000.parquet")).unwrap(),
        b"theirs"
    );
    for (name, bytes) in snapshot(&data) {
        assert_eq!(before[&format!("data/{name}")], bytes, "{name}");
    }
}

#[test]
fn an_earlier_output_is_replaced_and_its_manifest_says_what_was_written() {
    let (root, data) = source_copy();
    let out = root.path().join("out");
    let first = profile_json(&[text(&data), "--output", text(&out)]);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("_prepcost_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["rows"], first["totals"]["rows_out"]);
    assert_eq!(manifest["source"], text(&data));
    let listed = &manifest["files"][0];
    assert_eq!(listed["name"], "part-00000.parquet");
    let size = std::fs::metadata(out.join("part-00000.parquet"))
        .unwrap()
        .len();
    assert_eq!(listed["bytes"], size);
    let run_id = manifest["run_id"].as_str().unwrap();
    assert!(
        run_id.len() > 20 && run_id.contains('T') && run_id.contains("Z-"),
        "{run_id}"
    );
    // Run again: the earlier output is replaced, nothing is asked.
    let second = profile_json(&[text(&data), "--output", text(&out), "--near-dedup"]);
    let names: Vec<String> = snapshot(&out).into_keys().collect();
    let mut expected = vec!["_prepcost_manifest.json".to_string()];
    let parts = second["output"]["files"].as_u64().unwrap();
    expected.extend((0..parts).map(|i| format!("part-{i:05}.parquet")));
    assert_eq!(names, expected);
    // A file added to it since makes it someone's folder: refused.
    std::fs::write(out.join("README.md"), b"mine").unwrap();
    let run = prepcost(&["profile", text(&data), "--output", text(&out)]);
    assert_error(&run, &["README.md", "did not write"]);
    assert_eq!(std::fs::read(out.join("README.md")).unwrap(), b"mine");
}

#[test]
fn report_history_and_lock_files_stay_out_of_the_source_and_the_output() {
    let (root, data) = source_copy();
    let before = snapshot(root.path());
    let inside = |name: &str| data.join(name).display().to_string();
    let out = root.path().join("out");
    for (flag, path, words) in [
        ("--report", inside("report.json"), "is inside the source"),
        ("--report", inside("part-0.parquet"), "is inside the source"),
        (
            "--prometheus",
            inside("metrics.prom"),
            "is inside the source",
        ),
        ("--history", text(&data).to_string(), "is the source"),
        ("--lock", inside("job.lock"), "is inside the source"),
        (
            "--report",
            out.join("r.json").display().to_string(),
            "is inside the output",
        ),
    ] {
        let run = prepcost(&["profile", text(&data), "--output", text(&out), flag, &path]);
        assert_error(&run, &[flag, words]);
    }
    for command in ["inspect", "loader"] {
        let run = prepcost(&[command, text(&data), "--report", &inside("r.md")]);
        assert_error(&run, &["--report", "is inside the source"]);
    }
    assert_eq!(snapshot(root.path()), before, "nothing was written");
}

#[test]
fn s3_prefixes_follow_the_same_rules() {
    let root = tempfile::tempdir().unwrap();
    crate::servers::copy_tree(
        &repo("sample-data/en_prose"),
        &root.path().join("data/corpus"),
    );
    std::fs::create_dir_all(root.path().join("data/notes")).unwrap();
    std::fs::write(root.path().join("data/notes/important.txt"), b"keep").unwrap();
    let s3 = Server::s3(root.path(), Faults::None);
    let env = s3_env(&s3);
    let before = snapshot(root.path());
    for (target, words) in [
        ("s3://data/corpus", "is the source"),
        ("s3://data/corpus/", "is the source"),
        ("s3://data/corpus/clean", "is inside the source"),
        ("s3://data", "holds the source"),
        ("s3://data/notes", "did not write"),
    ] {
        let out = run(&["profile", "s3://data/corpus/", "--output", target], &env);
        assert_error(&out, &[target.trim_end_matches('/'), words]);
    }
    assert_eq!(
        snapshot(root.path()),
        before,
        "the bucket is byte-identical"
    );

    // --overwrite writes beside others' objects; a second run replaces only its own files,
    // deleting the one the first run wrote that the second does not.
    let args = [
        "profile",
        "s3://data/corpus/",
        "--output",
        "s3://data/notes",
        "--overwrite",
        "--tokenizer",
        "none",
    ];
    let report = json(&args, &env);
    let parts = report["output"]["files"].as_u64().unwrap();
    let notes = root.path().join("data/notes");
    let manifest_path = notes.join("_prepcost_manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    // Give the earlier output one file more: the second run must delete the one it does not
    // write again, and nothing else.
    let extra = format!("part-{parts:05}.parquet");
    std::fs::write(notes.join(&extra), b"an earlier part").unwrap();
    manifest["files"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": extra, "bytes": 15}));
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    s3.clear_log();
    let report = json(&args, &env);
    let names: Vec<String> = snapshot(&notes).into_keys().collect();
    assert_eq!(report["output"]["files"], parts);
    assert_eq!(names.len() as u64, parts + 2, "{names:?}");
    assert!(!names.contains(&extra), "{names:?}");
    assert_eq!(std::fs::read(notes.join("important.txt")).unwrap(), b"keep");
    // The output's requests (the check before the run, the commit) are the server's log.
    let counted = crate::servers::Counts::from_report(&report["output"]["requests"]);
    assert_eq!(crate::servers::Counts::of(&s3.log()).delete, 1);
    assert_eq!(counted.delete, 1, "the earlier output's second file");
    for (name, bytes) in snapshot(&root.path().join("data/corpus")) {
        assert_eq!(before[&format!("data/corpus/{name}")], bytes, "{name}");
    }
}
