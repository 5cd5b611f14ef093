//! The HTML and Markdown reports: every chart of `profile`, `inspect` and `loader` on the
//! sample data drawn by headless Chromium, each of its colours on screen, and the bars of the
//! profile's charts as long as the report's figures say; the Markdown report's sections as
//! GitHub-flavoured tables.

use std::path::{Path, PathBuf};

use serde_json::Value;

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

/// Writes the report of `args` to an HTML file in `dir`; the page, and the same run's JSON
/// report.
fn html_report(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, String, Value) {
    let path = dir.join(format!("{name}.html"));
    let mut all = args.to_vec();
    all.extend([
        "--quiet",
        "--format",
        "json",
        "--report",
        path.to_str().unwrap(),
    ]);
    let run = prepcost(&all);
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    let page = std::fs::read_to_string(&path).unwrap();
    (path, page, serde_json::from_str(&run.stdout).unwrap())
}

/// A filled shape of a chart: its colour, and for a `<rect>` its middle row and width.
#[derive(Debug)]
struct Shape {
    fill: (u8, u8, u8),
    bar: Option<(f64, f64)>,
}

/// The filled `<rect>`s and `<circle>`s of an SVG, in order.
fn shapes(svg: &str) -> Vec<Shape> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    };
    let number = |tag: &str, name: &str| attribute(tag, name).and_then(|v| v.parse::<f64>().ok());
    let mut found = Vec::new();
    for (at, _) in svg.match_indices('<') {
        let tag = &svg[at..at + svg[at..].find('>').unwrap()];
        if !(tag.starts_with("<rect ") || tag.starts_with("<circle ")) {
            continue;
        }
        let Some(hex) = attribute(tag, "fill").and_then(|f| f.strip_prefix('#').map(String::from))
        else {
            continue;
        };
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        let bar = match (
            number(tag, "y"),
            number(tag, "height"),
            number(tag, "width"),
        ) {
            (Some(y), Some(h), Some(w)) if tag.starts_with("<rect ") => Some((y + h / 2.0, w)),
            _ => None,
        };
        found.push(Shape {
            fill: (channel(0), channel(2), channel(4)),
            bar,
        });
    }
    found
}

/// Whether a pixel is `colour`, give or take anti-aliasing.
fn is_colour(px: &[u8], (r, g, b): (u8, u8, u8)) -> bool {
    px[0].abs_diff(r) <= 8 && px[1].abs_diff(g) <= 8 && px[2].abs_diff(b) <= 8
}

/// Pixels of `colour` in the image, and in the row `y` alone.
fn pixels_of(image: &Image, colour: (u8, u8, u8), y: usize) -> (usize, usize) {
    let stride = image.width * image.channels;
    let all = image.pixels.chunks(image.channels);
    let total = all.filter(|px| is_colour(px, colour)).count();
    let row = &image.pixels[y * stride..(y + 1) * stride];
    let in_row = row
        .chunks(image.channels)
        .filter(|px| is_colour(px, colour))
        .count();
    (total, in_row)
}

/// Asserts that every colour the chart fills with is on screen, and that its bars (those of
/// [`bars_of`]) are as long as `values` say: ordered alike, each in proportion to the
/// longest within 5% (or 2 pixels of anti-aliased edges).
fn assert_drawn(name: &str, id: &str, svg: &str, png: &Path, values: Option<Vec<f64>>) {
    let image = decode_png(&std::fs::read(png).unwrap());
    let shapes = shapes(svg);
    assert!(!shapes.is_empty(), "{name}: chart '{id}' fills nothing");
    for shape in shapes
        .iter()
        .filter(|s| s.bar.is_none_or(|(_, w)| w >= 1.0))
    {
        let (on_screen, _) = pixels_of(&image, shape.fill, 0);
        assert!(
            on_screen > 0,
            "{name}: '{id}': colour {:?} is not on screen",
            shape.fill
        );
    }
    let Some(values) = values else {
        return;
    };
    let bars: Vec<(f64, (u8, u8, u8))> = shapes
        .iter()
        .filter_map(|s| s.bar.map(|(y, _)| (y, s.fill)))
        .collect();
    assert_eq!(bars.len(), values.len(), "{name}: '{id}': a bar per figure");
    let drawn: Vec<f64> = bars
        .iter()
        .map(|&(y, colour)| pixels_of(&image, colour, y as usize).1 as f64)
        .collect();
    let longest = (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap();
    assert!(
        drawn[longest] > 100.0,
        "{name}: '{id}': the longest bar is {} px",
        drawn[longest]
    );
    for (i, (&value, &px)) in values.iter().zip(&drawn).enumerate() {
        let expected = drawn[longest] * value / values[longest];
        assert!(
            (px - expected).abs() <= (0.05 * expected).max(2.0),
            "{name}: '{id}': bar {i} is {px} px, {expected:.1} px by the report ({values:?} \
             drawn as {drawn:?})"
        );
    }
}

/// The figures the bars of a profile's chart stand for, from its JSON report: `rows` (the
/// source's and each stage's rows) and `time` (each step's wall seconds).
fn bars_of(report: &Value, id: &str) -> Option<Vec<f64>> {
    let f = |v: &Value| v.as_f64().unwrap();
    let stages = report["stages"].as_array()?;
    match id {
        "rows" => Some(
            std::iter::once(f(&report["scan"]["rows"]))
                .chain(stages.iter().map(|s| f(&s["rows_out"])))
                .collect(),
        ),
        "time" => {
            let mut steps = vec![f(&report["scan"]["wall_seconds"])];
            steps.extend(stages.iter().map(|s| f(&s["wall_seconds"])));
            for part in ["tokens", "output"] {
                if report[part].is_object() {
                    steps.push(f(&report[part]["wall_seconds"]));
                }
            }
            steps.push(f(&report["totals"]["run_wall_by_part"]["other"]));
            Some(steps)
        }
        _ => None,
    }
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
        let (page_path, page, report) = html_report(dir.path(), name, &args);
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
            let values = (name == "profile").then(|| bars_of(&report, id)).flatten();
            assert_drawn(name, id, svg, &png, values);
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
