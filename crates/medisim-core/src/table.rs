//! Tidy tables, written as CSV and as Parquet from one description, so every sweep hands a
//! pandas, polars or R user the same columns in either format. A table is a list of named,
//! typed columns of equal length; the Parquet file carries those types (text, 64-bit float,
//! unsigned count), where the CSV carries the same values as text.

use crate::rundir::{write_atomic, RunDirError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One column's values.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    Text(Vec<String>),
    Real(Vec<f64>),
    Count(Vec<u64>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::Real(v) => v.len(),
            Column::Count(v) => v.len(),
        }
    }

    fn cell(&self, row: usize) -> String {
        match self {
            Column::Text(v) => v[row].clone(),
            Column::Real(v) => v[row].to_string(),
            Column::Count(v) => v[row].to_string(),
        }
    }
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
        let rows = self.rows()?;
        let encode = |e: csv::Error| TableError::Encode {
            format: "CSV",
            message: e.to_string(),
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.names()).map_err(encode)?;
        for r in 0..rows {
            w.write_record(self.columns.iter().map(|(_, c)| c.cell(r)))
                .map_err(encode)?;
        }
        w.into_inner().map_err(|e| TableError::Encode {
            format: "CSV",
            message: e.to_string(),
        })
    }

    /// Parquet (one row group, snappy-compressed), with each column's type.
    pub fn to_parquet(&self) -> Result<Vec<u8>, TableError> {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
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
                    Column::Real(_) => DataType::Float64,
                    Column::Count(_) => DataType::UInt64,
                };
                Field::new(name, ty, false)
            })
            .collect();
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|(_, c)| -> ArrayRef {
                match c {
                    Column::Text(v) => Arc::new(StringArray::from(v.clone())),
                    Column::Real(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::Count(v) => Arc::new(UInt64Array::from(v.clone())),
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
}
