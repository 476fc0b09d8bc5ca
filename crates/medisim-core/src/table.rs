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
/// (counts, beds, periods: most of a trace) through integer formatting, which writes the same
/// digits in a fraction of the instructions; anything else through `Display`. (A shortest-digit
/// crate such as ryu is no substitute: it breaks ties between two shortest decimals to even,
/// `Display` away from zero — `-694100505.8476563`.)
pub(crate) fn push_real(out: &mut String, x: f64) {
    use std::fmt::Write as _;
    if x == x.trunc() && x.abs() < 9_007_199_254_740_992.0 {
        if x == 0.0 && x.is_sign_negative() {
            out.push_str("-0");
        } else {
            let _ = write!(out, "{}", x as i64);
        }
    } else {
        let _ = write!(out, "{x}");
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
        let mut s = String::new();
        self.write_cell(row, &mut s);
        s
    }

    /// The cell's text appended to `out`: what `to_string` writes, without an allocation.
    fn write_cell(&self, row: usize, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Column::Text(v) => out.push_str(&v[row]),
            Column::Real(v) => push_real(out, v[row]),
            Column::MaybeReal(v) => {
                if let Some(x) = v[row] {
                    push_real(out, x);
                }
            }
            Column::Count(v) => {
                let _ = write!(out, "{}", v[row]);
            }
            Column::Flag(v) => out.push_str(if v[row] { "true" } else { "false" }),
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
        let not_flat = |e: row::NotFlat| TableError::NotFlat(e.0);
        let mut names: Vec<&'static str> = Vec::new();
        let mut cells: Vec<Vec<Cell>> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let fields = row::fields(record).map_err(not_flat)?;
            if i == 0 {
                names = fields.iter().map(|(n, _)| *n).collect();
                cells = names
                    .iter()
                    .map(|_| Vec::with_capacity(records.len()))
                    .collect();
            }
            if fields.len() != names.len() || fields.iter().zip(&names).any(|((n, _), m)| n != m) {
                return Err(TableError::NotFlat(format!(
                    "record {i} has other fields than record 0"
                )));
            }
            for (column, (_, cell)) in cells.iter_mut().zip(fields) {
                column.push(cell);
            }
        }
        let mut t = Table::new();
        for (name, column) in names.into_iter().zip(cells) {
            let column = Column::from_cells(column)
                .ok_or_else(|| TableError::NotFlat(format!("field `{name}` mixes kinds")))?;
            t.push(name, column);
        }
        Ok(t)
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
        let csv_error = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(io) => TableError::Io(io),
            other => TableError::Encode {
                format: "CSV",
                message: format!("{other:?}"),
            },
        };
        let mut w = csv::Writer::from_writer(sink);
        if header {
            w.write_record(self.names()).map_err(csv_error)?;
        }
        // One buffer for every cell: a trace writes millions of them.
        let mut cell = String::new();
        for r in 0..rows {
            for (_, c) in &self.columns {
                cell.clear();
                c.write_cell(r, &mut cell);
                w.write_field(&cell).map_err(csv_error)?;
            }
            w.write_record(None::<&[u8]>).map_err(csv_error)?;
        }
        w.flush()?;
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
        let mut out = String::new();
        for x in xs {
            out.clear();
            push_real(&mut out, x);
            assert_eq!(out, x.to_string(), "{:e} ({:#x})", x, x.to_bits());
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
