//! The timeline as an inline SVG stacked bar chart, with markers; hover tooltips are SVG
//! `<title>` elements (no script).

use std::fmt::Write;

use binlog::report::{Marker, MarkerKind, Report};

use super::units::{esc, time, time_fmt};

/// Colours of the drawn tables, then "other", then "no rows".
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c9c9c", "#d4c7b0",
];

/// The colour of series `i` of `n` (the last one or two being "other" / "no rows").
pub fn colour(report: &Report, i: usize) -> &'static str {
    use binlog::report::Series;
    match report.timeline.series.get(i) {
        Some(Series::Other) => PALETTE[8],
        Some(Series::NoRows) => PALETTE[9],
        _ => PALETTE[i % 8],
    }
}

const W: f64 = 1100.0;
const H: f64 = 290.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 40.0;

/// The largest marker count drawn per kind (all are listed in the page's tables).
const MAX_DRAWN_MARKERS: usize = 300;

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// A stacked bar chart of `values(bucket) -> per-series amounts`, labelled by `fmt`.
pub fn chart(
    report: &Report,
    id: &str,
    label: &str,
    values: &dyn Fn(usize) -> Vec<u64>,
    fmt: &dyn Fn(u64) -> String,
    file_names: &[String],
) -> String {
    let tl = &report.timeline;
    let n = tl.buckets.len().max(1);
    let w = f64::from(tl.width.max(1));
    let start0 = tl.buckets.first().map_or(0, |b| b.start);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let bw = plot_w / n as f64;
    let totals: Vec<u64> = (0..tl.buckets.len())
        .map(|k| values(k).iter().sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    // Axis maximum: a round number for round gridlines.
    let ymax = nice_ceiling(max as f64);
    let y = |v: f64| TOP + plot_h - v / ymax * plot_h;
    let x_of = |t: i64| LEFT + (t - start0) as f64 / w * bw;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(label)
    );
    // Gridlines and the y axis labels.
    for k in 0..=4 {
        let v = ymax * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}"/><text class="ylab" x="{}" y="{:.1}">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            esc(&fmt(v.round() as u64))
        );
    }
    // Gaps first (under the bars).
    for m in report
        .markers
        .iter()
        .filter(|m| matches!(m.kind, MarkerKind::Gap(_)))
        .take(MAX_DRAWN_MARKERS)
    {
        if let MarkerKind::Gap(g) = &m.kind {
            let clamp = |x: f64| x.clamp(LEFT, W - RIGHT);
            let (x1, x2) = (clamp(x_of(i64::from(g.from))), clamp(x_of(i64::from(g.to))));
            if x2 - x1 < 0.5 {
                continue;
            }
            let _ = write!(
                s,
                r#"<rect class="gap" x="{x1:.1}" y="{TOP}" width="{:.1}" height="{plot_h}"><title>{}</title></rect>"#,
                (x2 - x1).max(1.0),
                esc(&format!(
                    "gap: no events for {} (from {} to {})",
                    super::units::duration(i64::from(g.to - g.from)),
                    time(i64::from(g.from)),
                    time(i64::from(g.to))
                ))
            );
        }
    }
    // The bars.
    for (k, b) in tl.buckets.iter().enumerate() {
        let vals = values(k);
        let total: u64 = vals.iter().sum();
        if total == 0 {
            continue;
        }
        let x = LEFT + k as f64 * bw;
        let mut tip = format!(
            "{} – {}\n{} transactions, {} in all",
            time(b.start),
            time_fmt(b.start + i64::from(tl.width), "%H:%M:%S"),
            b.transactions,
            fmt(total)
        );
        for (i, v) in vals.iter().enumerate() {
            if *v > 0 {
                let _ = write!(
                    tip,
                    "\n{}: {}",
                    super::json::series_name(&tl.series[i]),
                    fmt(*v)
                );
            }
        }
        let _ = write!(s, "<g class=\"bar\"><title>{}</title>", esc(&tip));
        let mut acc = 0u64;
        for (i, v) in vals.iter().enumerate() {
            if *v == 0 {
                continue;
            }
            let (y1, y2) = (y((acc + v) as f64), y(acc as f64));
            acc += v;
            let _ = write!(
                s,
                r#"<rect x="{:.2}" y="{y1:.2}" width="{:.2}" height="{:.2}" fill="{}"/>"#,
                x + bw * 0.08,
                (bw * 0.84).max(0.5),
                (y2 - y1).max(0.3),
                colour(report, i)
            );
        }
        s.push_str("</g>");
    }
    // The x axis and its time labels.
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}"/>"#,
        W - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    );
    let span = tl.buckets.len() as i64 * i64::from(tl.width);
    let tfmt = if span > 86400 {
        "%m-%d %H:%M"
    } else if tl.width < 60 {
        "%H:%M:%S"
    } else {
        "%H:%M"
    };
    let step = n.div_ceil(7).max(1);
    for k in (0..tl.buckets.len()).step_by(step) {
        let t = tl.buckets[k].start;
        let xx = LEFT + k as f64 * bw;
        let _ = write!(
            s,
            r#"<line class="tick" x1="{xx:.1}" x2="{xx:.1}" y1="{:.1}" y2="{:.1}"/><text class="xlab" x="{xx:.1}" y="{:.1}">{}</text>"#,
            TOP + plot_h,
            TOP + plot_h + 5.0,
            TOP + plot_h + 18.0,
            esc(&time_fmt(t, tfmt))
        );
    }
    // Markers over the bars.
    let mut drawn = [0usize; 3];
    for m in &report.markers {
        let (class, letter, slot) = match &m.kind {
            MarkerKind::Ddl(_) => ("m-ddl", "D".to_string(), 0),
            MarkerKind::Rotation { .. } => ("m-rot", "R".to_string(), 1),
            MarkerKind::BigTransaction(rank) => ("m-big", format!("#{rank}"), 2),
            MarkerKind::Gap(_) => continue,
        };
        let xx = x_of(i64::from(m.time)) + bw / 2.0;
        // Markers outside the drawn span (left-out times) are only listed.
        if drawn[slot] >= MAX_DRAWN_MARKERS || !(LEFT..=W - RIGHT).contains(&xx) {
            continue;
        }
        drawn[slot] += 1;
        let tip = marker_text(m, report, file_names);
        let ly = match slot {
            0 => TOP - 14.0,
            1 => TOP - 4.0,
            _ => TOP - 14.0,
        };
        let _ = write!(
            s,
            r#"<g class="marker {class}"><title>{}</title><line x1="{xx:.1}" x2="{xx:.1}" y1="{:.1}" y2="{:.1}"/><text x="{xx:.1}" y="{ly:.1}">{}</text></g>"#,
            esc(&tip),
            TOP - 2.0,
            TOP + plot_h,
            esc(&letter)
        );
    }
    s.push_str("</svg>");
    s
}

/// One line saying what a marker marks.
pub fn marker_text(m: &Marker, report: &Report, file_names: &[String]) -> String {
    let at = time(i64::from(m.time));
    let file = &file_names[m.file];
    match &m.kind {
        MarkerKind::Ddl(d) => format!("DDL at {at}, {file}:{}: {}", d.start, d.text),
        MarkerKind::Rotation { from } => {
            format!("rotation at {at}: {} → {file}", file_names[*from])
        }
        MarkerKind::Gap(g) => format!(
            "gap of {} before {at} ({file}:{})",
            super::units::duration(i64::from(g.to - g.from)),
            g.position
        ),
        MarkerKind::BigTransaction(rank) => {
            let r = &report.top[rank - 1];
            format!(
                "#{rank} biggest transaction at {at}: {}, {}, {file}:{}-{}",
                super::units::bytes(r.stats.bytes()),
                super::units::rows(r.stats.rows),
                r.stats.start,
                r.stats.end
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nice_ceilings() {
        assert_eq!(super::nice_ceiling(0.0), 1.0);
        assert_eq!(super::nice_ceiling(7.0), 10.0);
        assert_eq!(super::nice_ceiling(1500.0), 2000.0);
        assert_eq!(super::nice_ceiling(2000.0), 2000.0);
    }
}
