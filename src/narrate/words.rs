//! Small helpers that put numbers and lists into words.

use std::io::{self, Write};
use std::time::Duration;

/// The indent of the lines that continue an event, under its time column.
pub(super) const COL: &str = "          ";

/// `60 min`, or `90 s` for a duration that is not whole minutes.
pub(super) fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

/// Print `items` four to a line, each line starting with `indent`: short
/// ids with distances are about 20 characters, so four fit a terminal.
pub(super) fn list(out: &mut impl Write, indent: &str, items: &[String]) -> io::Result<()> {
    for line in items.chunks(4) {
        writeln!(out, "{indent}{}", line.join(", "))?;
    }
    Ok(())
}

/// `1 request`, `2 requests`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `1st`, `2nd`, `11th`, `23rd`.
pub(super) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `a, b and c`.
pub(super) fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(plural(1, "node"), "1 node");
        assert_eq!(plural(2, "node"), "2 nodes");
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(12), "12th");
        assert_eq!(ordinal(23), "23rd");
        assert_eq!(
            join_words(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(minutes(Duration::from_secs(3600)), "60 min");
        assert_eq!(minutes(Duration::from_secs(90)), "90 s");
    }
}
