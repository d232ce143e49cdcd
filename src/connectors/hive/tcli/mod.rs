//! Hand-written TCLIService messages for the RPCs quiver uses, read and written through the
//! `thrift` crate's [`TInputProtocol`] / [`TOutputProtocol`].
//!
//! Field ids and enum values follow the Hive IDL that the notes name as canonical
//! (`apache/hive:service-rpc/if/TCLIService.thrift`, notes `hiveserver2.md` §1.1); the
//! protocol versions are §1.2, the type ids §1.5, the row set layout §1.4 and the
//! qualifier keys §2.4.
//!
//! Rules every struct keeps:
//! * Readers skip fields they do not know, so newer servers (and the Impala and Databricks
//!   extensions, §1.1 and §4) work; a known field with the wrong wire type is a
//!   [`HiveError::FieldType`], a missing required field a [`HiveError::MissingField`].
//! * Enums keep values they do not know ([`TTypeId::Other`]; PyHive crashed on type id 22,
//!   §1.5).
//! * Strings from the server are decoded leniently (invalid UTF-8 becomes U+FFFD) so one
//!   odd error message cannot fail an RPC.
//!
//! [`TFetchResultsResp`] and [`TRowSet`] here are the generic, allocation-per-cell form, for
//! tests and test servers. The fetch path reads replies with
//! [`decode::decode_fetch_results_reply`](super::decode::decode_fetch_results_reply) instead.
//!
//! Messages: [`write_call`] / [`encode_call`] write a complete CALL (strict binary header,
//! then the `<Method>_args` struct holding the request as field 1); [`read_reply`] /
//! [`decode_reply`] read the REPLY (the `<Method>_result` struct holding the response as
//! field 0) or turn an EXCEPTION into [`HiveError::Remote`].

pub mod enums;
pub mod messages;
pub mod rowset;
pub mod schema;

use std::collections::BTreeMap;

use thrift::TConfiguration;
use thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TFieldIdentifier, TInputProtocol, TListIdentifier,
    TMapIdentifier, TMessageIdentifier, TMessageType, TOutputProtocol, TStructIdentifier, TType,
};

pub use enums::{
    TFetchOrientation, TOperationState, TOperationType, TProtocolVersion, TStatusCode, TTypeId,
};
pub use messages::{
    TCancelOperationReq, TCancelOperationResp, TCloseOperationReq, TCloseOperationResp,
    TCloseSessionReq, TCloseSessionResp, TExecuteStatementReq, TExecuteStatementResp,
    TFetchResultsReq, TFetchResultsResp, TGetOperationStatusReq, TGetOperationStatusResp,
    TGetResultSetMetadataReq, TGetResultSetMetadataResp, THandleIdentifier, TOpenSessionReq,
    TOpenSessionResp, TOperationHandle, TSessionHandle, TStatus,
};
pub use rowset::{TColumn, TColumnValue, TRow, TRowSet, TypedColumn};
pub use schema::{
    TArrayTypeEntry, TColumnDesc, TMapTypeEntry, TPrimitiveTypeEntry, TStructTypeEntry,
    TTableSchema, TTypeDesc, TTypeEntry, TTypeQualifierValue, TTypeQualifiers, TUnionTypeEntry,
    TUserDefinedTypeEntry,
};

use super::HiveError;

/// A TCLIService struct quiver can read from and write to a Thrift protocol.
pub trait HiveStruct: Sized {
    /// The IDL name, for error messages.
    const NAME: &'static str;

    /// Reads one struct, skipping unknown fields and rejecting missing required ones.
    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError>;

    /// Writes the struct.
    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError>;
}

/// The request of one TCLIService RPC, tied to its method name and its response.
pub trait Request: HiveStruct {
    /// The method name in the message header, e.g. `OpenSession`.
    const METHOD: &'static str;
    /// What the server answers with.
    type Response: HiveStruct;
}

/// Writes one complete CALL message for `request` with sequence id `seq_id`, and flushes.
pub fn write_call<R: Request>(
    o: &mut dyn TOutputProtocol,
    seq_id: i32,
    request: &R,
) -> Result<(), HiveError> {
    o.write_message_begin(&TMessageIdentifier::new(
        R::METHOD,
        TMessageType::Call,
        seq_id,
    ))
    .ctx(R::METHOD)?;
    let mut w = StructWriter::begin(o, R::METHOD)?;
    w.child(1, request)?;
    w.end()?;
    o.write_message_end().ctx(R::METHOD)?;
    o.flush().ctx(R::METHOD)
}

/// Encodes one complete CALL message in the strict binary protocol (notes §2.1).
pub fn encode_call<R: Request>(seq_id: i32, request: &R) -> Result<Vec<u8>, HiveError> {
    let mut buf = Vec::new();
    {
        let mut o = TBinaryOutputProtocol::new(&mut buf, true);
        write_call(&mut o, seq_id, request)?;
    }
    Ok(buf)
}

/// Reads the reply to a call of `R` with sequence id `seq_id`.
///
/// An EXCEPTION message becomes [`HiveError::Remote`]; a reply for another method or sequence
/// id, or a message that is not a reply, becomes [`HiveError::UnexpectedReply`].
pub fn read_reply<R: Request>(
    i: &mut dyn TInputProtocol,
    seq_id: i32,
) -> Result<R::Response, HiveError> {
    let header = i.read_message_begin().ctx(R::METHOD)?;
    match header.message_type {
        TMessageType::Reply => {}
        TMessageType::Exception => {
            let e = thrift::Error::read_application_error_from_in_protocol(i).ctx(R::METHOD)?;
            return Err(HiveError::Remote {
                method: header.name,
                kind: e.kind,
                message: e.message,
            });
        }
        other => {
            return Err(unexpected_reply::<R>(
                seq_id,
                header.name,
                other.to_string(),
                header.sequence_number,
            ));
        }
    }
    if header.name != R::METHOD || header.sequence_number != seq_id {
        return Err(unexpected_reply::<R>(
            seq_id,
            header.name,
            header.message_type.to_string(),
            header.sequence_number,
        ));
    }
    let mut response = None;
    let mut r = StructReader::begin(i, R::METHOD)?;
    while let Some((id, ty)) = r.next_field()? {
        match id {
            0 => response = Some(r.child::<R::Response>(id, ty)?),
            _ => r.skip(ty)?,
        }
    }
    r.end()?;
    i.read_message_end().ctx(R::METHOD)?;
    required(response, R::METHOD, "success")
}

/// Reads the reply to a call of `R` from one complete message in `bytes` (a SASL frame, an
/// HTTP body). Trailing bytes are an error.
pub fn decode_reply<R: Request>(bytes: &[u8], seq_id: i32) -> Result<R::Response, HiveError> {
    let mut rest = bytes;
    let response = {
        let mut i = slice_protocol(&mut rest, R::METHOD)?;
        read_reply::<R>(&mut i, seq_id)?
    };
    if !rest.is_empty() {
        return Err(HiveError::Malformed {
            what: format!("{} bytes after the end of the message", rest.len()),
            at: R::METHOD,
        });
    }
    Ok(response)
}

fn unexpected_reply<R: Request>(
    expected_seq: i32,
    found: String,
    found_type: String,
    found_seq: i32,
) -> HiveError {
    HiveError::UnexpectedReply {
        expected: R::METHOD,
        expected_seq,
        found,
        found_type,
        found_seq,
    }
}

/// A strict binary input protocol over a byte slice whose limits are the slice's length, so
/// no length field can make the thrift crate allocate more than the bytes that are there.
/// The slice is advanced as the protocol reads.
pub(crate) fn slice_protocol<'r, 'b>(
    rest: &'r mut &'b [u8],
    context: &'static str,
) -> Result<TBinaryInputProtocol<&'r mut &'b [u8]>, HiveError> {
    let len = rest.len().max(1);
    let config = TConfiguration::builder()
        .max_message_size(Some(len))
        .max_frame_size(None)
        .max_string_size(Some(len))
        .build()
        .ctx(context)?;
    Ok(TBinaryInputProtocol::with_config(rest, true, config))
}

/// Attaches a context to thrift crate errors.
pub(crate) trait ThriftContext<T> {
    /// Maps the error to [`HiveError::Protocol`].
    fn ctx(self, context: &'static str) -> Result<T, HiveError>;
}

impl<T> ThriftContext<T> for thrift::Result<T> {
    fn ctx(self, context: &'static str) -> Result<T, HiveError> {
        self.map_err(|source| HiveError::Protocol { context, source })
    }
}

/// Unwraps a required field.
pub(crate) fn required<T>(
    value: Option<T>,
    structure: &'static str,
    field: &'static str,
) -> Result<T, HiveError> {
    value.ok_or(HiveError::MissingField { structure, field })
}

/// The IDL name of a wire type.
pub(crate) fn ttype_name(t: TType) -> &'static str {
    match t {
        TType::Stop => "stop",
        TType::Void => "void",
        TType::Bool => "bool",
        TType::I08 => "byte",
        TType::Double => "double",
        TType::I16 => "i16",
        TType::I32 => "i32",
        TType::I64 => "i64",
        TType::String | TType::Utf7 => "string",
        TType::Struct => "struct",
        TType::Map => "map",
        TType::Set => "set",
        TType::List => "list",
        TType::Uuid => "uuid",
    }
}

/// Reads the fields of one struct in order.
pub(crate) struct StructReader<'p> {
    i: &'p mut dyn TInputProtocol,
    name: &'static str,
    in_field: bool,
}

impl<'p> StructReader<'p> {
    /// Reads the struct header.
    pub(crate) fn begin(
        i: &'p mut dyn TInputProtocol,
        name: &'static str,
    ) -> Result<Self, HiveError> {
        i.read_struct_begin().ctx(name)?;
        Ok(StructReader {
            i,
            name,
            in_field: false,
        })
    }

    /// The next field's id and wire type, or `None` at the end of the struct.
    pub(crate) fn next_field(&mut self) -> Result<Option<(i16, TType)>, HiveError> {
        if self.in_field {
            self.i.read_field_end().ctx(self.name)?;
        }
        let field = self.i.read_field_begin().ctx(self.name)?;
        if field.field_type == TType::Stop {
            self.in_field = false;
            return Ok(None);
        }
        self.in_field = true;
        let id = field.id.ok_or_else(|| HiveError::Malformed {
            what: "field without an id".to_owned(),
            at: self.name,
        })?;
        Ok(Some((id, field.field_type)))
    }

    /// Reads the struct end.
    pub(crate) fn end(self) -> Result<(), HiveError> {
        self.i.read_struct_end().ctx(self.name)
    }

    fn expect(&self, id: i16, found: TType, expected: TType) -> Result<(), HiveError> {
        if found == expected {
            Ok(())
        } else {
            Err(HiveError::FieldType {
                structure: self.name,
                field_id: id,
                expected: ttype_name(expected),
                found: ttype_name(found),
            })
        }
    }

    /// Skips the current field's value.
    pub(crate) fn skip(&mut self, ty: TType) -> Result<(), HiveError> {
        self.i.skip(ty).ctx(self.name)
    }

    pub(crate) fn bool(&mut self, id: i16, ty: TType) -> Result<bool, HiveError> {
        self.expect(id, ty, TType::Bool)?;
        self.i.read_bool().ctx(self.name)
    }

    pub(crate) fn i8(&mut self, id: i16, ty: TType) -> Result<i8, HiveError> {
        self.expect(id, ty, TType::I08)?;
        self.i.read_i8().ctx(self.name)
    }

    pub(crate) fn i16(&mut self, id: i16, ty: TType) -> Result<i16, HiveError> {
        self.expect(id, ty, TType::I16)?;
        self.i.read_i16().ctx(self.name)
    }

    pub(crate) fn i32(&mut self, id: i16, ty: TType) -> Result<i32, HiveError> {
        self.expect(id, ty, TType::I32)?;
        self.i.read_i32().ctx(self.name)
    }

    pub(crate) fn i64(&mut self, id: i16, ty: TType) -> Result<i64, HiveError> {
        self.expect(id, ty, TType::I64)?;
        self.i.read_i64().ctx(self.name)
    }

    pub(crate) fn double(&mut self, id: i16, ty: TType) -> Result<f64, HiveError> {
        self.expect(id, ty, TType::Double)?;
        self.i.read_double().ctx(self.name)
    }

    /// A `string` field, with invalid UTF-8 replaced.
    pub(crate) fn string(&mut self, id: i16, ty: TType) -> Result<String, HiveError> {
        self.expect(id, ty, TType::String)?;
        read_string(self.i, self.name)
    }

    /// A `binary` field.
    pub(crate) fn bytes(&mut self, id: i16, ty: TType) -> Result<Vec<u8>, HiveError> {
        self.expect(id, ty, TType::String)?;
        self.i.read_bytes().ctx(self.name)
    }

    /// A struct field.
    pub(crate) fn child<T: HiveStruct>(&mut self, id: i16, ty: TType) -> Result<T, HiveError> {
        self.expect(id, ty, TType::Struct)?;
        T::read_from_in_protocol(self.i)
    }

    /// A struct field read by `read` (for structs that are not a [`HiveStruct`]).
    pub(crate) fn nested<T>(
        &mut self,
        id: i16,
        ty: TType,
        read: impl FnOnce(&mut dyn TInputProtocol) -> Result<T, HiveError>,
    ) -> Result<T, HiveError> {
        self.expect(id, ty, TType::Struct)?;
        read(&mut *self.i)
    }

    /// A `list<elem>` field, each element read by `read`.
    pub(crate) fn list<T>(
        &mut self,
        id: i16,
        ty: TType,
        elem: TType,
        mut read: impl FnMut(&mut dyn TInputProtocol) -> Result<T, HiveError>,
    ) -> Result<Vec<T>, HiveError> {
        self.expect(id, ty, TType::List)?;
        let header = self.i.read_list_begin().ctx(self.name)?;
        if header.size > 0 && header.element_type != elem {
            return Err(HiveError::FieldType {
                structure: self.name,
                field_id: id,
                expected: ttype_name(elem),
                found: ttype_name(header.element_type),
            });
        }
        let mut items = Vec::with_capacity(thrift::protocol::prealloc_size(header.size));
        for _ in 0..header.size {
            items.push(read(&mut *self.i)?);
        }
        self.i.read_list_end().ctx(self.name)?;
        Ok(items)
    }

    /// A `list<string>` field.
    pub(crate) fn string_list(&mut self, id: i16, ty: TType) -> Result<Vec<String>, HiveError> {
        let name = self.name;
        self.list(id, ty, TType::String, |i| read_string(i, name))
    }

    /// A `map<key, value>` field.
    pub(crate) fn map<K: Ord, V>(
        &mut self,
        id: i16,
        ty: TType,
        (key_type, value_type): (TType, TType),
        mut read_key: impl FnMut(&mut dyn TInputProtocol) -> Result<K, HiveError>,
        mut read_value: impl FnMut(&mut dyn TInputProtocol) -> Result<V, HiveError>,
    ) -> Result<BTreeMap<K, V>, HiveError> {
        self.expect(id, ty, TType::Map)?;
        let header = self.i.read_map_begin().ctx(self.name)?;
        if header.size > 0
            && (header.key_type != Some(key_type) || header.value_type != Some(value_type))
        {
            return Err(HiveError::FieldType {
                structure: self.name,
                field_id: id,
                expected: "map of the IDL's key and value types",
                found: "map of other key or value types",
            });
        }
        let mut map = BTreeMap::new();
        for _ in 0..header.size {
            let key = read_key(&mut *self.i)?;
            let value = read_value(&mut *self.i)?;
            map.insert(key, value);
        }
        self.i.read_map_end().ctx(self.name)?;
        Ok(map)
    }

    /// A `map<string, string>` field.
    pub(crate) fn string_map(
        &mut self,
        id: i16,
        ty: TType,
    ) -> Result<BTreeMap<String, String>, HiveError> {
        let name = self.name;
        self.map(
            id,
            ty,
            (TType::String, TType::String),
            |i| read_string(i, name),
            |i| read_string(i, name),
        )
    }
}

/// Reads a `string` leniently: invalid UTF-8 becomes U+FFFD.
pub(crate) fn read_string(
    i: &mut dyn TInputProtocol,
    context: &'static str,
) -> Result<String, HiveError> {
    let bytes = i.read_bytes().ctx(context)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Writes the fields of one struct.
pub(crate) struct StructWriter<'p> {
    o: &'p mut dyn TOutputProtocol,
    name: &'static str,
}

impl<'p> StructWriter<'p> {
    /// Writes the struct header.
    pub(crate) fn begin(
        o: &'p mut dyn TOutputProtocol,
        name: &'static str,
    ) -> Result<Self, HiveError> {
        o.write_struct_begin(&TStructIdentifier::new(name))
            .ctx(name)?;
        Ok(StructWriter { o, name })
    }

    /// Writes the stop field and the struct end.
    pub(crate) fn end(self) -> Result<(), HiveError> {
        self.o.write_field_stop().ctx(self.name)?;
        self.o.write_struct_end().ctx(self.name)
    }

    fn field(
        &mut self,
        id: i16,
        ty: TType,
        write: impl FnOnce(&mut dyn TOutputProtocol) -> Result<(), HiveError>,
    ) -> Result<(), HiveError> {
        self.o
            .write_field_begin(&TFieldIdentifier {
                name: None,
                field_type: ty,
                id: Some(id),
            })
            .ctx(self.name)?;
        write(&mut *self.o)?;
        self.o.write_field_end().ctx(self.name)
    }

    pub(crate) fn bool(&mut self, id: i16, v: bool) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::Bool, |o| o.write_bool(v).ctx(name))
    }

    pub(crate) fn i8(&mut self, id: i16, v: i8) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::I08, |o| o.write_i8(v).ctx(name))
    }

    pub(crate) fn i16(&mut self, id: i16, v: i16) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::I16, |o| o.write_i16(v).ctx(name))
    }

    pub(crate) fn i32(&mut self, id: i16, v: i32) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::I32, |o| o.write_i32(v).ctx(name))
    }

    pub(crate) fn i64(&mut self, id: i16, v: i64) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::I64, |o| o.write_i64(v).ctx(name))
    }

    pub(crate) fn double(&mut self, id: i16, v: f64) -> Result<(), HiveError> {
        let name = self.name;
        self.field(id, TType::Double, |o| o.write_double(v).ctx(name))
    }

    pub(crate) fn string(&mut self, id: i16, v: &str) -> Result<(), HiveError> {
        self.bytes(id, v.as_bytes())
    }

    pub(crate) fn bytes(&mut self, id: i16, v: &[u8]) -> Result<(), HiveError> {
        let name = self.name;
        check_len(v.len(), name)?;
        self.field(id, TType::String, |o| o.write_bytes(v).ctx(name))
    }

    pub(crate) fn child<T: HiveStruct>(&mut self, id: i16, v: &T) -> Result<(), HiveError> {
        self.field(id, TType::Struct, |o| v.write_to_out_protocol(o))
    }

    /// A struct field written by `write` (for structs that are not a [`HiveStruct`]).
    pub(crate) fn nested(
        &mut self,
        id: i16,
        write: impl FnOnce(&mut dyn TOutputProtocol) -> Result<(), HiveError>,
    ) -> Result<(), HiveError> {
        self.field(id, TType::Struct, write)
    }

    /// A `list<elem>` field.
    pub(crate) fn list<T>(
        &mut self,
        id: i16,
        elem: TType,
        items: &[T],
        mut write: impl FnMut(&mut dyn TOutputProtocol, &T) -> Result<(), HiveError>,
    ) -> Result<(), HiveError> {
        let name = self.name;
        let size = check_len(items.len(), name)?;
        self.field(id, TType::List, |o| {
            o.write_list_begin(&TListIdentifier::new(elem, size))
                .ctx(name)?;
            for item in items {
                write(&mut *o, item)?;
            }
            o.write_list_end().ctx(name)
        })
    }

    /// A `list<string>` field.
    pub(crate) fn string_list(&mut self, id: i16, items: &[String]) -> Result<(), HiveError> {
        let name = self.name;
        self.list(id, TType::String, items, |o, s| {
            write_bytes(o, s.as_bytes(), name)
        })
    }

    /// A `map<key, value>` field.
    pub(crate) fn map<K, V>(
        &mut self,
        id: i16,
        (key_type, value_type): (TType, TType),
        map: &BTreeMap<K, V>,
        mut write: impl FnMut(&mut dyn TOutputProtocol, &K, &V) -> Result<(), HiveError>,
    ) -> Result<(), HiveError> {
        let name = self.name;
        let size = check_len(map.len(), name)?;
        self.field(id, TType::Map, |o| {
            o.write_map_begin(&TMapIdentifier::new(key_type, value_type, size))
                .ctx(name)?;
            for (k, v) in map {
                write(&mut *o, k, v)?;
            }
            o.write_map_end().ctx(name)
        })
    }

    /// A `map<string, string>` field.
    pub(crate) fn string_map(
        &mut self,
        id: i16,
        map: &BTreeMap<String, String>,
    ) -> Result<(), HiveError> {
        let name = self.name;
        self.map(id, (TType::String, TType::String), map, |o, k, v| {
            write_bytes(o, k.as_bytes(), name)?;
            write_bytes(o, v.as_bytes(), name)
        })
    }
}

/// Writes a `string`/`binary` value.
pub(crate) fn write_bytes(
    o: &mut dyn TOutputProtocol,
    v: &[u8],
    context: &'static str,
) -> Result<(), HiveError> {
    check_len(v.len(), context)?;
    o.write_bytes(v).ctx(context)
}

/// A container or string length as the i32 the wire carries.
fn check_len(len: usize, context: &'static str) -> Result<i32, HiveError> {
    i32::try_from(len).map_err(|_| HiveError::TooLarge {
        what: context,
        len: len as u64,
        limit: i32::MAX as u64,
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Round-trip helpers shared by the tcli tests.

    use thrift::protocol::TBinaryOutputProtocol;

    use super::{HiveStruct, slice_protocol};

    /// Encodes a struct with the thrift crate's binary protocol.
    pub(crate) fn encode<T: HiveStruct>(value: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            value.write_to_out_protocol(&mut o).expect("write");
        }
        buf
    }

    /// Decodes a struct from bytes, requiring all bytes to be used.
    pub(crate) fn decode<T: HiveStruct>(bytes: &[u8]) -> Result<T, super::HiveError> {
        let mut rest = bytes;
        let value = {
            let mut i = slice_protocol(&mut rest, T::NAME)?;
            T::read_from_in_protocol(&mut i)?
        };
        assert!(rest.is_empty(), "{} trailing bytes", rest.len());
        Ok(value)
    }

    /// Asserts that a struct survives a write and a read, and that every strict prefix of its
    /// encoding is rejected.
    pub(crate) fn round_trip<T: HiveStruct + PartialEq + std::fmt::Debug>(value: &T) {
        let bytes = encode(value);
        let back: T = decode(&bytes).expect("read back");
        assert_eq!(&back, value);
        for len in 0..bytes.len() {
            assert!(
                decode::<T>(&bytes[..len]).is_err(),
                "{}: prefix of {len} bytes accepted",
                T::NAME
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use thrift::{ApplicationError, ApplicationErrorKind};

    use super::*;

    fn handle() -> TSessionHandle {
        TSessionHandle {
            session_id: THandleIdentifier {
                guid: vec![1; 16],
                secret: vec![2; 16],
            },
        }
    }

    #[test]
    fn call_message_layout() {
        let req = TCloseSessionReq {
            session_handle: handle(),
        };
        let bytes = encode_call(7, &req).unwrap();
        // strict header: version 0x8001, type CALL (1)
        assert_eq!(&bytes[..4], &[0x80, 0x01, 0x00, 0x01]);
        assert_eq!(&bytes[4..8], &12i32.to_be_bytes());
        assert_eq!(&bytes[8..20], b"CloseSession");
        assert_eq!(&bytes[20..24], &7i32.to_be_bytes());
        // args struct: field 1, struct
        assert_eq!(&bytes[24..27], &[12, 0, 1]);
        // ends with the request's stop and the args' stop
        assert_eq!(&bytes[bytes.len() - 2..], &[0, 0]);
    }

    fn reply_bytes<T: HiveStruct>(method: &str, ty: TMessageType, seq: i32, resp: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            o.write_message_begin(&TMessageIdentifier::new(method, ty, seq))
                .unwrap();
            let mut w = StructWriter::begin(&mut o, "result").unwrap();
            w.string(5, "unknown field, skipped").unwrap();
            w.child(0, resp).unwrap();
            w.end().unwrap();
            o.write_message_end().unwrap();
        }
        buf
    }

    #[test]
    fn reply_round_trip() {
        let resp = TCloseSessionResp {
            status: TStatus::success(),
        };
        let bytes = reply_bytes("CloseSession", TMessageType::Reply, 3, &resp);
        let back = decode_reply::<TCloseSessionReq>(&bytes, 3).unwrap();
        assert_eq!(back, resp);
        for len in 0..bytes.len() {
            assert!(decode_reply::<TCloseSessionReq>(&bytes[..len], 3).is_err());
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            decode_reply::<TCloseSessionReq>(&trailing, 3),
            Err(HiveError::Malformed { .. })
        ));
    }

    #[test]
    fn reply_for_another_call_is_rejected() {
        let resp = TCloseSessionResp {
            status: TStatus::success(),
        };
        let bytes = reply_bytes("CloseSession", TMessageType::Reply, 3, &resp);
        assert!(matches!(
            decode_reply::<TCloseSessionReq>(&bytes, 4),
            Err(HiveError::UnexpectedReply { found_seq: 3, .. })
        ));
        let bytes = reply_bytes("CloseOperation", TMessageType::Reply, 3, &resp);
        assert!(matches!(
            decode_reply::<TCloseSessionReq>(&bytes, 3),
            Err(HiveError::UnexpectedReply { .. })
        ));
        let bytes = reply_bytes("CloseSession", TMessageType::Call, 3, &resp);
        assert!(matches!(
            decode_reply::<TCloseSessionReq>(&bytes, 3),
            Err(HiveError::UnexpectedReply { .. })
        ));
    }

    #[test]
    fn reply_without_success_field() {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            o.write_message_begin(&TMessageIdentifier::new(
                "CloseSession",
                TMessageType::Reply,
                1,
            ))
            .unwrap();
            let w = StructWriter::begin(&mut o, "result").unwrap();
            w.end().unwrap();
        }
        assert!(matches!(
            decode_reply::<TCloseSessionReq>(&buf, 1),
            Err(HiveError::MissingField {
                structure: "CloseSession",
                field: "success"
            })
        ));
    }

    #[test]
    fn exception_becomes_remote_error() {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            o.write_message_begin(&TMessageIdentifier::new(
                "FetchResults",
                TMessageType::Exception,
                9,
            ))
            .unwrap();
            thrift::Error::write_application_error_to_out_protocol(
                &ApplicationError::new(ApplicationErrorKind::UnknownMethod, "no such method"),
                &mut o,
            )
            .unwrap();
            o.write_message_end().unwrap();
        }
        match decode_reply::<TFetchResultsReq>(&buf, 9) {
            Err(HiveError::Remote {
                method,
                kind,
                message,
            }) => {
                assert_eq!(method, "FetchResults");
                assert_eq!(kind, ApplicationErrorKind::UnknownMethod);
                assert_eq!(message, "no such method");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_utf8_strings_are_lossy() {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            let mut w = StructWriter::begin(&mut o, "TStatus").unwrap();
            w.i32(1, 3).unwrap();
            w.bytes(5, b"bad \xff byte").unwrap();
            w.end().unwrap();
        }
        let status: TStatus = test_util::decode(&buf).unwrap();
        assert_eq!(status.error_message.as_deref(), Some("bad \u{fffd} byte"));
    }

    #[test]
    fn wrong_field_type_is_rejected() {
        let mut buf = Vec::new();
        {
            let mut o = TBinaryOutputProtocol::new(&mut buf, true);
            let mut w = StructWriter::begin(&mut o, "TStatus").unwrap();
            w.string(1, "not an i32").unwrap();
            w.end().unwrap();
        }
        assert!(matches!(
            test_util::decode::<TStatus>(&buf),
            Err(HiveError::FieldType {
                structure: "TStatus",
                field_id: 1,
                ..
            })
        ));
    }

    #[test]
    fn absurd_lengths_do_not_allocate() {
        // TStatus with infoMessages = list<string> of i32::MAX elements, then nothing.
        let mut buf = vec![8, 0, 1, 0, 0, 0, 0, 15, 0, 2, 11];
        buf.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(test_util::decode::<TStatus>(&buf).is_err());
        // errorMessage claiming 2 GiB.
        let mut buf = vec![8, 0, 1, 0, 0, 0, 0, 11, 0, 5];
        buf.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(test_util::decode::<TStatus>(&buf).is_err());
        // negative length
        let mut buf = vec![8, 0, 1, 0, 0, 0, 0, 11, 0, 5];
        buf.extend_from_slice(&(-1i32).to_be_bytes());
        assert!(test_util::decode::<TStatus>(&buf).is_err());
    }
}
