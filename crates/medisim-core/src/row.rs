//! A flat record (a struct of scalars) as one table row, through serde, keeping the fields'
//! order and types. It is how [`crate::Table::from_records`] turns the structs a model already
//! serialises into typed columns, so no caller writes CSV by hand.

use serde::ser::{self, Impossible, Serialize};
use std::fmt;

/// One field's value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Real(f64),
    Count(u64),
    Flag(bool),
    Missing,
}

/// Why a record cannot be a row.
#[derive(Debug)]
pub(crate) struct NotFlat(pub String);

impl fmt::Display for NotFlat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFlat {}

impl ser::Error for NotFlat {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NotFlat(msg.to_string())
    }
}

/// What a scalar field's value becomes: a typed [`Cell`] for a table ([`ToCell`]), or its text
/// on a CSV line. One serde walk serves both, so they cannot disagree on a field's kind.
pub(crate) trait CellOut {
    type Ok;
    fn real(self, x: f64) -> Self::Ok;
    fn count(self, n: u64) -> Self::Ok;
    fn flag(self, b: bool) -> Self::Ok;
    fn text(self, t: &str) -> Self::Ok;
    fn missing(self) -> Self::Ok;
}

/// Turns a value into its typed cell.
pub(crate) struct ToCell;

impl CellOut for ToCell {
    type Ok = Cell;
    fn real(self, x: f64) -> Cell {
        Cell::Real(x)
    }
    fn count(self, n: u64) -> Cell {
        Cell::Count(n)
    }
    fn flag(self, b: bool) -> Cell {
        Cell::Flag(b)
    }
    fn text(self, t: &str) -> Cell {
        Cell::Text(t.to_string())
    }
    fn missing(self) -> Cell {
        Cell::Missing
    }
}

/// What receives a record's fields, one at a time, in declaration order: `out` says where the
/// next field's value goes, `field` takes its name and what `out` made of it.
pub(crate) trait RowSink {
    type Value;
    type Out<'a>: CellOut<Ok = Self::Value>
    where
        Self: 'a;
    fn out(&mut self) -> Self::Out<'_>;
    fn field(&mut self, name: &'static str, value: Self::Value) -> Result<(), NotFlat>;
}

/// Hands the record's fields to `sink`, in declaration order (fields marked `skip` are left out
/// by serde): a row costs no allocation but its texts'. The sink is a type parameter, not a
/// trait object, so a trace's millions of cells go from field to text through inlined code.
pub(crate) fn for_each_field<T: Serialize, S: RowSink>(
    record: &T,
    sink: &mut S,
) -> Result<(), NotFlat> {
    record.serialize(RecordSerializer(sink))
}

fn not_flat(what: &str) -> NotFlat {
    NotFlat(format!(
        "a table row must be a struct of scalars, not {what}"
    ))
}

struct RecordSerializer<'s, S>(&'s mut S);

struct Fields<'s, S>(&'s mut S);

impl<S: RowSink> ser::SerializeStruct for Fields<'_, S> {
    type Ok = ();
    type Error = NotFlat;

    #[inline(always)]
    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), NotFlat> {
        let cell = value
            .serialize(CellSerializer(self.0.out()))
            .map_err(|e| NotFlat(format!("field `{key}`: {e}")))?;
        self.0.field(key, cell)
    }

    fn end(self) -> Result<(), NotFlat> {
        Ok(())
    }
}

/// Everything but a struct is refused at the record level.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ok:ty, $what:literal;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ok, NotFlat> {
            Err(not_flat($what))
        })*
    };
}

impl<'s, S: RowSink> ser::Serializer for RecordSerializer<'s, S> {
    type Ok = ();
    type Error = NotFlat;
    type SerializeSeq = Impossible<Self::Ok, NotFlat>;
    type SerializeTuple = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotFlat>;
    type SerializeMap = Impossible<Self::Ok, NotFlat>;
    type SerializeStruct = Fields<'s, S>;
    type SerializeStructVariant = Impossible<Self::Ok, NotFlat>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'s, S>, NotFlat> {
        Ok(Fields(self.0))
    }

    refuse! {
        serialize_bool(bool) -> Self::Ok, "a boolean";
        serialize_i8(i8) -> Self::Ok, "a number";
        serialize_i16(i16) -> Self::Ok, "a number";
        serialize_i32(i32) -> Self::Ok, "a number";
        serialize_i64(i64) -> Self::Ok, "a number";
        serialize_u8(u8) -> Self::Ok, "a number";
        serialize_u16(u16) -> Self::Ok, "a number";
        serialize_u32(u32) -> Self::Ok, "a number";
        serialize_u64(u64) -> Self::Ok, "a number";
        serialize_f32(f32) -> Self::Ok, "a number";
        serialize_f64(f64) -> Self::Ok, "a number";
        serialize_char(char) -> Self::Ok, "a character";
        serialize_str(&str) -> Self::Ok, "a string";
        serialize_bytes(&[u8]) -> Self::Ok, "bytes";
        serialize_none() -> Self::Ok, "an option";
        serialize_unit() -> Self::Ok, "a unit";
        serialize_unit_struct(&'static str) -> Self::Ok, "a unit struct";
        serialize_unit_variant(&'static str, u32, &'static str) -> Self::Ok, "an enum";
        serialize_seq(Option<usize>) -> Self::SerializeSeq, "a sequence";
        serialize_tuple(usize) -> Self::SerializeTuple, "a tuple";
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct, "a tuple";
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant, "an enum";
        serialize_map(Option<usize>) -> Self::SerializeMap, "a map";
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant, "an enum";
    }

    fn serialize_some<V: ?Sized + Serialize>(self, _: &V) -> Result<Self::Ok, NotFlat> {
        Err(not_flat("an option"))
    }

    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &V,
    ) -> Result<Self::Ok, NotFlat> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<Self::Ok, NotFlat> {
        Err(not_flat("an enum"))
    }
}

struct CellSerializer<O>(O);

impl<O: CellOut> ser::Serializer for CellSerializer<O> {
    type Ok = O::Ok;
    type Error = NotFlat;
    type SerializeSeq = Impossible<O::Ok, NotFlat>;
    type SerializeTuple = Impossible<O::Ok, NotFlat>;
    type SerializeTupleStruct = Impossible<O::Ok, NotFlat>;
    type SerializeTupleVariant = Impossible<O::Ok, NotFlat>;
    type SerializeMap = Impossible<O::Ok, NotFlat>;
    type SerializeStruct = Impossible<O::Ok, NotFlat>;
    type SerializeStructVariant = Impossible<O::Ok, NotFlat>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<O::Ok, NotFlat> {
        Ok(self.0.flag(v))
    }
    fn serialize_i8(self, v: i8) -> Result<O::Ok, NotFlat> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<O::Ok, NotFlat> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<O::Ok, NotFlat> {
        self.serialize_i64(v.into())
    }
    #[inline]
    fn serialize_i64(self, v: i64) -> Result<O::Ok, NotFlat> {
        // Counts are unsigned; a signed field is a quantity, exact as a float up to 2^53.
        match u64::try_from(v) {
            Ok(n) => Ok(self.0.count(n)),
            Err(_) => Err(NotFlat(format!("a negative integer ({v}) is not a count"))),
        }
    }
    #[inline]
    fn serialize_u8(self, v: u8) -> Result<O::Ok, NotFlat> {
        Ok(self.0.count(v.into()))
    }
    #[inline]
    fn serialize_u16(self, v: u16) -> Result<O::Ok, NotFlat> {
        Ok(self.0.count(v.into()))
    }
    #[inline]
    fn serialize_u32(self, v: u32) -> Result<O::Ok, NotFlat> {
        Ok(self.0.count(v.into()))
    }
    #[inline]
    fn serialize_u64(self, v: u64) -> Result<O::Ok, NotFlat> {
        Ok(self.0.count(v))
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<O::Ok, NotFlat> {
        Ok(self.0.real(v.into()))
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<O::Ok, NotFlat> {
        Ok(self.0.real(v))
    }
    fn serialize_char(self, v: char) -> Result<O::Ok, NotFlat> {
        Ok(self.0.text(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<O::Ok, NotFlat> {
        Ok(self.0.text(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<O::Ok, NotFlat> {
        Err(not_flat("bytes"))
    }
    fn serialize_none(self) -> Result<O::Ok, NotFlat> {
        Ok(self.0.missing())
    }
    fn serialize_some<V: ?Sized + Serialize>(self, value: &V) -> Result<O::Ok, NotFlat> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<O::Ok, NotFlat> {
        Ok(self.0.missing())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<O::Ok, NotFlat> {
        Ok(self.0.missing())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<O::Ok, NotFlat> {
        // A plain enum is written by its serde name, as TOML and JSON write it.
        Ok(self.0.text(variant))
    }
    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &V,
    ) -> Result<O::Ok, NotFlat> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<O::Ok, NotFlat> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotFlat> {
        Err(not_flat("a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotFlat> {
        Err(not_flat("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotFlat> {
        Err(not_flat("a tuple"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotFlat> {
        Err(not_flat("an enum with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotFlat> {
        Err(not_flat("a map"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotFlat> {
        Err(not_flat("a nested struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotFlat> {
        Err(not_flat("an enum with data"))
    }
}
