//! `report.html`: `report.md` as one self-contained page.
//!
//! The Markdown is turned into HTML (pulldown-cmark, tables on), and each chart image it
//! names (`charts/NAME.png`) is replaced by the chart's SVG, inline, so the page has no other
//! file to load: it reads offline, can be mailed, and prints. Styles are inline too; nothing
//! is fetched from the network.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The page's style: readable widths, tables with rules, charts scaled to the column.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',\
sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}\
h1,h2,h3{line-height:1.2}table{border-collapse:collapse;margin:1em 0;font-size:0.92em}\
th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
th{background:#f2f2f2}td:not(:first-child){font-variant-numeric:tabular-nums}\
figure{margin:1.5em 0}figure svg{width:100%;height:auto;display:block}\
figcaption{font-size:0.9em;color:#444;margin-top:0.3em}code{font-size:0.92em}";

/// The HTML page of `markdown` (a run's `report.md`), titled `title`, with the SVG of each
/// chart (`charts`: name and SVG bytes) inline where the Markdown shows its PNG.
pub fn report_html(title: &str, markdown: &str, charts: &[(String, Vec<u8>)]) -> Vec<u8> {
    // The Markdown points to each chart's SVG file beside it; here the SVG is inline, so
    // those pointers go (the page must not need the files next to it).
    let markdown = without_vector_links(markdown);
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    let mut events = Vec::new();
    let mut image: Option<String> = None;
    for ev in Parser::new_ext(&markdown, opts) {
        match (&image, ev) {
            (None, Event::Start(Tag::Image { dest_url, .. })) => {
                image = Some(dest_url.to_string());
            }
            (Some(url), Event::End(TagEnd::Image)) => {
                let html = figure(url, charts);
                events.push(Event::Html(html.into()));
                image = None;
            }
            // The image's alt text: inside the figure's title already.
            (Some(_), _) => {}
            (None, ev) => events.push(ev),
        }
    }
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events.into_iter());
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta \
         name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta \
         name=\"generator\" content=\"capsim {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    )
    .into_bytes()
}

/// The `<figure>` holding the chart a Markdown image names (`charts/NAME.png`): its SVG
/// inline; a link if no such chart was drawn.
fn figure(url: &str, charts: &[(String, Vec<u8>)]) -> String {
    let name = url
        .strip_prefix("charts/")
        .and_then(|n| n.strip_suffix(".png"))
        .unwrap_or(url);
    match charts.iter().find(|(n, _)| n == name) {
        Some((_, svg)) => {
            let svg = String::from_utf8_lossy(svg);
            // The XML declaration is not allowed inside HTML.
            let start = svg.find("<svg").unwrap_or(0);
            format!("<figure>{}</figure>\n", &svg[start..])
        }
        None => format!("<p><a href=\"{}\">{}</a></p>\n", escape(url), escape(url)),
    }
}

/// `text` without report.md's ` (Vector version: [charts/X.svg](charts/X.svg).)` notes.
fn without_vector_links(text: &str) -> String {
    const OPEN: &str = " (Vector version: [charts/";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        match rest[i..].find(".svg).)") {
            Some(j) => rest = &rest[i + j + ".svg).)".len()..],
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_inline_and_tables_are_tables() {
        let md = "# Run\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![Supply](charts/supply.png)\n\n\
                  What it shows. (Vector version: [charts/supply.svg](charts/supply.svg).)\n\n\
                  ![Gone](charts/gone.png)\n";
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text>x</text></svg>\n";
        let html = String::from_utf8(report_html(
            "a <b> run",
            md,
            &[("supply".into(), svg.to_vec())],
        ))
        .unwrap();
        assert!(html.contains("<title>a &lt;b&gt; run</title>"));
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>2</td>"), "{html}");
        assert!(
            html.contains("<figure><svg xmlns=\"http://www.w3.org/2000/svg\"><text>x</text></svg>")
        );
        assert!(!html.contains("<?xml"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("<a href=\"charts/gone.png\">"), "{html}");
        assert!(html.contains("<p>What it shows.</p>"), "{html}");
        assert!(!html.contains("supply.svg"), "{html}");
    }
}
