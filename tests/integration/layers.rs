//! The module map of `DESIGN.md`, kept: every module of `src/` sits on one level of [`LEVELS`],
//! and may use only modules on lower levels (and the rest of its own entry). An import that
//! climbs, or that stays on its own level, fails the test; so does a module missing from the
//! table. No cycle can pass, since every import goes strictly down.
//!
//! Imports are read from the source text: `use` trees and paths in code that start with
//! `crate::`, `super::` or `self::`, and paths through the file's own child modules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::repo;

/// The levels, from the top. An entry names a module and everything below it that has no
/// entry of its own; the crate root is `lib`.
const LEVELS: &[(&str, &[&str])] = &[
    ("entry", &["lib"]),
    ("entry: the command line", &["cli"]),
    ("commands", &["commands"]),
    (
        "commands: one file per subcommand",
        &[
            "commands::profile",
            "commands::inspect",
            "commands::loader",
            "commands::estimate",
            "commands::history",
            "commands::diff",
            "commands::cluster",
        ],
    ),
    ("config", &["config"]),
    (
        "config: per-command resolution",
        &[
            "config::profile",
            "config::inspect",
            "config::loader",
            "config::estimate",
            "config::history",
        ],
    ),
    ("config: the pipeline file", &["config::pipeline_file"]),
    (
        "config: prices and sources",
        &["config::pricing", "config::source"],
    ),
    ("render", &["render"]),
    (
        "render: formats",
        &["render::json", "render::html", "render::prometheus"],
    ),
    ("render: the report document", &["render::document"]),
    (
        "render: documents per command",
        &[
            "render::document::profile",
            "render::document::inspect",
            "render::document::loader",
            "render::document::estimate",
            "render::document::interrupted",
            "render::document::history",
            "render::document::diff",
        ],
    ),
    (
        "render: near-dedup and projection sections",
        &[
            "render::document::near_dedup",
            "render::document::projection",
        ],
    ),
    (
        "render: document parts and charts",
        &[
            "render::document::common",
            "render::document::doc",
            "render::charts",
        ],
    ),
    ("render: escaping", &["render::escape"]),
    ("engines: the pipeline", &["pipeline"]),
    ("engines: the run history", &["history"]),
    (
        "engines",
        &[
            "stages", "tokens", "output", "loader", "whatif", "layout", "estimate", "budget",
        ],
    ),
    ("engines: the minhash stage", &["stages::minhash"]),
    (
        "engines: stage parts",
        &["stages::sql", "stages::lsh", "stages::conditions"],
    ),
    ("engines: the stage trait", &["stages::stage"]),
    ("engines: stage specs", &["stages::spec"]),
    (
        "engines: projection parts",
        &[
            "estimate::calibration",
            "estimate::fit",
            "estimate::ratio",
            "estimate::tally",
        ],
    ),
    ("engines: money", &["cost"]),
    ("data: sources", &["source"]),
    (
        "data: the scan of JSONL and CSV files",
        &["source::textscan"],
    ),
    ("data: the scan", &["source::scan"]),
    ("data: JSONL and CSV files", &["source::textfiles"]),
    ("data: samples", &["source::sample", "source::sampling"]),
    ("data: Parquet files", &["source::dataset"]),
    ("data: footers", &["source::footer"]),
    (
        "data: footers other readers accept",
        &["source::footer_repair"],
    ),
    ("data: source settings", &["source::spec"]),
    ("data: the engine", &["engine"]),
    ("data: the session", &["engine::session"]),
    (
        "data: the engine a session runs on, and results executors write",
        &["engine::cluster", "engine::written"],
    ),
    ("data: intermediate results", &["engine::intermediate"]),
    (
        "data: memory and functions",
        &["engine::memory", "engine::udf"],
    ),
    ("data: tokenizers", &["tokenizer"]),
    ("data: OpenAI's encodings", &["tokenizer::openai"]),
    ("base: object stores", &["storage"]),
    ("base: reports", &["model"]),
    (
        "base: report parts",
        &[
            "model::profile",
            "model::inspect",
            "model::loader",
            "model::interrupted",
            "model::history",
            "model::diff",
        ],
    ),
    (
        "base: shared report figures",
        &[
            "model::budget",
            "model::near_dedup",
            "model::requests",
            "model::tokens",
            "model::pricing",
        ],
    ),
    ("base: helpers", &["util"]),
    (
        "base: leaf helpers",
        &[
            "util::units",
            "util::percentile",
            "util::progress",
            "util::resources",
            "error",
        ],
    ),
    ("base: redaction", &["util::redact"]),
    ("base: property-test settings", &["util::property"]),
];

/// One import of one file.
#[derive(Debug)]
struct Import {
    line: usize,
    /// Module path segments of what is imported, from the crate root.
    path: Vec<String>,
}

#[test]
fn modules_import_only_from_lower_levels() {
    let src = repo("src");
    let mut problems = Vec::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "the sources are at {}", src.display());
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        if relative == Path::new("main.rs") {
            continue; // The binary is its own crate and uses the library from outside.
        }
        let module = module_path(relative);
        let Some((own, own_level)) = entry_of(&module) else {
            problems.push(format!(
                "{}: module {} is on no level of the table in tests/integration/layers.rs",
                relative.display(),
                show(&module)
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for import in imports(&code_only(&text), &module) {
            let Some((entry, level)) = entry_of(&import.path) else {
                continue; // Not a module of ours (a macro or an item of the crate root).
            };
            if entry == own || level > own_level {
                continue;
            }
            problems.push(format!(
                "{}:{}: {} ({}) uses {} ({}), which is {}",
                relative.display(),
                import.line,
                own,
                LEVELS[own_level].0,
                show(&import.path),
                LEVELS[level].0,
                if level == own_level {
                    "on the same level"
                } else {
                    "on a level above"
                }
            ));
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} imports break the layer map:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_entry_of_the_table_exists() {
    let src = repo("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_path(f.strip_prefix(&src).unwrap()).join("::"))
        .collect();
    for (_, entries) in LEVELS {
        for entry in *entries {
            let exists = *entry == "lib"
                || modules
                    .iter()
                    .any(|m| m == entry || m.starts_with(&format!("{entry}::")));
            assert!(exists, "the table names {entry}, which is not in src/");
        }
    }
}

#[test]
fn the_import_reader_sees_every_form() {
    let code = code_only(
        "use crate::a::{b, c::{self, D}};\n\
         // use crate::commented::out;\n\
         mod child;\n\
         fn f() { let s = \"crate::in_a_string\"; crate::e::f(); child::g(); super::h::i(); }\n\
         mod tests { use super::*; use crate::j::k; }\n",
    );
    let found: Vec<String> = imports(&code, &["x".into(), "y".into()])
        .into_iter()
        .map(|i| format!("{}:{}", i.line, show(&i.path)))
        .collect();
    assert_eq!(
        found,
        [
            "1:a::b",
            "1:a::c",
            "1:a::c::D",
            "4:e::f",
            "4:x::y::child::g",
            "4:x::h::i",
            "5:x::y",
            "5:j::k",
        ]
    );
}

fn show(path: &[String]) -> String {
    if path.is_empty() {
        "the crate root".into()
    } else {
        path.join("::")
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// `stages/minhash/run.rs` → `stages::minhash::run`; `stages/mod.rs` → `stages`; `lib.rs` → ``.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The table entry a module path falls under (the longest entry that is a prefix of it) and
/// its level.
fn entry_of(path: &[String]) -> Option<(&'static str, usize)> {
    if path.is_empty() {
        return Some(("lib", 0));
    }
    let mut best: Option<(&'static str, usize, usize)> = None;
    for (level, (_, entries)) in LEVELS.iter().enumerate() {
        for &entry in *entries {
            let segments: Vec<&str> = entry.split("::").collect();
            let matches = segments.len() <= path.len()
                && segments.iter().zip(path).all(|(a, b)| *a == b.as_str());
            if matches && best.is_none_or(|(_, _, len)| segments.len() > len) {
                best = Some((entry, level, segments.len()));
            }
        }
    }
    best.map(|(entry, level, _)| (entry, level))
}

/// The source with comments, string and character literals blanked out (line breaks kept).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_string_at(&chars, i) {
            // r"…" or r#"…"#: ends at a quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars[j] == '#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            while j < chars.len()
                && !(chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')))
            {
                j += 1;
            }
            let end = (j + hashes + 1).min(chars.len());
            chars[i..end].iter().for_each(|&c| out.push(blank(c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && char_literal_len(&chars, i) > 0 {
            let len = char_literal_len(&chars, i);
            (0..len).for_each(|_| out.push(' '));
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// True when `r` at `i` starts a raw string rather than ending an identifier.
fn raw_string_at(chars: &[char], i: usize) -> bool {
    let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    starts_word && chars.get(j) == Some(&'"')
}

/// The length of a character literal starting at `i`, or 0 for a lifetime.
fn char_literal_len(chars: &[char], i: usize) -> usize {
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some('\\'), _) => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            j + 1 - i
        }
        (Some(_), Some('\'')) => 3,
        _ => 0,
    }
}

/// The modules `code` (of the module at `module`) uses, with their lines.
fn imports(code: &str, module: &[String]) -> Vec<Import> {
    let tokens = tokenize(code);
    let children: BTreeSet<&str> = tokens
        .windows(3)
        .filter(|w| w[0].text == "mod" && w[2].text == ";")
        .map(|w| w[1].text)
        .collect();
    let mut found = Vec::new();
    // Inline modules (`mod tests { … }`) open a scope below the file's module.
    let mut scope: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let here: Vec<String> = module
            .iter()
            .cloned()
            .chain(scope.iter().map(|(name, _)| name.clone()))
            .collect();
        let token = &tokens[i];
        match token.text {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if scope.last().is_some_and(|(_, d)| *d == depth) {
                    scope.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t.text == "{") => {
                scope.push((tokens[i + 1].text.to_string(), depth));
                depth += 1;
                i += 3;
                continue;
            }
            "use" => {
                let end = (i..tokens.len())
                    .find(|&j| tokens[j].text == ";")
                    .unwrap_or(tokens.len());
                let mut paths = Vec::new();
                flatten(&tokens[i + 1..end], Vec::new(), &mut paths);
                for path in paths {
                    if let Some(path) = resolve(&path, &here, &children) {
                        found.push(Import {
                            line: token.line,
                            path,
                        });
                    }
                }
                i = end + 1;
                continue;
            }
            _ => {}
        }
        let after_path_separator = i > 0 && tokens[i - 1].text == "::";
        let starts_path =
            matches!(token.text, "crate" | "super" | "self") || children.contains(token.text);
        if starts_path && !after_path_separator && tokens.get(i + 1).is_some_and(|t| t.text == "::")
        {
            let mut path = vec![token.text.to_string()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|t| t.text == "::")
                && tokens.get(j + 1).is_some_and(|t| is_ident(t.text))
            {
                path.push(tokens[j + 1].text.to_string());
                j += 2;
            }
            if let Some(path) = resolve(&path, &here, &children) {
                found.push(Import {
                    line: token.line,
                    path,
                });
            }
            i = j;
            continue;
        }
        i += 1;
    }
    found
}

/// A `use` tree as whole paths (`a::{b, c::{self, d}}` → `a::b`, `a::c`, `a::c::d`).
fn flatten(tokens: &[Token], prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix.clone();
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i].text {
            "::" => {}
            "{" => {
                let mut depth = 0;
                let mut start = i + 1;
                for j in i..tokens.len() {
                    match tokens[j].text {
                        "{" => depth += 1,
                        "}" => {
                            depth -= 1;
                            if depth == 0 {
                                flatten(&tokens[start..j], path.clone(), out);
                                return;
                            }
                        }
                        "," if depth == 1 => {
                            flatten(&tokens[start..j], path.clone(), out);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            "self" if !path.is_empty() => {}
            "as" => break,
            "*" => break,
            text if is_ident(text) => path.push(text.to_string()),
            _ => {}
        }
        i += 1;
    }
    if path.len() > prefix.len() || (!path.is_empty() && tokens.iter().any(|t| t.text == "self")) {
        out.push(path);
    }
}

/// A path as written in the module `here` → module segments from the crate root; `None` for
/// paths into other crates.
fn resolve(path: &[String], here: &[String], children: &BTreeSet<&str>) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            let mut base = here.to_vec();
            base.pop();
            let mut rest = rest;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            return Some(base);
        }
        child if children.contains(child) => {
            let mut base = here.to_vec();
            base.push(child.to_string());
            base
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

struct Token<'a> {
    text: &'a str,
    line: usize,
}

fn is_ident(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation characters, with their lines.
fn tokenize(code: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut line = 1;
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
            tokens.push(Token {
                text: &code[start..i],
                line,
            });
        } else if c == b':' && bytes.get(i + 1) == Some(&b':') {
            tokens.push(Token { text: "::", line });
            i += 2;
        } else {
            tokens.push(Token {
                text: &code[i..i + 1],
                line,
            });
            i += 1;
        }
    }
    tokens
}
