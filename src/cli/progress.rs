//! Progress on stderr for the long commands (`compare`, `sweep`, the
//! attack presets, `stress`).
//!
//! On a terminal it is a bar redrawn in place. When stderr is a file or a
//! pipe (a batch job, `2> log`), a bar would be invisible or a mess of
//! carriage returns, and a silent run of minutes looks hung, so plain lines
//! go out instead, at most one every [`LINE_EVERY`]. `--quiet` silences
//! both. Progress never reaches stdout, so reports stay byte-identical.

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Least time between two progress lines when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// A progress bar over `total` steps of `unit` (such as "lookups"), drawn
/// as the module says.
pub fn progress(total: u64, quiet: bool, unit: &str) -> ProgressBar {
    let terminal = io::stderr().is_terminal();
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else if terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::term_like_with_hz(Box::new(Lines::default()), 1)
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    let template = if terminal {
        format!("{{msg:>12}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{elapsed}}, eta {{eta}})")
    } else {
        format!("progress ({{msg}}): {{pos}}/{{len}} {unit} ({{percent}} %, {{elapsed}} so far, eta {{eta}})")
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Progress as whole lines on stderr, the first at once and then at most
/// one every [`LINE_EVERY`]; the cursor moves a bar would make are
/// ignored.
#[derive(Debug, Default)]
struct Lines {
    last: Mutex<Option<Instant>>,
}

impl Lines {
    fn emit(&self, s: &str) -> io::Result<()> {
        if s.trim().is_empty() {
            return Ok(());
        }
        let Ok(mut last) = self.last.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < LINE_EVERY) {
            return Ok(());
        }
        *last = Some(now);
        writeln!(io::stderr(), "{}", s.trim_end())
    }
}

impl TermLike for Lines {
    fn width(&self) -> u16 {
        120
    }

    fn move_cursor_up(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.emit(s)
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.emit(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        Ok(())
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}
