//! The HTML and Markdown reports: every chart of `profile`, `inspect` and `loader` on the
//! sample data drawn by headless Chromium and found non-blank; the Markdown report's
//! sections as GitHub-flavoured tables.

use std::path::{Path, PathBuf};

use crate::jobs::tool;
use crate::support::{command, prepcost, repo_str};

/// Chromium's flags for a closed network and a root user (as on CI).
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
];

/// Writes the report of `args` to an HTML file in `dir` and returns the page.
fn html_report(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String) {
    let path = dir.join(format!("{name}.html"));
    let mut all = args.to_vec();
    all.extend(["--quiet", "--report", path.to_str().unwrap()]);
    let run = prepcost(&all);
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    let page = std::fs::read_to_string(&path).unwrap();
    (path, page)
}

/// Each `<figure id=…>` of the page with its `<svg>`.
fn figures(page: &str) -> Vec<(String, String)> {
    page.split("<figure id=\"")
        .skip(1)
        .map(|rest| {
            let id = rest[..rest.find('"').unwrap()].to_string();
            let start = rest.find("<svg").unwrap();
            let end = rest.find("</svg>").unwrap() + "</svg>".len();
            (id, rest[start..end].to_string())
        })
        .collect()
}

/// Chromium's screenshot of `target` at `width`×`height`.
fn screenshot(chromium: &Path, target: &Path, png: &Path, (width, height): (u32, u32)) {
    let profile = tempfile::tempdir().unwrap();
    let out = command(chromium)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", target.display()))
        .output()
        .unwrap();
    assert!(
        png.is_file(),
        "chromium took no screenshot of {}: {}",
        target.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Pixels of the image that are not (near) white, and how many distinct colours they have.
fn ink(png: &Path) -> (f64, usize) {
    let image = decode_png(&std::fs::read(png).unwrap());
    let mut inked = 0usize;
    let mut colours = std::collections::BTreeSet::new();
    for px in image.pixels.chunks(image.channels) {
        if px[..3].iter().any(|&c| c < 230) {
            inked += 1;
            colours.insert((px[0] >> 4, px[1] >> 4, px[2] >> 4));
        }
    }
    (
        inked as f64 / (image.width * image.height) as f64,
        colours.len(),
    )
}

/// An 8-bit RGB or RGBA image, as Chromium's screenshots are.
struct Image {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

/// Decodes a non-interlaced 8-bit RGB(A) PNG: its IDAT chunks inflated, each scanline
/// unfiltered (PNG's five filters).
fn decode_png(bytes: &[u8]) -> Image {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let (mut at, mut header, mut data) = (8, None, Vec::new());
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let (kind, body) = (&bytes[at + 4..at + 8], &bytes[at + 8..at + 8 + len]);
        match kind {
            b"IHDR" => header = Some(body.to_vec()),
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + len;
    }
    let header = header.expect("an IHDR chunk");
    let number = |i: usize| u32::from_be_bytes(header[i..i + 4].try_into().unwrap()) as usize;
    let (width, height) = (number(0), number(4));
    let channels = match (header[8], header[9], header[12]) {
        (8, 2, 0) => 3,
        (8, 6, 0) => 4,
        other => panic!("unexpected PNG (depth, colour type, interlace): {other:?}"),
    };
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&data[..]), &mut raw).unwrap();
    let stride = width * channels;
    let mut pixels = vec![0u8; stride * height];
    for y in 0..height {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                pixels[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 {
                pixels[(y - 1) * stride + x]
            } else {
                0
            };
            let c = if x >= channels && y > 0 {
                pixels[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match line[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => paeth(a, b, c),
                f => panic!("unknown PNG filter {f}"),
            };
            pixels[y * stride + x] = line[1 + x].wrapping_add(predicted);
        }
    }
    Image {
        width,
        height,
        channels,
        pixels,
    }
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = a as i16 + b as i16 - c as i16;
    let (pa, pb, pc) = (
        (p - a as i16).abs(),
        (p - b as i16).abs(),
        (p - c as i16).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[test]
fn every_chart_of_the_html_reports_is_drawn_and_not_blank() {
    let Some(chromium) = tool("chromium", "PREPCOST_REQUIRE_BROWSER") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data");
    let reports = [
        (
            "profile",
            vec!["profile", data.as_str()],
            vec![
                "time",
                "rows",
                "tokens",
                "conditions",
                "text_lengths",
                "storage",
                "cost",
            ],
        ),
        (
            "sampled",
            vec!["profile", data.as_str(), "--sample", "0.5"],
            vec!["projected_time", "projected_rows"],
        ),
        (
            "inspect",
            vec!["inspect", data.as_str()],
            vec!["storage", "bill"],
        ),
        (
            "loader",
            vec!["loader", data.as_str(), "--workers", "1,2"],
            vec!["scaling", "latency"],
        ),
    ];
    for (name, args, expected) in reports {
        let (page_path, page) = html_report(dir.path(), name, &args);
        assert!(!page.contains("<script"), "{name}: no scripts");
        assert!(only_svg_namespace(&page), "{name}: nothing from elsewhere");
        let found = figures(&page);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        for id in &expected {
            assert!(ids.contains(id), "{name}: no chart '{id}' among {ids:?}");
        }
        for (id, svg) in &found {
            let file = dir.path().join(format!("{name}-{id}.svg"));
            std::fs::write(&file, svg).unwrap();
            let png = dir.path().join(format!("{name}-{id}.png"));
            screenshot(&chromium, &file, &png, (660, 420));
            let (share, colours) = ink(&png);
            assert!(
                share > 0.01 && colours >= 2,
                "{name}: chart '{id}' looks blank ({:.2}% inked, {colours} colours)",
                share * 100.0
            );
        }
        // The whole page renders too (on a laptop-sized window).
        let png = dir.path().join(format!("{name}-page.png"));
        screenshot(&chromium, &page_path, &png, (1366, 900));
        assert!(ink(&png).0 > 0.01, "{name}: the page looks blank");
    }
}

/// The only URL a page holds is the SVG namespace.
fn only_svg_namespace(page: &str) -> bool {
    page.replace("http://www.w3.org/2000/svg", "")
        .find("http")
        .is_none()
}

#[test]
fn the_markdown_report_has_the_table_reports_sections() {
    let run = prepcost(&["profile", &repo_str("sample-data"), "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = run.stdout;
    assert!(md.starts_with("# prepcost profile · "), "{md}");
    for heading in [
        "### Stages",
        "### Conditions",
        "### Tokens (cl100k_base",
        "### Storage by column",
    ] {
        assert!(md.contains(heading), "{heading} missing: {md}");
    }
    assert!(md.contains("| stage | rows in | rows out |"));
    assert!(md.contains("| --- | ---: | ---: |"));
    assert!(
        !md.contains('┌') && !md.contains('│'),
        "no box drawing in Markdown"
    );
    // Every table row has as many cells as its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let widths: Vec<usize> = table
            .lines()
            .map(|l| l.replace("\\|", "").matches('|').count())
            .collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{table}");
    }
}
