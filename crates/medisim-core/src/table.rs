//! Tidy tables, the one way every model writes a table: CSV, Parquet, JSON or aligned text from
//! one description, so a pandas, polars or R user gets the same columns in every format and no
//! caller formats a number or quotes a field by hand. A table is a list of named, typed columns
//! of equal length, built column by column or from serialisable records
//! ([`Table::from_records`]); the Parquet file carries the types (text, 64-bit float, unsigned
//! count, flag), where the CSV carries the same values as text. Numbers are written as Rust's
//! `Display` writes them — the shortest text that reads back to the same float — everywhere.

use crate::row::{self, Cell};
use crate::rundir::{write_atomic, RunDirError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Text(Vec<String>),
    Real(Vec<f64>),
    /// Reals where some rows have none (an empty CSV field, a Parquet null, a JSON null).
    MaybeReal(Vec<Option<f64>>),
    Count(Vec<u64>),
    Flag(Vec<bool>),
}

/// `x` exactly as `x.to_string()` writes it, appended to `out`: an integral value below 2⁵³
/// (counts, beds, periods: most of a trace) through itoa, a fractional one in ryu's decimal
/// range through zmij, anything else through `Display`. In this range zmij writes ryu's text
/// (its own test compares the two on 10⁸ random values) in fewer instructions. Both ryu and `Display` write
/// the shortest decimal that reads back to `x` and, of several, the nearest; they differ only
/// where two shortest decimals are equally near (ryu rounds to even, `Display` away from zero:
/// `-694100505.8476563`). Such a tie needs `x`'s exact decimal expansion to be one digit longer
/// than the shortest, so at most 18 significant digits; [`may_tie`] sends every such `x` to
/// `Display`. (Interval ends, where the two might also differ, are never short decimals for
/// a fractional `x`: the proof is on `may_tie`.)
pub(crate) fn push_real(out: &mut Vec<u8>, x: f64) {
    use std::io::Write as _;
    // `x as i64` truncates in one instruction where `trunc` is a library call on the baseline
    // x86-64 target; below 2⁵³ in magnitude both say whether `x` is whole (NaN fails both).
    // (Inlining this function, whole or its test for a whole number alone, into the serde walk
    // costs more instructions than the call: measured on the trace.)
    if (x as i64) as f64 == x && x.abs() < 9_007_199_254_740_992.0 {
        if x == 0.0 && x.is_sign_negative() {
            out.extend_from_slice(b"-0");
        } else if x >= 0.0 {
            push_count(out, x as u64);
        } else {
            out.extend_from_slice(itoa::Buffer::new().format(x as i64).as_bytes());
        }
    } else if (1e-5..1e16).contains(&x.abs()) && !may_tie(x) {
        // ryu (so zmij) writes plain decimals (no exponent) for 1e-5 ≤ |x| < 1e16, as
        // `Display` does.
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        let _ = write!(out, "{x}");
    }
}

/// Whether the finite, fractional `x` has an exact decimal expansion of at most 18 significant
/// digits, where two shortest decimals (17 digits at most) could be equally near it. With
/// `x = m·2⁻ᵏ`, `m` odd and `k > 0`, the expansion is `m·5ᵏ / 10ᵏ`, whose digits are those of
/// `m·5ᵏ` (odd, so no trailing zero). The ends of `x`'s rounding interval are
/// `(2M ± 1)·2^(E−1)` with `M ≥ 2⁵²` the full significand and `E < 0` (at a power of two the
/// lower end is `(4M − 1)·2^(E−2)`), odd multiples of a negative power of two, so their digits
/// are those of `(2M ± 1)·5^(1−E) ≥ (2⁵³ − 1)·25 > 10¹⁷` (or of `(4M − 1)·5^(2−E)`, larger):
/// never a candidate of 17 digits or fewer.
fn may_tie(x: f64) -> bool {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if exponent == 0 && fraction == 0 {
        return true;
    }
    // The significand's trailing zeros: bit 52 (implicit in a normal `x`; a subnormal one has
    // a non-zero fraction below it) bounds them, so no branch on the kind of `x` is needed.
    let zeros = (fraction | (1 << 52)).trailing_zeros() as i32;
    // x = m·2⁻ᵏ with m the significand without its trailing zeros; the exponent of the
    // significand's last bit is `exponent − 1075`, or −1074 for a subnormal `x`.
    let k = 1075 - exponent.max(1) - zeros;
    // 5²⁷ > 10¹⁸ already; a non-positive k is an integer, which never comes here.
    if !(1..=26).contains(&k) {
        return k <= 0;
    }
    let significand = if exponent == 0 {
        fraction
    } else {
        fraction | (1 << 52)
    };
    u128::from(significand >> zeros) * 5u128.pow(k as u32) < 1_000_000_000_000_000_000
}

/// A CSV field as the csv crate's writer writes it (`QuoteStyle::Necessary`): quoted, with
/// quotes doubled, when it holds a comma, a quote or a line break. Only text can; numbers, counts
/// and flags are written bare.
fn push_field(out: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        // Bytes, not characters: a quote is one byte and no other character's bytes are.
        for &b in text.as_bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// Ends the record begun at `start`, whose every field is followed by a separator (so no field
/// asks whether it is the first): the last separator goes; a record with no bytes (one empty
/// field) is written `""`, as the csv crate writes it, so that it is read back as a record.
fn end_line(out: &mut Vec<u8>, start: usize) {
    if out.len() > start {
        out.pop();
    }
    if out.len() == start {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
}

/// The header line: the column names as fields.
fn push_header<'n>(out: &mut Vec<u8>, names: impl Iterator<Item = &'n str>) {
    let start = out.len();
    for name in names {
        push_field(out, name);
        out.push(b',');
    }
    end_line(out, start);
}

/// The columns of a run of records: the first record's field names, which every later one must
/// repeat, each with what a sink keeps for its column (one vector, so one bounds check a cell).
struct Header<C> {
    columns: Vec<(&'static str, C)>,
    record: usize,
    column: usize,
}

impl<C: Default> Header<C> {
    fn new() -> Self {
        Header {
            columns: Vec::new(),
            record: 0,
            column: 0,
        }
    }

    /// What the sink keeps for the current record's next field, `name`.
    #[inline(always)]
    fn next(&mut self, name: &'static str) -> Result<&mut C, row::NotFlat> {
        let k = self.column;
        self.column += 1;
        // The same derive hands out the same static name, so a later record's field is found
        // by pointer; the first record, and a name that is only equal as text, take the slow way.
        if matches!(self.columns.get(k), Some((n, _)) if std::ptr::eq(*n, name)) {
            return Ok(&mut self.columns[k].1);
        }
        self.next_slow(k, name)
    }

    /// A field of the first record (its name makes a column), or of a later one whose name is
    /// not the first record's static text.
    #[cold]
    #[inline(never)]
    fn next_slow(&mut self, k: usize, name: &'static str) -> Result<&mut C, row::NotFlat> {
        if self.record == 0 {
            self.columns.push((name, C::default()));
            let last = self.columns.len() - 1;
            return Ok(&mut self.columns[last].1);
        }
        match self.columns.get_mut(k) {
            Some((n, c)) if *n == name => Ok(c),
            _ => Err(other_fields(self.record)),
        }
    }

    fn other(&self) -> row::NotFlat {
        other_fields(self.record)
    }
}

fn other_fields(record: usize) -> row::NotFlat {
    row::NotFlat(format!("record {record} has other fields than record 0"))
}

/// A sink that walks records whose field names it checks.
trait Rows: row::RowSink {
    type Column: Default;
    fn header(&mut self) -> &mut Header<Self::Column>;
    /// Called before each record (whether or not it has fields).
    fn begin(&mut self) {}
}

/// Walks the records' fields into `sink`; every record must have the first one's fields.
fn each_row<T: serde::Serialize, S: Rows>(records: &[T], sink: &mut S) -> Result<(), TableError> {
    for (i, record) in records.iter().enumerate() {
        let header = sink.header();
        (header.record, header.column) = (i, 0);
        sink.begin();
        row::for_each_field(record, sink).map_err(|e| TableError::NotFlat(e.0))?;
        let header = sink.header();
        if header.column != header.columns.len() {
            return Err(TableError::NotFlat(header.other().0));
        }
    }
    Ok(())
}

/// Gathers the records' cells column by column, for [`Table::from_records`].
struct CellColumns {
    header: Header<Vec<Cell>>,
    rows: usize,
}

impl row::RowSink for CellColumns {
    type Value = Cell;
    type Out<'a> = row::ToCell;
    fn out(&mut self) -> row::ToCell {
        row::ToCell
    }
    fn field(&mut self, name: &'static str, cell: Cell) -> Result<(), row::NotFlat> {
        let rows = self.rows;
        let cells = self.header.next(name)?;
        if cells.capacity() == 0 {
            cells.reserve_exact(rows);
        }
        cells.push(cell);
        Ok(())
    }
}

impl Rows for CellColumns {
    type Column = Vec<Cell>;
    fn header(&mut self) -> &mut Header<Vec<Cell>> {
        &mut self.header
    }
}

fn mixed(name: &str) -> TableError {
    TableError::NotFlat(format!("field `{name}` mixes kinds"))
}

/// `n` as `n.to_string()` writes it; one digit, most of a trace's counts, without itoa's copy.
#[inline]
fn push_count(out: &mut Vec<u8>, n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
}

/// A cell's kind, as [`Column::from_cells`] tells its columns apart.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Real,
    Count,
    Flag,
    Text,
    Missing,
}

/// Writes a value's CSV text straight into the line.
struct CsvText<'b>(&'b mut Vec<u8>);

impl row::CellOut for CsvText<'_> {
    type Ok = Kind;
    #[inline]
    fn real(self, x: f64) -> Kind {
        push_real(self.0, x);
        Kind::Real
    }
    #[inline]
    fn count(self, n: u64) -> Kind {
        push_count(self.0, n);
        Kind::Count
    }
    fn flag(self, b: bool) -> Kind {
        self.0
            .extend_from_slice(if b { b"true".as_slice() } else { b"false" });
        Kind::Flag
    }
    fn text(self, t: &str) -> Kind {
        push_field(self.0, t);
        Kind::Text
    }
    fn missing(self) -> Kind {
        Kind::Missing
    }
}

/// Each column's first kind, whether it has missing cells and whether its kinds mixed, judged
/// as [`Column::from_cells`] judges a whole column.
#[derive(Clone, Copy, Default)]
struct ColumnKind {
    first: Option<Kind>,
    missing: bool,
    mixes: bool,
    /// `first` while the column has no missing cell: a cell of this kind changes nothing, so
    /// the usual cell is judged by one comparison.
    steady: Option<Kind>,
}

impl ColumnKind {
    fn note(&mut self, kind: Kind) {
        if kind == Kind::Missing {
            self.missing = true;
        } else {
            self.mixes |= self.first.is_some_and(|f| f != kind);
            self.first.get_or_insert(kind);
        }
        self.mixes |= self.missing && self.first.is_some_and(|f| f != Kind::Real);
        self.steady = if self.missing { None } else { self.first };
    }
}

/// Writes the records as CSV lines, for [`Table::write_records_csv`].
struct CsvLines {
    header: Header<ColumnKind>,
    buf: Vec<u8>,
    /// Where the current record's line begins.
    start: Option<usize>,
    /// How many records there are: once the first line is written, the buffer is reserved
    /// for all of them (a quarter more than the first one's length each), so it is not copied
    /// again and again as it grows.
    rows: usize,
}

impl row::RowSink for CsvLines {
    type Value = Kind;
    type Out<'a> = CsvText<'a>;
    #[inline(always)]
    fn out(&mut self) -> CsvText<'_> {
        CsvText(&mut self.buf)
    }
    // Inlined into each record type's serde walk: a trace calls it for every cell.
    #[inline(always)]
    fn field(&mut self, name: &'static str, kind: Kind) -> Result<(), row::NotFlat> {
        // Every cell is followed by a separator, the record's last one replaced by the line's
        // end (`end_line`): no test for the first column in every cell.
        self.buf.push(b',');
        let c = self.header.next(name)?;
        // A column of one kind and no gaps so far, the usual case, stays as it is.
        if c.steady != Some(kind) {
            c.note(kind);
        }
        Ok(())
    }
}

impl Rows for CsvLines {
    type Column = ColumnKind;
    fn header(&mut self) -> &mut Header<ColumnKind> {
        &mut self.header
    }
    fn begin(&mut self) {
        if let Some(start) = self.start {
            end_line(&mut self.buf, start);
            if start == 0 {
                let line = self.buf.len();
                self.buf
                    .reserve(self.rows.saturating_mul(line.saturating_add(line / 4)));
            }
        }
        self.start = Some(self.buf.len());
    }
}

impl Column {
    /// Reals some of which may be undefined: [`Column::Real`] when every row has one (the
    /// same bytes in every format as before), [`Column::MaybeReal`] otherwise.
    pub fn reals(values: Vec<Option<f64>>) -> Column {
        if values.iter().all(Option::is_some) {
            Column::Real(values.into_iter().flatten().collect())
        } else {
            Column::MaybeReal(values)
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Real(v) => v.len(),
            Column::MaybeReal(v) => v.len(),
            Column::Count(v) => v.len(),
            Column::Flag(v) => v.len(),
        }
    }

    fn cell(&self, row: usize) -> String {
        let mut s = Vec::new();
        self.write_cell(row, &mut s);
        // Every byte came from a `str`, so this is the text itself; nothing is replaced.
        String::from_utf8(s).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The cell's text appended to `out`: what `to_string` writes, without an allocation.
    fn write_cell(&self, row: usize, out: &mut Vec<u8>) {
        match self {
            Column::Text(v) => out.extend_from_slice(v[row].as_bytes()),
            Column::Real(v) => push_real(out, v[row]),
            Column::MaybeReal(v) => {
                if let Some(x) = v[row] {
                    push_real(out, x);
                }
            }
            Column::Count(v) => {
                out.extend_from_slice(itoa::Buffer::new().format(v[row]).as_bytes())
            }
            Column::Flag(v) => {
                out.extend_from_slice(if v[row] { b"true".as_slice() } else { b"false" })
            }
        }
    }

    fn json(&self, row: usize) -> serde_json::Value {
        use serde_json::Value;
        let real = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
        match self {
            Column::Text(v) => Value::String(v[row].clone()),
            Column::Real(v) => real(v[row]),
            Column::MaybeReal(v) => v[row].map_or(Value::Null, real),
            Column::Count(v) => Value::from(v[row]),
            Column::Flag(v) => Value::Bool(v[row]),
        }
    }

    /// A column of one kind from a field's cells; `None` when the kinds are mixed.
    fn from_cells(cells: Vec<Cell>) -> Option<Column> {
        let missing = cells.contains(&Cell::Missing);
        let kind = cells.iter().find(|c| **c != Cell::Missing);
        Some(match kind {
            None | Some(Cell::Real(_)) if missing => Column::MaybeReal(
                cells
                    .into_iter()
                    .map(|c| match c {
                        Cell::Real(x) => Some(Some(x)),
                        Cell::Missing => Some(None),
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            ),
            None | Some(Cell::Real(_)) => Column::Real(collect(cells, |c| match c {
                Cell::Real(x) => Some(x),
                _ => None,
            })?),
            Some(Cell::Text(_)) => Column::Text(collect(cells, |c| match c {
                Cell::Text(x) => Some(x),
                _ => None,
            })?),
            Some(Cell::Count(_)) => Column::Count(collect(cells, |c| match c {
                Cell::Count(x) => Some(x),
                _ => None,
            })?),
            Some(Cell::Flag(_)) => Column::Flag(collect(cells, |c| match c {
                Cell::Flag(x) => Some(x),
                _ => None,
            })?),
            Some(Cell::Missing) => unreachable!("found as not missing"),
        })
    }
}

fn collect<T>(cells: Vec<Cell>, take: impl Fn(Cell) -> Option<T>) -> Option<Vec<T>> {
    cells.into_iter().map(take).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("column `{name}` has {len} rows, the table has {rows}")]
    Ragged {
        name: String,
        len: usize,
        rows: usize,
    },
    #[error("cannot encode the table as {format}: {message}")]
    Encode {
        format: &'static str,
        message: String,
    },
    #[error("a record cannot be a table row: {0}")]
    NotFlat(String),
    /// The sink's error, kept as the source so a caller can tell a closed pipe.
    #[error("cannot write the table: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Write(#[from] RunDirError),
}

/// Named columns of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    columns: Vec<(String, Column)>,
}

impl Table {
    pub fn new() -> Self {
        Self::default()
    }

    /// One row per record, one column per field in declaration order (`#[serde(skip)]` fields
    /// left out; an `Option` of a real is a [`Column::MaybeReal`]; a plain enum is its serde
    /// name). A record that is not a struct of scalars is refused, naming the field.
    pub fn from_records<T: serde::Serialize>(records: &[T]) -> Result<Table, TableError> {
        let mut sink = CellColumns {
            header: Header::new(),
            rows: records.len(),
        };
        each_row(records, &mut sink)?;
        let mut t = Table::new();
        for (name, cells) in sink.header.columns {
            let column = Column::from_cells(cells).ok_or_else(|| mixed(name))?;
            t.push(name, column);
        }
        Ok(t)
    }

    /// `Table::from_records(records)?.write_csv(sink, header)`, byte for byte and error for
    /// error, without building the table: each field goes from the record straight to its text.
    /// A trace writes millions of cells this way. Nothing is written when a record is refused.
    pub fn write_records_csv<T: serde::Serialize>(
        records: &[T],
        sink: &mut dyn Write,
        header: bool,
    ) -> Result<(), TableError> {
        let mut lines = CsvLines {
            header: Header::new(),
            buf: Vec::new(),
            start: None,
            rows: records.len(),
        };
        each_row(records, &mut lines)?;
        let CsvLines {
            header: seen,
            mut buf,
            start,
            ..
        } = lines;
        if seen.columns.is_empty() {
            // As `write_csv` writes a table without columns: nothing.
            return Ok(());
        }
        if let Some((name, _)) = seen.columns.iter().find(|(_, c)| c.mixes) {
            return Err(mixed(name));
        }
        let Some(start) = start else {
            return Ok(());
        };
        end_line(&mut buf, start);
        if header {
            let mut line = Vec::new();
            push_header(&mut line, seen.columns.iter().map(|(name, _)| *name));
            sink.write_all(&line)?;
        }
        sink.write_all(&buf)?;
        sink.flush()?;
        Ok(())
    }

    /// Append a column (the builder form).
    pub fn with(mut self, name: &str, column: Column) -> Self {
        self.columns.push((name.to_string(), column));
        self
    }

    pub fn push(&mut self, name: &str, column: Column) {
        self.columns.push((name.to_string(), column));
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(n, _)| n.as_str())
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// Rows, after checking that every column has the same number.
    pub fn rows(&self) -> Result<usize, TableError> {
        let rows = self.columns.first().map_or(0, |(_, c)| c.len());
        for (name, c) in &self.columns {
            if c.len() != rows {
                return Err(TableError::Ragged {
                    name: name.clone(),
                    len: c.len(),
                    rows,
                });
            }
        }
        Ok(rows)
    }

    /// CSV: a header of the names, then one line per row; numbers as Rust prints them
    /// (shortest text that reads back to the same float).
    pub fn to_csv(&self) -> Result<Vec<u8>, TableError> {
        let mut out = Vec::new();
        self.write_csv(&mut out, true)?;
        Ok(out)
    }

    /// CSV to any sink, with or without the header line: a long table streams chunk by chunk
    /// (the header with the first). A sink's I/O error comes back as [`TableError::Io`], so a
    /// closed pipe is recognised as one. A table with no columns writes nothing.
    pub fn write_csv(&self, sink: &mut dyn Write, header: bool) -> Result<(), TableError> {
        let rows = self.rows()?;
        if self.columns.is_empty() {
            return Ok(());
        }
        // Lines are built in one buffer and written in large pieces: a trace writes millions
        // of cells, and a cell through a general CSV writer cost more than its number.
        let mut buf = Vec::new();
        if header {
            push_header(&mut buf, self.columns.iter().map(|(name, _)| name.as_str()));
        }
        for r in 0..rows {
            let start = buf.len();
            for (_, c) in &self.columns {
                match c {
                    Column::Text(v) => push_field(&mut buf, &v[r]),
                    _ => c.write_cell(r, &mut buf),
                }
                buf.push(b',');
            }
            end_line(&mut buf, start);
            if buf.len() >= 1 << 16 {
                sink.write_all(&buf)?;
                buf.clear();
            }
        }
        sink.write_all(&buf)?;
        sink.flush()?;
        Ok(())
    }

    /// JSON: an array of one object per row (non-finite reals and missing values as `null`).
    pub fn to_json(&self) -> Result<serde_json::Value, TableError> {
        let rows = self.rows()?;
        Ok(serde_json::Value::Array(
            (0..rows)
                .map(|r| {
                    let row = self.columns.iter().map(|(n, c)| (n.clone(), c.json(r)));
                    serde_json::Value::Object(row.collect())
                })
                .collect(),
        ))
    }

    /// Aligned text for a terminal: a header, then one line per row, every column right-aligned
    /// to its widest cell and separated by two spaces.
    pub fn to_text(&self) -> Result<String, TableError> {
        let rows = self.rows()?;
        let cells: Vec<Vec<String>> = std::iter::once(self.names().map(str::to_string).collect())
            .chain((0..rows).map(|r| self.columns.iter().map(|(_, c)| c.cell(r)).collect()))
            .collect();
        let width: Vec<usize> = (0..self.columns.len())
            .map(|k| {
                cells
                    .iter()
                    .map(|r| r[k].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &cells {
            let line: Vec<String> = r
                .iter()
                .zip(&width)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        Ok(out)
    }

    /// Parquet (one row group, snappy-compressed), with each column's type.
    pub fn to_parquet(&self) -> Result<Vec<u8>, TableError> {
        use arrow_array::{
            ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array,
        };
        use arrow_schema::{DataType, Field, Schema};
        self.rows()?;
        let encode = |e: &dyn std::fmt::Display| TableError::Encode {
            format: "Parquet",
            message: e.to_string(),
        };
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|(name, c)| {
                let ty = match c {
                    Column::Text(_) => DataType::Utf8,
                    Column::Real(_) | Column::MaybeReal(_) => DataType::Float64,
                    Column::Count(_) => DataType::UInt64,
                    Column::Flag(_) => DataType::Boolean,
                };
                Field::new(name, ty, matches!(c, Column::MaybeReal(_)))
            })
            .collect();
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|(_, c)| -> ArrayRef {
                match c {
                    Column::Text(v) => Arc::new(StringArray::from(v.clone())),
                    Column::Real(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::MaybeReal(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::Count(v) => Arc::new(UInt64Array::from(v.clone())),
                    Column::Flag(v) => Arc::new(BooleanArray::from(v.clone())),
                }
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| encode(&e))?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            // No creator string with a version in it: the same table gives the same bytes.
            .set_created_by("medisim".into())
            .build();
        let mut out = Vec::new();
        let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props))
            .map_err(|e| encode(&e))?;
        w.write(&batch).map_err(|e| encode(&e))?;
        w.close().map_err(|e| encode(&e))?;
        Ok(out)
    }

    /// Write `STEM.csv` and `STEM.parquet` atomically; returns both paths.
    pub fn write(&self, stem: &Path) -> Result<[PathBuf; 2], TableError> {
        let csv = stem.with_extension("csv");
        let parquet = stem.with_extension("parquet");
        write_atomic(&csv, &self.to_csv()?)?;
        write_atomic(&parquet, &self.to_parquet()?)?;
        Ok([csv, parquet])
    }
}

#[cfg(test)]
mod tests {

    /// `may_tie` without its shortcuts: the significand and the exponent of its last bit taken
    /// apart as IEEE 754 defines them.
    fn may_tie_by_definition(x: f64) -> bool {
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i32;
        let (significand, e) = if exponent == 0 {
            (bits & ((1 << 52) - 1), -1074)
        } else {
            ((bits & ((1 << 52) - 1)) | (1 << 52), exponent - 1075)
        };
        if significand == 0 {
            return true;
        }
        let zeros = significand.trailing_zeros();
        let (m, k) = (significand >> zeros, -(e + zeros as i32));
        if !(1..=26).contains(&k) {
            return k <= 0;
        }
        u128::from(m) * 5u128.pow(k as u32) < 1_000_000_000_000_000_000
    }

    #[test]
    fn may_tie_agrees_with_its_definition() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let mut xs: Vec<f64> = vec![0.0, -0.0, 0.5, 0.1, f64::MIN_POSITIVE, 5e-324, 1.0 / 3.0];
        for _ in 0..200_000 {
            xs.push(f64::from_bits(rng.gen::<u64>()));
            // Subnormals, and short binary fractions (small k), where the shortcuts matter.
            xs.push(f64::from_bits(rng.gen::<u64>() & ((1 << 52) - 1)));
            xs.push(
                rng.gen_range(-1i64 << 40..1i64 << 40) as f64 / 2f64.powi(rng.gen_range(1..40)),
            );
        }
        for x in xs {
            assert_eq!(
                may_tie(x),
                may_tie_by_definition(x),
                "{x:e} ({:#x})",
                x.to_bits()
            );
        }
    }

    /// The fast real writer is `to_string`, byte for byte: random bit patterns (every scale,
    /// subnormals, integers, both zeros, infinities, NaN), decimal-looking values and the
    /// boundaries where either writer changes form.
    #[test]
    fn reals_are_written_exactly_as_to_string_writes_them() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(29);
        let mut xs: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            1e-5,
            1e-6,
            9.999e-6,
            1e-7,
            1e15,
            1e15 - 1.0,
            1e16,
            1e16 + 2.0,
            1e21,
            1e22,
            1.5e300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            123456789012345.6,
            0.1 + 0.2,
            2f64.powi(53),
        ];
        for _ in 0..300_000 {
            xs.push(f64::from_bits(rng.gen::<u64>()));
            // Short exact binary fractions: where two shortest decimals can tie.
            let k = rng.gen_range(1..60);
            xs.push(rng.gen_range(-1i64 << 40..1i64 << 40) as f64 / 2f64.powi(k));
            let scale = 10f64.powi(rng.gen_range(-12..18));
            xs.push(rng.gen::<f64>() * scale * if rng.gen_bool(0.5) { -1.0 } else { 1.0 });
            xs.push((rng.gen_range(-1e6..1e6) * 1e4f64).round() / 1e4);
            xs.push(rng.gen_range(-1_000_000i64..1_000_000) as f64);
        }
        let mut out = Vec::new();
        for x in xs {
            out.clear();
            push_real(&mut out, x);
            assert_eq!(
                out,
                x.to_string().as_bytes(),
                "{:e} ({:#x})",
                x,
                x.to_bits()
            );
        }
    }

    use super::*;
    use arrow_array::{Array, Float64Array, StringArray, UInt64Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn sample() -> Table {
        Table::new()
            .with("metric", Column::Text(vec!["a".into(), "b,c".into()]))
            .with("mean", Column::Real(vec![0.1, -2.5e-9]))
            .with("n", Column::Count(vec![30, 1]))
    }

    /// The table's own CSV writer writes what the csv crate's writer writes for the same cells:
    /// texts with commas, quotes, line breaks and nothing at all, one-column tables (where an
    /// empty field is quoted), and every kind of column.
    #[test]
    fn csv_is_written_as_the_csv_crate_writes_it() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let pieces = [
            "", "a", ",", "\"", "\n", "\r", "\r\n", " x ", "é", "1.5", "#",
        ];
        let text = |rng: &mut rand_pcg::Pcg64| -> String {
            (0..rng.gen_range(0..4))
                .map(|_| pieces[rng.gen_range(0..pieces.len())])
                .collect()
        };
        for round in 0..400 {
            let rows = rng.gen_range(0..5);
            let mut t = Table::new();
            for c in 0..rng.gen_range(1..4) {
                let column = match rng.gen_range(0..5) {
                    0 => Column::Text((0..rows).map(|_| text(&mut rng)).collect()),
                    1 => Column::Real((0..rows).map(|_| rng.gen_range(-1e3..1e3)).collect()),
                    2 => Column::MaybeReal(
                        (0..rows)
                            .map(|_| rng.gen_bool(0.5).then(|| rng.gen::<f64>()))
                            .collect(),
                    ),
                    3 => Column::Count((0..rows).map(|_| rng.gen_range(0..100)).collect()),
                    _ => Column::Flag((0..rows).map(|_| rng.gen_bool(0.5)).collect()),
                };
                t.push(&format!("{}{c}", text(&mut rng)), column);
            }
            let mut expected = csv::Writer::from_writer(Vec::new());
            expected.write_record(t.names()).unwrap();
            for r in 0..rows {
                expected
                    .write_record(t.columns.iter().map(|(_, c)| c.cell(r)))
                    .unwrap();
            }
            let expected = expected.into_inner().unwrap();
            assert_eq!(
                String::from_utf8(t.to_csv().unwrap()).unwrap(),
                String::from_utf8(expected).unwrap(),
                "round {round}"
            );
        }
    }

    /// Records written straight to CSV are what their table writes, text for text and refusal
    /// for refusal: every kind of cell, missing ones, kinds that mix within a field, texts that
    /// need quotes, one-field records, with and without the header.
    #[test]
    fn records_stream_to_the_csv_their_table_writes() {
        use rand::{Rng, SeedableRng};
        use serde_json::{json, Value};
        #[derive(serde::Serialize)]
        struct One {
            a: Value,
        }
        #[derive(serde::Serialize)]
        struct Three {
            a: Value,
            b: Value,
            c: Value,
        }
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let value = |rng: &mut rand_pcg::Pcg64, kinds: u32| match rng.gen_range(0..kinds) {
            0 => json!(rng.gen_range(-1e3..1e3)),
            1 => Value::Null,
            2 => json!(rng.gen_range(0..50u64)),
            3 => json!(["", "x", "a,b", "\"q\"", "l\nm"][rng.gen_range(0..5)]),
            4 => json!(rng.gen_bool(0.5)),
            _ => json!([1]),
        };
        fn check<T: serde::Serialize>(records: &[T], header: bool, round: usize) {
            let table = Table::from_records(records).and_then(|t| {
                let mut out = Vec::new();
                t.write_csv(&mut out, header).map(|()| out)
            });
            let mut out = Vec::new();
            let streamed = Table::write_records_csv(records, &mut out, header).map(|()| out);
            match (table, streamed) {
                (Ok(a), Ok(b)) => assert_eq!(
                    String::from_utf8(a).unwrap(),
                    String::from_utf8(b).unwrap(),
                    "round {round}"
                ),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "round {round}"),
                (a, b) => panic!("round {round}: table {a:?}, streamed {b:?}"),
            }
        }
        let (mut refused, mut written) = (0, 0);
        for round in 0..3000 {
            // Mostly one kind per field, sometimes any: both outcomes occur often.
            let kinds = if round % 3 == 0 { 6 } else { 2 };
            let rows = rng.gen_range(0..5);
            let header = rng.gen_bool(0.5);
            if round % 2 == 0 {
                let records: Vec<One> = (0..rows)
                    .map(|_| One {
                        a: value(&mut rng, kinds),
                    })
                    .collect();
                check(&records, header, round);
                refused += usize::from(Table::from_records(&records).is_err());
            } else {
                let records: Vec<Three> = (0..rows)
                    .map(|_| Three {
                        a: value(&mut rng, kinds),
                        b: value(&mut rng, 5),
                        c: value(&mut rng, kinds),
                    })
                    .collect();
                check(&records, header, round);
                refused += usize::from(Table::from_records(&records).is_err());
            }
            written += 1;
        }
        assert!(
            refused > 300 && refused < written - 300,
            "{refused} of {written} refused"
        );
        // Records without fields (a table without columns writes nothing), and records whose
        // fields differ from the first one's.
        #[derive(serde::Serialize)]
        struct Empty {
            #[serde(skip)]
            _a: u8,
        }
        #[derive(serde::Serialize)]
        struct Maybe {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<u8>,
            b: u8,
        }
        for header in [false, true] {
            check(&[Empty { _a: 0 }, Empty { _a: 1 }], header, 3000);
            check::<Empty>(&[], header, 3001);
            for (x, y) in [(Some(1), None), (None, Some(2)), (Some(1), Some(2))] {
                check(&[Maybe { a: x, b: 0 }, Maybe { a: y, b: 1 }], header, 3002);
            }
        }
    }

    #[test]
    fn csv_and_parquet_hold_the_same_values_with_their_types() {
        let t = sample();
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert_eq!(csv, "metric,mean,n\na,0.1,30\n\"b,c\",-0.0000000025,1\n");
        let dir = tempfile::tempdir().unwrap();
        let [_, pq] = t.write(&dir.path().join("sweep")).unwrap();
        let file = std::fs::File::open(pq).unwrap();
        let mut reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batch = reader.next().unwrap().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let metric = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(metric.value(1), "b,c");
        let mean = batch
            .column(1)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(mean.value(1), -2.5e-9);
        let n = batch
            .column(2)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .unwrap();
        assert_eq!(n.value(0), 30);
        assert_eq!(
            t.to_parquet().unwrap(),
            t.to_parquet().unwrap(),
            "deterministic"
        );
    }

    #[test]
    fn a_ragged_table_is_refused_naming_the_column() {
        let t = sample().with("extra", Column::Real(vec![1.0]));
        let e = t.to_csv().unwrap_err().to_string();
        assert!(e.contains("`extra` has 1 rows, the table has 2"), "{e}");
        assert!(t.to_parquet().is_err());
    }

    #[derive(serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Outcome {
        Kept,
    }

    #[derive(serde::Serialize)]
    struct Record {
        name: &'static str,
        seed: u64,
        fitness: Option<f64>,
        pass: bool,
        outcome: Outcome,
        #[serde(skip)]
        _scratch: Vec<u8>,
    }

    fn records() -> Vec<Record> {
        let r = |name, seed, fitness, pass| Record {
            name,
            seed,
            fitness,
            pass,
            outcome: Outcome::Kept,
            _scratch: vec![1],
        };
        vec![r("a", 1, Some(0.5), true), r("b", 2, None, false)]
    }

    #[test]
    fn records_become_typed_columns_in_field_order() {
        let t = Table::from_records(&records()).unwrap();
        assert_eq!(
            t.names().collect::<Vec<_>>(),
            ["name", "seed", "fitness", "pass", "outcome"]
        );
        assert_eq!(t.column("seed"), Some(&Column::Count(vec![1, 2])));
        assert_eq!(
            t.column("fitness"),
            Some(&Column::MaybeReal(vec![Some(0.5), None]))
        );
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert_eq!(
            csv,
            "name,seed,fitness,pass,outcome\na,1,0.5,true,kept\nb,2,,false,kept\n"
        );
        assert!(t.to_parquet().is_ok());
        assert_eq!(
            t.to_json().unwrap()[1],
            serde_json::json!({"name": "b", "seed": 2, "fitness": null, "pass": false, "outcome": "kept"})
        );
    }

    #[test]
    fn a_record_that_is_not_flat_is_refused_naming_the_field() {
        #[derive(serde::Serialize)]
        struct Nested {
            values: Vec<f64>,
        }
        let e = Table::from_records(&[Nested { values: vec![] }]).unwrap_err();
        assert!(e.to_string().contains("field `values`"), "{e}");
        assert!(Table::from_records(&[1.0]).is_err());
    }

    #[test]
    fn csv_streams_without_repeating_the_header_and_text_aligns() {
        let t = sample();
        let mut out = Vec::new();
        t.write_csv(&mut out, true).unwrap();
        t.write_csv(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("metric,mean,n").count(), 1);
        assert_eq!(text.lines().count(), 5);
        assert_eq!(
            t.to_text().unwrap(),
            "metric           mean   n\n     a            0.1  30\n   b,c  -0.0000000025   1\n"
        );
    }
}
