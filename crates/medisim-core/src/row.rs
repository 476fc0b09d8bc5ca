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

/// What receives a record's fields, one at a time, in declaration order.
pub(crate) type FieldSink<'a> = dyn FnMut(&'static str, Cell) -> Result<(), NotFlat> + 'a;

/// Hands the record's fields to `sink`, in declaration order (fields marked `skip` are left out
/// by serde): a row costs no allocation but its texts'.
pub(crate) fn for_each_field<T: Serialize>(
    record: &T,
    sink: &mut FieldSink<'_>,
) -> Result<(), NotFlat> {
    record.serialize(RecordSerializer(sink))
}

fn not_flat(what: &str) -> NotFlat {
    NotFlat(format!(
        "a table row must be a struct of scalars, not {what}"
    ))
}

struct RecordSerializer<'s, 'a>(&'s mut FieldSink<'a>);

struct Fields<'s, 'a>(&'s mut FieldSink<'a>);

impl ser::SerializeStruct for Fields<'_, '_> {
    type Ok = ();
    type Error = NotFlat;

    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<(), NotFlat> {
        let cell = value
            .serialize(CellSerializer)
            .map_err(|e| NotFlat(format!("field `{key}`: {e}")))?;
        (self.0)(key, cell)
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

impl<'s, 'a> ser::Serializer for RecordSerializer<'s, 'a> {
    type Ok = ();
    type Error = NotFlat;
    type SerializeSeq = Impossible<Self::Ok, NotFlat>;
    type SerializeTuple = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleStruct = Impossible<Self::Ok, NotFlat>;
    type SerializeTupleVariant = Impossible<Self::Ok, NotFlat>;
    type SerializeMap = Impossible<Self::Ok, NotFlat>;
    type SerializeStruct = Fields<'s, 'a>;
    type SerializeStructVariant = Impossible<Self::Ok, NotFlat>;

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Fields<'s, 'a>, NotFlat> {
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

struct CellSerializer;

impl ser::Serializer for CellSerializer {
    type Ok = Cell;
    type Error = NotFlat;
    type SerializeSeq = Impossible<Cell, NotFlat>;
    type SerializeTuple = Impossible<Cell, NotFlat>;
    type SerializeTupleStruct = Impossible<Cell, NotFlat>;
    type SerializeTupleVariant = Impossible<Cell, NotFlat>;
    type SerializeMap = Impossible<Cell, NotFlat>;
    type SerializeStruct = Impossible<Cell, NotFlat>;
    type SerializeStructVariant = Impossible<Cell, NotFlat>;

    fn serialize_bool(self, v: bool) -> Result<Cell, NotFlat> {
        Ok(Cell::Flag(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Cell, NotFlat> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Cell, NotFlat> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Cell, NotFlat> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Cell, NotFlat> {
        // Counts are unsigned; a signed field is a quantity, exact as a float up to 2^53.
        match u64::try_from(v) {
            Ok(n) => Ok(Cell::Count(n)),
            Err(_) => Err(NotFlat(format!("a negative integer ({v}) is not a count"))),
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Cell, NotFlat> {
        Ok(Cell::Count(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Cell, NotFlat> {
        Ok(Cell::Count(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Cell, NotFlat> {
        Ok(Cell::Count(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Cell, NotFlat> {
        Ok(Cell::Count(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Cell, NotFlat> {
        Ok(Cell::Real(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Cell, NotFlat> {
        Ok(Cell::Real(v))
    }
    fn serialize_char(self, v: char) -> Result<Cell, NotFlat> {
        Ok(Cell::Text(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Cell, NotFlat> {
        Ok(Cell::Text(v.to_string()))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Cell, NotFlat> {
        Err(not_flat("bytes"))
    }
    fn serialize_none(self) -> Result<Cell, NotFlat> {
        Ok(Cell::Missing)
    }
    fn serialize_some<V: ?Sized + Serialize>(self, value: &V) -> Result<Cell, NotFlat> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Cell, NotFlat> {
        Ok(Cell::Missing)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Cell, NotFlat> {
        Ok(Cell::Missing)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Cell, NotFlat> {
        // A plain enum is written by its serde name, as TOML and JSON write it.
        Ok(Cell::Text(variant.to_string()))
    }
    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &V,
    ) -> Result<Cell, NotFlat> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<Cell, NotFlat> {
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
