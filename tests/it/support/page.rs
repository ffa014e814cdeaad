//! Reading a `--timeline` page back as a person would see it: parsed by an HTML parser
//! (html5ever, through scraper), and drawn by headless Chromium (Debian's `chromium`, which
//! `scripts/setup.sh` installs) into a screenshot whose pixels are looked at.
use std::fs;
use std::path::Path;

use scraper::{ElementRef, Html, Selector};

use super::invocation::Invocation;

/// A page parsed without a single parse error.
pub fn parse(path: &Path) -> Html {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = Html::parse_document(&text);
    assert!(
        doc.errors.is_empty(),
        "{} does not parse cleanly: {:?}",
        path.display(),
        doc.errors
    );
    doc
}

/// The elements `css` selects.
pub fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

/// An attribute of `e` as a number.
pub fn number(e: &ElementRef<'_>, attribute: &str) -> f64 {
    e.value()
        .attr(attribute)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number `{attribute}` on {:?}", e.value()))
}

/// The screen a page is drawn on.
pub const WINDOW: (u32, u32) = (1400, 900);

/// Draws `page` with headless Chromium into `png` (a fresh profile, no network of its own),
/// from the hermetic environment; a hang fails at [`HANG`](super::invocation::HANG).
pub fn screenshot(page: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let page = fs::canonicalize(page).unwrap();
    let mut run = Invocation::program("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("file://{}", page.display()))
        .start(logs.path(), "chromium");
    let status = run.wait();
    assert!(status.success(), "chromium: {status}\n{}", run.logs());
    assert!(png.is_file(), "chromium wrote no screenshot");
}

/// A decoded screenshot: width, height, RGB pixels row by row.
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<[u8; 3]>,
}

impl Picture {
    /// Decodes the PNG at `path` (8-bit RGB or RGBA, what Chromium writes).
    pub fn open(path: &Path) -> Picture {
        let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "{info:?}");
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("a screenshot in {other:?}"),
        };
        let rgb = buf[..info.buffer_size()]
            .chunks(channels)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        Picture {
            width: info.width as usize,
            height: info.height as usize,
            rgb,
        }
    }

    /// The pixel at (x, y).
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        self.rgb[y * self.width + x]
    }

    /// How many different colours it has.
    pub fn colours(&self) -> usize {
        let mut all: Vec<[u8; 3]> = self.rgb.clone();
        all.sort_unstable();
        all.dedup();
        all.len()
    }

    /// The lowest horizontal run of `colour` whose length is within `lengths`: its left end
    /// and its row (the bottom-left corner of the lowest shape of that colour and width).
    pub fn lowest_run(
        &self,
        colour: [u8; 3],
        lengths: std::ops::RangeInclusive<usize>,
    ) -> Option<(usize, usize)> {
        for y in (0..self.height).rev() {
            let mut run = 0;
            for x in 0..=self.width {
                if x < self.width && near(self.at(x, y), colour) {
                    run += 1;
                    continue;
                }
                if lengths.contains(&run) {
                    return Some((x - run, y));
                }
                run = 0;
            }
        }
        None
    }
}

/// Whether two colours are the same up to anti-aliasing and rounding.
pub fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6)
}

/// A `#rrggbb` colour.
pub fn hex(s: &str) -> [u8; 3] {
    let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}
