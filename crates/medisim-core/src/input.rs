//! Reading the user's input files, one way for every model: bounded in size before anything is
//! held (a path to `/dev/zero` stops at the limit, not when memory runs out), UTF-8 checked
//! with the place of the first bad byte, and TOML errors located by line and column with a
//! window of at most [`WINDOW`] characters of the line, so a 20 MB line cannot flood the
//! terminal.

use std::io::Read;
use std::path::Path;

/// The limit for a settings file (a scenario, a search config, game parameters, a panel
/// configuration or disease model, calibration targets): these are kilobytes; 16 MiB leaves
/// room for a generated Markov model of a few hundred states.
pub const MAX_SETTINGS_BYTES: u64 = 16 << 20;

/// The most values a settings file may hold, counted before it is parsed: the TOML parser keeps
/// about 300 bytes for each (a 16 MiB file of 1.5 million two-number rows peaked at 1.45 GB);
/// a dense 256-state Markov model with eight treatments has about 530,000.
pub const MAX_SETTINGS_VALUES: usize = 1 << 20;

/// Characters of the offending line shown around an error's column.
pub const WINDOW: usize = 160;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// (The I/O error is in the message, not a `source`, so a chain prints it once.)
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path} is larger than {limit} bytes, the limit for {what}")]
    TooLarge {
        path: String,
        limit: u64,
        what: &'static str,
    },
    #[error("{path}: line {line}, column {column}: not UTF-8 text")]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
    },
}

/// At most `limit` bytes of `path` (`what` names the kind of file in the refusal).
pub fn read_bytes(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    let name = || path.display().to_string();
    let io = |error| InputError::Io {
        path: name(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells "too large" without reading a huge file whole.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            path: name(),
            limit,
            what,
        });
    }
    Ok(bytes)
}

/// At most `limit` bytes of `path` as UTF-8 text.
pub fn read_text(path: &Path, limit: u64, what: &'static str) -> Result<String, InputError> {
    let bytes = read_bytes(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // `valid` is UTF-8 by construction.
        let before = std::str::from_utf8(valid).unwrap_or_default();
        let (line, column) = line_column(before, before.len());
        InputError::NotUtf8 {
            path: path.display().to_string(),
            line,
            column,
        }
    })
}

/// A settings file: [`read_text`] with [`MAX_SETTINGS_BYTES`].
pub fn read_settings(path: &Path, what: &'static str) -> Result<String, InputError> {
    read_text(path, MAX_SETTINGS_BYTES, what)
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// The line a CSV record of `text` begins on, counting from 1 as an editor does, for a reader
/// that began reading it at byte `from` (the csv crate's record and error positions, simd-csv's
/// position before a read). Readers skip the blank lines (line ends alone) before a record and
/// count them into its position, so a row's index plus two is its line only in a file without
/// blank lines or line breaks inside quotes. Counted from the text: call it for a refused row.
pub fn csv_record_line(text: &[u8], from: u64) -> u64 {
    let from = usize::try_from(from).map_or(text.len(), |b| b.min(text.len()));
    // A line ends at `\n`, or at a `\r` not followed by one (old Mac files): both readers
    // end a record there.
    let ends_at = |i: usize| match text[i] {
        b'\n' => true,
        b'\r' => text.get(i + 1) != Some(&b'\n'),
        _ => false,
    };
    let before = (0..from).filter(|&i| ends_at(i)).count();
    let blank = (from..text.len())
        .take_while(|&i| matches!(text[i], b'\r' | b'\n'))
        .filter(|&i| ends_at(i))
        .count();
    1 + (before + blank) as u64
}

/// [`csv_record_line`] of a record or error the csv crate positioned; with no position (an I/O
/// error), the line a file without blank lines would give row `row` (0-based, after the header).
pub fn csv_line(text: &str, at: Option<&csv::Position>, row: usize) -> u64 {
    at.map_or(row as u64 + 2, |p| {
        csv_record_line(text.as_bytes(), p.byte())
    })
}

/// A record of `len` fields where the header has `header`.
pub fn csv_fields_refusal(len: u64, header: u64) -> String {
    format!("{len} fields where the header has {header}")
}

/// A CSV reader's refusal in words, without the reader's own position: its line count leaves
/// out the blank lines it skipped, so the caller names the row by [`csv_record_line`]. A cell
/// it could not read is named by its column, `header(i)` naming the i-th from 0 (the reader
/// counts from 0 where a user counts from 1).
pub fn csv_refusal<'h>(e: &csv::Error, header: impl Fn(usize) -> Option<&'h str>) -> String {
    let column = |i: usize| {
        header(i).map_or_else(|| format!("column {}", i + 1), |n| format!("column `{n}`"))
    };
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => csv_fields_refusal(*len, *expected_len),
        csv::ErrorKind::Utf8 { err, .. } => format!("{}: not UTF-8 text", column(err.field())),
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("{}: {}", column(i as usize), err.kind()),
            None => err.kind().to_string(),
        },
        _ => e.to_string(),
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A TOML error as `line L, column C: MESSAGE`, then the line (at most [`WINDOW`] characters
/// around the column, `…` where cut) and a caret under the column.
pub fn toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end();
    let Some(span) = e.span() else {
        return message.to_string();
    };
    let (line, column) = line_column(text, span.start);
    let source_line = text.lines().nth(line - 1).unwrap_or_default();
    let (shown, caret) = window(source_line, column - 1);
    format!(
        "line {line}, column {column}: {message}\n  | {shown}\n  | {}^",
        " ".repeat(caret)
    )
}

/// Read a settings file's text as `T`: a syntax or type error as [`toml_error`] gives it, and an
/// array longer than the field it fills refused by key. (serde reads a fixed-length array from
/// the first elements of a longer one and drops the rest: `k = [1, 2, nan]` read as `[1, 2]`,
/// exit 0, where `--set` refused the same value.)
pub fn from_toml<T: serde::de::DeserializeOwned + serde::Serialize>(
    text: &str,
) -> Result<T, String> {
    check_values(text)?;
    let parsed: T = toml::from_str(text).map_err(|e| toml_error(&e, text))?;
    let raw: toml::Table = toml::from_str(text).map_err(|e| toml_error(&e, text))?;
    match toml::Value::try_from(&parsed) {
        Ok(read) => match longer_array(&toml::Value::Table(raw), &read, "") {
            Some(m) => Err(m),
            None => Ok(parsed),
        },
        Err(_) => Ok(parsed),
    }
}

/// Refuse a text with more than [`MAX_SETTINGS_VALUES`] values before the parser holds them. The
/// count is an upper bound read off the separators (`,` `=` `[` `{`), so it never undercounts.
pub fn check_values(text: &str) -> Result<(), String> {
    let values = text
        .bytes()
        .filter(|b| matches!(b, b',' | b'=' | b'[' | b'{'))
        .count();
    if values > MAX_SETTINGS_VALUES {
        return Err(format!(
            "about {values} values (counting `,` `=` `[` `{{`); a settings file holds at most \
             {MAX_SETTINGS_VALUES}"
        ));
    }
    Ok(())
}

/// The first array of `raw` with more elements than the same key holds in `read`, as a message.
fn longer_array(raw: &toml::Value, read: &toml::Value, path: &str) -> Option<String> {
    use toml::Value;
    let key = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (raw, read) {
        (Value::Table(r), Value::Table(d)) => r
            .iter()
            .find_map(|(k, v)| d.get(k).and_then(|w| longer_array(v, w, &key(k)))),
        (Value::Array(r), Value::Array(d)) if r.len() > d.len() => Some(format!(
            "`{path}` has {} elements; it takes {}",
            r.len(),
            d.len()
        )),
        (Value::Array(r), Value::Array(d)) => r
            .iter()
            .zip(d)
            .enumerate()
            .find_map(|(i, (v, w))| longer_array(v, w, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The longest name a settings file may give (a model, a state, a treatment, a regime).
pub const MAX_NAME_CHARS: usize = 200;

/// Refuse a name that is empty, longer than [`MAX_NAME_CHARS`] or holds a control character:
/// names are printed in tables and headers (a 2 MB state name was echoed whole on success,
/// and a line break in one breaks a table's row).
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(format!(
            "{what} `{}` has {n} characters; a name has 1 to {MAX_NAME_CHARS}",
            excerpt(name)
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{what} `{}` holds the control character {c:?}; a name is one line of text",
            excerpt(name)
        ));
    }
    Ok(())
}

/// The longest line of an error message as printed, in characters, and the most lines.
pub const MESSAGE_LINE: usize = 480;
pub const MESSAGE_LINES: usize = 100;

/// An error message bounded for the terminal: each line at most [`MESSAGE_LINE`] characters
/// (its start and end kept, the middle cut and counted) and at most [`MESSAGE_LINES`] lines.
/// Every command's errors print through it, so no input echoed in a message (a 5 MB key, a
/// row of a million entries) floods the terminal, whichever check quoted it.
pub fn bounded_message(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(MESSAGE_LINES)
        .map(|line| {
            let n = line.chars().count();
            if n <= MESSAGE_LINE {
                return line.to_string();
            }
            let half = MESSAGE_LINE / 2;
            let head: String = line.chars().take(half).collect();
            let tail: String = line.chars().skip(n - half).collect();
            format!("{head} … [{} characters cut] … {tail}", n - 2 * half)
        })
        .collect();
    if lines.len() > MESSAGE_LINES {
        out.push(format!(
            "… [{} more lines cut]",
            lines.len() - MESSAGE_LINES
        ));
    }
    out.join("\n")
}

/// A value as a message quotes it: at most [`WINDOW`] characters, `…` where cut (a CSV cell of
/// forty million digits printed forty million bytes of error).
pub fn excerpt(value: &str) -> String {
    window(value, 0).0
}

/// At most [`WINDOW`] characters of `line` around character `at`, and where `at` falls in them.
fn window(line: &str, at: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let start = at.saturating_sub(WINDOW / 2).min(chars.len());
    let end = (start + WINDOW).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = at - start;
    if start > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_and_one_line() {
        assert!(check_name("state", "Macular Edema").is_ok());
        let long = check_name("state", &"s".repeat(2_000_000)).unwrap_err();
        assert!(
            long.contains("2000000 characters") && long.len() < 400,
            "{long}"
        );
        assert!(check_name("state", "")
            .unwrap_err()
            .contains("0 characters"));
        assert!(check_name("state", "a\nb")
            .unwrap_err()
            .contains("control character"));
    }

    #[test]
    fn a_message_is_bounded_in_line_length_and_count() {
        let key = "k".repeat(5_000_000);
        let m = bounded_message(&format!("unknown key `{key}`: choose one of a, b"));
        assert!(m.len() < 2 * MESSAGE_LINE, "{} bytes", m.len());
        assert!(m.starts_with("unknown key `kkk") && m.ends_with("choose one of a, b"));
        assert!(m.contains("characters cut]"), "{m}");
        let many = "line\n".repeat(10_000);
        let m = bounded_message(&many);
        assert_eq!(m.lines().count(), MESSAGE_LINES + 1);
        assert!(m.ends_with("[9900 more lines cut]"));
        assert_eq!(bounded_message("short\ntwo"), "short\ntwo");
    }

    #[test]
    fn a_settings_file_with_too_many_values_is_refused_before_parsing() {
        let row = "[0.5, 0.5],";
        let text = format!("x = [{}]", row.repeat(MAX_SETTINGS_VALUES / 3 + 1));
        let e = from_toml::<toml::Table>(&text).unwrap_err();
        assert!(e.contains("a settings file holds at most 1048576"), "{e}");
        let fits = format!("x = [{}]", row.repeat(MAX_SETTINGS_VALUES / 3 - 1));
        assert!(from_toml::<toml::Table>(&fits).is_ok());
    }

    #[test]
    fn a_file_past_the_limit_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.toml");
        std::fs::write(&p, vec![b'a'; 101]).unwrap();
        let e = read_text(&p, 100, "a test file").unwrap_err().to_string();
        assert!(
            e.contains("larger than 100 bytes, the limit for a test file"),
            "{e}"
        );
        assert_eq!(read_text(&p, 101, "x").unwrap().len(), 101);
        if Path::new("/dev/zero").exists() {
            let e = read_settings(Path::new("/dev/zero"), "a scenario").unwrap_err();
            assert!(matches!(e, InputError::TooLarge { .. }));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, b"a = 1\nb\xc3\xa9 = \xff\n").unwrap();
        let e = read_settings(&p, "x").unwrap_err().to_string();
        assert!(e.ends_with("line 2, column 6: not UTF-8 text"), "{e}");
    }

    #[test]
    fn a_toml_error_on_a_huge_line_shows_a_bounded_window_at_its_column() {
        let text = format!("ok = 1\nlong = [{}x]\n", "1, ".repeat(1_000_000));
        let e = toml::from_str::<toml::Table>(&text).unwrap_err();
        let m = toml_error(&e, &text);
        let column = text.lines().nth(1).unwrap().find('x').unwrap() + 1;
        assert!(m.starts_with(&format!("line 2, column {column}: ")), "{m}");
        assert!(m.len() < 2 * WINDOW + 200, "{} bytes", m.len());
        // The message may take several lines; the window and the caret are the last two.
        let lines: Vec<&str> = m.lines().rev().take(2).collect();
        let caret = lines[0].chars().count() - 1;
        assert_eq!(lines[1].chars().nth(caret), Some('x'), "{m}");
        let short = toml::from_str::<toml::Table>("a = \"x\nb = 2").unwrap_err();
        assert!(toml_error(&short, "a = \"x\nb = 2").starts_with("line 1, column "));
    }
}
