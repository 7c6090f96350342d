//! Self-contained HTML pages: the `report.html` that `compare --out`,
//! `sweep` and the attack presets write beside their JSON and SVG files.
//!
//! A page is one file a reader can mail or open offline: the style sheet
//! is in its head and every plot is inline SVG, so it loads nothing. It is
//! written as well-formed XML as well as HTML (every element closed, only
//! the five XML entities), so that an XML parser can check it in the tests
//! and any browser shows it the same way.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plot::Plot;
use crate::report::settings_value;

/// The page's style: readable widths, tables that line up numbers, plots
/// that shrink with the window.
const STYLE: &str =
    "body{font-family:sans-serif;margin:2em auto;max-width:1250px;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f2f2f2}\
td.text,th.text{text-align:left}\
figure{margin:1.5em 0}\
figure svg{max-width:100%;height:auto}\
pre{background:#f8f8f8;padding:.8em;white-space:pre-wrap}\
p.note{color:#555}";

/// `text` with the characters that HTML and XML give meaning to escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A cell of a [`Page::table`]: text cells are left-aligned, figures right.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A name or a list, read from the left.
    Text(String),
    /// A figure, aligned on the right so digits line up.
    Figure(String),
}

impl Cell {
    fn write(&self, tag: &str, out: &mut String) {
        let (class, text) = match self {
            Cell::Text(t) => (" class=\"text\"", t),
            Cell::Figure(t) => ("", t),
        };
        let _ = write!(out, "<{tag}{class}>{}</{tag}>", escape(text));
    }
}

/// An HTML page being written, section by section.
#[derive(Clone, Debug)]
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    /// An empty page whose title (and first heading) is `title`.
    pub fn new(title: &str) -> Page {
        let mut page = Page {
            title: title.to_string(),
            body: String::new(),
        };
        page.heading(1, title);
        page
    }

    /// A heading of `level` 1 to 6.
    pub fn heading(&mut self, level: u8, text: &str) {
        let level = level.clamp(1, 6);
        let _ = writeln!(self.body, "<h{level}>{}</h{level}>", escape(text));
    }

    /// A paragraph of plain text.
    pub fn paragraph(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
    }

    /// A paragraph in the muted style of remarks.
    pub fn note(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p class=\"note\">{}</p>", escape(text));
    }

    /// Text whose line breaks and spacing matter, such as the legend.
    pub fn preformatted(&mut self, text: &str) {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape(text.trim_matches('\n')));
    }

    /// A table with one header row; every row should have as many cells as
    /// `header` (the tests check that every page's tables do).
    pub fn table(&mut self, header: &[Cell], rows: &[Vec<Cell>]) {
        self.body.push_str("<table>\n<thead><tr>");
        for cell in header {
            cell.write("th", &mut self.body);
        }
        self.body.push_str("</tr></thead>\n<tbody>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                cell.write("td", &mut self.body);
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody>\n</table>\n");
    }

    /// The settings a run used, as a two-column table of key and value.
    pub fn settings(&mut self, settings: &BTreeMap<String, serde_json::Value>) {
        let rows: Vec<Vec<Cell>> = settings
            .iter()
            .map(|(k, v)| vec![Cell::Text(k.clone()), Cell::Text(settings_value(v))])
            .collect();
        self.table(
            &[Cell::Text("setting".into()), Cell::Text("value".into())],
            &rows,
        );
    }

    /// A plot, inline, with `caption` saying what to read in it, and the
    /// plot's notes (curves on top of each other) after it in words.
    pub fn figure(&mut self, plot: &Plot, caption: &str) {
        let _ = writeln!(
            self.body,
            "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
            plot.svg.trim(),
            escape(caption)
        );
        for note in &plot.notes {
            self.note(&format!("In the plot, {note}."));
        }
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere_it_goes() {
        let mut page = Page::new("a < b & c");
        page.paragraph("\"quoted\" 'single' <tag>");
        page.table(
            &[Cell::Text("x<y".into())],
            &[vec![Cell::Figure("1&2".into())]],
        );
        let html = page.finish();
        assert!(html.contains("<title>a &lt; b &amp; c</title>"));
        assert!(html.contains("<p>&quot;quoted&quot; &#39;single&#39; &lt;tag&gt;</p>"));
        assert!(html.contains("<th class=\"text\">x&lt;y</th>"));
        assert!(html.contains("<td>1&amp;2</td>"));
        assert!(!html.contains("<tag>"));
    }
}
