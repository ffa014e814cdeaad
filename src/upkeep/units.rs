//! The sizes and ages `cache prune` takes (`10GiB`, `500MB`, `30d`, `12h`), and sizes for
//! people.

use std::time::Duration;

/// The units of a size: decimal as disks and cloud bills count, binary as `du -h` does.
const UNITS: &[(&str, u64)] = &[
    ("b", 1),
    ("k", 1000),
    ("kb", 1000),
    ("m", 1000 * 1000),
    ("mb", 1000 * 1000),
    ("g", 1000 * 1000 * 1000),
    ("gb", 1000 * 1000 * 1000),
    ("t", 1000 * 1000 * 1000 * 1000),
    ("tb", 1000 * 1000 * 1000 * 1000),
    ("ki", 1 << 10),
    ("kib", 1 << 10),
    ("mi", 1 << 20),
    ("mib", 1 << 20),
    ("gi", 1 << 30),
    ("gib", 1 << 30),
    ("ti", 1 << 40),
    ("tib", 1 << 40),
];

/// Parses a size: a number (decimals allowed) and an optional unit (`B`, `KB`, `MB`, `GB`,
/// `TB`, `KiB`, `MiB`, `GiB`, `TiB`, any case); a bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{text}` is not a size: give a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), such as 10GiB or 500MB"
        )
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let factor = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, f)| *f)
            .ok_or_else(bad)?
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(bad());
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') {
        return Err(bad());
    }
    let whole: u64 = whole.parse().map_err(|_| bad())?;
    let mut bytes = whole.checked_mul(factor).ok_or_else(|| too_large(text))?;
    if !fraction.is_empty() {
        let digits = fraction.len().min(9) as u32;
        let part: u64 = fraction[..digits as usize].parse().map_err(|_| bad())?;
        let scale = 10u64.pow(digits);
        bytes = bytes
            .checked_add((u128::from(part) * u128::from(factor) / u128::from(scale)) as u64)
            .ok_or_else(|| too_large(text))?;
    }
    Ok(bytes)
}

fn too_large(text: &str) -> String {
    format!("`{text}` is larger than any cache (at most 16 EiB)")
}

/// Parses an age: a number and a unit (`s`, `m`, `h`, `d`, `w`; humantime's words too), such
/// as `30d`, `12h` or `1h 30m`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` has no unit: give one, such as {t}d (days), {t}h (hours) or {t}s (seconds)"
        ));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("`{text}` is not an age ({e}): give a number and a unit, such as 30d, 12h or 90m")
    })
}

/// A size for people: bytes below 1 KiB, else one decimal in binary units.
pub fn human(bytes: u64) -> String {
    const NAMES: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < NAMES.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", NAMES[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("500mb"), Ok(500_000_000));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1K"), Ok(1000));
        for bad in ["", "GB", "10XB", "-1GB", "1.2.3MB", ".5GB", "5.GB", "ten"] {
            let e = parse_size(bad).unwrap_err();
            assert!(
                e.contains("is not a size") && e.contains("10GiB"),
                "{bad}: {e}"
            );
        }
        assert!(parse_size("99999999999TiB").unwrap_err().contains("larger"));
    }

    #[test]
    fn ages_need_a_unit() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_age("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert!(parse_age("30").unwrap_err().contains("30d"));
        assert!(parse_age("soon").unwrap_err().contains("is not an age"));
        assert!(parse_age("").unwrap_err().contains("is not an age"));
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(10 << 30), "10.0 GiB");
    }
}
