//! Charts as inline SVG, written by hand: horizontal bars (with an offset for a waterfall and
//! an interval for a projection), columns for a histogram, and lines for a scaling curve.
//! Each is one `<svg>` element that stands alone, readable without scripts or fonts from
//! elsewhere.

use std::fmt::Write;

use super::escape::escape;

/// Width of every chart, in CSS pixels.
const WIDTH: f64 = 640.0;
/// Space for bar labels on the left, and for values on the right.
const LABELS: f64 = 200.0;
const VALUES: f64 = 110.0;
const ROW: f64 = 22.0;
const TOP: f64 = 8.0;
/// Colours that stay apart in print and for the common colour blindnesses.
const PALETTE: [&str; 6] = [
    "#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377",
];

/// One bar: from `start` to `start + value`, with an interval when the figure is projected.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub start: f64,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
    /// The value as people read it, printed beside the bar.
    pub text: String,
}

impl Bar {
    pub fn new(label: impl Into<String>, value: f64, text: String) -> Self {
        Bar {
            label: label.into(),
            start: 0.0,
            value: value.max(0.0),
            interval: None,
            text,
        }
    }
}

/// A chart with its caption, as the HTML page shows it.
#[derive(Debug, Clone)]
pub struct Chart {
    /// A stable name: the figure's `id`.
    pub id: String,
    pub caption: String,
    pub svg: String,
}

/// Horizontal bars, one per row, scaled to the largest end (interval included).
pub fn bars(id: impl Into<String>, caption: impl Into<String>, bars: &[Bar]) -> Chart {
    let caption = caption.into();
    let end = bars
        .iter()
        .map(|b| (b.start + b.value).max(b.interval.map_or(0.0, |i| i.1)))
        .fold(0.0, f64::max);
    let scale = if end > 0.0 {
        (WIDTH - LABELS - VALUES) / end
    } else {
        0.0
    };
    let height = TOP * 2.0 + ROW * bars.len() as f64;
    let mut svg = open(&caption, height);
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let x = LABELS + bar.start * scale;
        let w = (bar.value * scale).max(if bar.value > 0.0 { 1.0 } else { 0.0 });
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{x:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"><title>{}: {}</title></rect>"#,
            LABELS - 6.0,
            y + ROW * 0.68,
            escape(&shorten(&bar.label, 26)),
            y + 3.0,
            ROW - 6.0,
            escape(&bar.label),
            escape(&bar.text),
        );
        let mut text_x = x + w + 4.0;
        if let Some((low, high)) = bar.interval {
            let (x0, x1) = (LABELS + low * scale, LABELS + high * scale);
            let mid = y + ROW / 2.0;
            let _ = write!(
                svg,
                r##"<path d="M{x0:.1} {:.1}V{:.1}M{x0:.1} {mid:.1}H{x1:.1}M{x1:.1} {:.1}V{:.1}" stroke="#222" fill="none"/>"##,
                mid - 5.0,
                mid + 5.0,
                mid - 5.0,
                mid + 5.0,
            );
            text_x = text_x.max(x1 + 4.0);
        }
        let _ = write!(
            svg,
            r#"<text x="{text_x:.1}" y="{:.1}">{}</text>"#,
            y + ROW * 0.68,
            escape(&bar.text)
        );
    }
    close(id, caption, svg)
}

/// Vertical columns over labelled bins, as a histogram; counts on a linear scale.
pub fn columns(
    id: impl Into<String>,
    caption: impl Into<String>,
    bins: &[(String, u64)],
    axis: &str,
) -> Chart {
    let caption = caption.into();
    let (plot_h, left, bottom) = (180.0, 50.0, 46.0);
    let height = TOP + plot_h + bottom;
    let most = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let step = (WIDTH - left - 10.0) / bins.len().max(1) as f64;
    let mut svg = open(&caption, height);
    axes(&mut svg, left, TOP + plot_h, &format!("{most}"), axis);
    for (i, (label, n)) in bins.iter().enumerate() {
        let h = *n as f64 / most * plot_h;
        let x = left + step * i as f64;
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {n}</title></rect>"#,
            x + 1.0,
            TOP + plot_h - h,
            (step - 2.0).max(1.0),
            PALETTE[0],
            escape(label),
        );
        if i % label_every(bins.len()) == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                x + step / 2.0,
                TOP + plot_h + 14.0,
                escape(label)
            );
        }
    }
    close(id, caption, svg)
}

/// One line per series over numeric x values, each scaled to its own largest value (the
/// values are printed at the points).
pub fn lines(
    id: impl Into<String>,
    caption: impl Into<String>,
    xs: &[f64],
    series: &[(&str, Vec<f64>, Vec<String>)],
    x_axis: &str,
) -> Chart {
    let caption = caption.into();
    let (plot_h, left, bottom) = (200.0, 50.0, 60.0);
    let plot_w = WIDTH - left - 60.0;
    let height = TOP + plot_h + bottom;
    let (lo, hi) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(0.0, f64::max),
    );
    let x_of = |x: f64| match hi > lo {
        true => left + (x - lo) / (hi - lo) * plot_w,
        false => left + plot_w / 2.0,
    };
    let mut svg = open(&caption, height);
    axes(&mut svg, left, TOP + plot_h, "", x_axis);
    for &x in xs {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{x}</text>"#,
            x_of(x),
            TOP + plot_h + 14.0
        );
    }
    for (k, (name, ys, texts)) in series.iter().enumerate() {
        let most = ys.iter().copied().fold(0.0, f64::max);
        let y_of = |y: f64| TOP + plot_h - if most > 0.0 { y / most * plot_h } else { 0.0 };
        let colour = PALETTE[k % PALETTE.len()];
        let points: Vec<String> = xs
            .iter()
            .zip(ys)
            .map(|(&x, &y)| format!("{:.1},{:.1}", x_of(x), y_of(y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for ((&x, &y), text) in xs.iter().zip(ys).zip(texts) {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"><title>{}: {}</title></circle>"#,
                x_of(x),
                y_of(y),
                escape(name),
                escape(text)
            );
        }
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            left + 180.0 * k as f64,
            TOP + plot_h + 36.0,
            left + 180.0 * k as f64 + 14.0,
            TOP + plot_h + 45.0,
            escape(name)
        );
    }
    close(id, caption, svg)
}

fn open(caption: &str, height: f64) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0}" width="{WIDTH}" height="{height:.0}" role="img" aria-label="{}" font-family="system-ui, sans-serif" font-size="12" fill="#222">"##,
        escape(caption)
    )
}

fn close(id: impl Into<String>, caption: String, mut svg: String) -> Chart {
    svg.push_str("</svg>");
    Chart {
        id: id.into(),
        caption,
        svg,
    }
}

/// The two axes meeting at (`left`, `base`), with the top value and the x axis named.
fn axes(svg: &mut String, left: f64, base: f64, top_label: &str, x_axis: &str) {
    let _ = write!(
        svg,
        r##"<path d="M{left} {TOP}V{base}H{:.1}" stroke="#888" fill="none"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">{}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
        WIDTH - 10.0,
        left - 4.0,
        TOP + 10.0,
        escape(top_label),
        (left + WIDTH) / 2.0,
        base + 30.0,
        escape(x_axis),
    );
}

/// Label every n-th column so that labels do not overlap.
fn label_every(columns: usize) -> usize {
    columns.div_ceil(12).max(1)
}

/// The first `chars` characters of `text`, with an ellipsis when cut.
fn shorten(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_end_and_escape_labels() {
        let mut second = Bar::new("<b>", 1.0, "1 s".into());
        second.start = 3.0;
        second.interval = Some((3.5, 4.5));
        let chart = bars("t", "Time", &[Bar::new("scan", 3.0, "3 s".into()), second]);
        assert!(chart.svg.starts_with("<svg xmlns="));
        assert!(chart.svg.ends_with("</svg>"));
        assert!(chart.svg.contains("&lt;b&gt;"));
        // 330 px for 4.5 s: 3 s is 220 px wide.
        assert!(chart.svg.contains(r#"width="220.0""#), "{}", chart.svg);
        assert!(chart.svg.contains("<path d=\"M456.7"));
    }

    #[test]
    fn empty_and_zero_charts_draw_without_dividing_by_zero() {
        for chart in [
            bars("a", "none", &[]),
            bars("b", "zero", &[Bar::new("x", 0.0, "0".into())]),
            columns("c", "hist", &[], "bytes"),
            lines(
                "d",
                "one point",
                &[4.0],
                &[("rows/s", vec![0.0], vec!["0".into()])],
                "workers",
            ),
        ] {
            assert!(
                !chart.svg.contains("NaN") && !chart.svg.contains("inf"),
                "{}",
                chart.svg
            );
        }
    }
}
