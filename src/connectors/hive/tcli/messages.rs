//! Handles, `TStatus`, and the requests and responses of the RPCs quiver uses (notes
//! `hiveserver2.md` §2.3): OpenSession, ExecuteStatement, GetOperationStatus,
//! GetResultSetMetadata, FetchResults, CancelOperation, CloseOperation, CloseSession.
//!
//! Optional IDL fields are `Option`s, except the few with IDL defaults that quiver always
//! sends (`runAsync`, `queryTimeout`, `fetchType`), which are plain values read back as the
//! default when absent.

use std::collections::BTreeMap;

use thrift::protocol::{TInputProtocol, TOutputProtocol};

use super::enums::{
    TFetchOrientation, TOperationState, TOperationType, TProtocolVersion, TStatusCode,
};
use super::rowset::TRowSet;
use super::schema::TTableSchema;
use super::{HiveStruct, Request, StructReader, StructWriter, required};
use crate::connectors::hive::HiveError;

/// `THandleIdentifier`: a 16-byte public id and a 16-byte secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct THandleIdentifier {
    /// Field 1, `guid`.
    pub guid: Vec<u8>,
    /// Field 2, `secret`.
    pub secret: Vec<u8>,
}

impl HiveStruct for THandleIdentifier {
    const NAME: &'static str = "THandleIdentifier";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut guid, mut secret) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => guid = Some(r.bytes(id, ty)?),
                2 => secret = Some(r.bytes(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(THandleIdentifier {
            guid: required(guid, Self::NAME, "guid")?,
            secret: required(secret, Self::NAME, "secret")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.bytes(1, &self.guid)?;
        w.bytes(2, &self.secret)?;
        w.end()
    }
}

/// `TSessionHandle`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TSessionHandle {
    /// Field 1, `sessionId`.
    pub session_id: THandleIdentifier,
}

/// `TOperationHandle`.
#[derive(Debug, Clone, PartialEq)]
pub struct TOperationHandle {
    /// Field 1, `operationId`.
    pub operation_id: THandleIdentifier,
    /// Field 2, `operationType`.
    pub operation_type: TOperationType,
    /// Field 3, `hasResultSet`.
    pub has_result_set: bool,
    /// Field 4, `modifiedRowCount` (DML only).
    pub modified_row_count: Option<f64>,
}

impl HiveStruct for TOperationHandle {
    const NAME: &'static str = "TOperationHandle";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut op_id, mut op_type, mut has_rs, mut modified) = (None, None, None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => op_id = Some(r.child(id, ty)?),
                2 => op_type = Some(TOperationType::from_value(r.i32(id, ty)?)),
                3 => has_rs = Some(r.bool(id, ty)?),
                4 => modified = Some(r.double(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TOperationHandle {
            operation_id: required(op_id, Self::NAME, "operationId")?,
            operation_type: required(op_type, Self::NAME, "operationType")?,
            has_result_set: required(has_rs, Self::NAME, "hasResultSet")?,
            modified_row_count: modified,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.operation_id)?;
        w.i32(2, self.operation_type.value())?;
        w.bool(3, self.has_result_set)?;
        if let Some(v) = self.modified_row_count {
            w.double(4, v)?;
        }
        w.end()
    }
}

/// `TStatus`, in every response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TStatus {
    /// Field 1, `statusCode`.
    pub status_code: TStatusCode,
    /// Field 2, `infoMessages` (SUCCESS_WITH_INFO; Hive also puts a stack trace here).
    pub info_messages: Option<Vec<String>>,
    /// Field 3, `sqlState`.
    pub sql_state: Option<String>,
    /// Field 4, `errorCode`.
    pub error_code: Option<i32>,
    /// Field 5, `errorMessage`.
    pub error_message: Option<String>,
}

impl TStatus {
    /// A plain SUCCESS.
    pub fn success() -> Self {
        TStatus::default()
    }

    /// `Ok` unless the code is an error ([`TStatusCode::is_error`]), which becomes
    /// [`HiveError::Status`] naming `rpc`.
    pub fn check(&self, rpc: &'static str) -> Result<(), HiveError> {
        if !self.status_code.is_error() {
            return Ok(());
        }
        Err(HiveError::Status {
            rpc,
            code: self.status_code,
            sql_state: self.sql_state.clone(),
            error_code: self.error_code,
            message: self.error_message.clone().unwrap_or_default(),
        })
    }
}

impl HiveStruct for TStatus {
    const NAME: &'static str = "TStatus";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut code = None;
        let mut s = TStatus::default();
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => code = Some(TStatusCode::from_value(r.i32(id, ty)?)),
                2 => s.info_messages = Some(r.string_list(id, ty)?),
                3 => s.sql_state = Some(r.string(id, ty)?),
                4 => s.error_code = Some(r.i32(id, ty)?),
                5 => s.error_message = Some(r.string(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        s.status_code = required(code, Self::NAME, "statusCode")?;
        Ok(s)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i32(1, self.status_code.value())?;
        if let Some(v) = &self.info_messages {
            w.string_list(2, v)?;
        }
        if let Some(v) = &self.sql_state {
            w.string(3, v)?;
        }
        if let Some(v) = self.error_code {
            w.i32(4, v)?;
        }
        if let Some(v) = &self.error_message {
            w.string(5, v)?;
        }
        w.end()
    }
}

/// Structs with exactly one field, required and a struct: most handles-only requests and
/// status-only responses.
macro_rules! single_struct_field {
    ($(#[$meta:meta])* $name:ident, $field:ident: $ty:ty, $idl_field:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            #[doc = concat!("Field 1, `", $idl_field, "`.")]
            pub $field: $ty,
        }

        impl HiveStruct for $name {
            const NAME: &'static str = stringify!($name);

            fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
                let mut value = None;
                let mut r = StructReader::begin(i, Self::NAME)?;
                while let Some((id, ty)) = r.next_field()? {
                    match id {
                        1 => value = Some(r.child(id, ty)?),
                        _ => r.skip(ty)?,
                    }
                }
                r.end()?;
                Ok($name {
                    $field: required(value, Self::NAME, $idl_field)?,
                })
            }

            fn write_to_out_protocol(
                &self,
                o: &mut dyn TOutputProtocol,
            ) -> Result<(), HiveError> {
                let mut w = StructWriter::begin(o, Self::NAME)?;
                w.child(1, &self.$field)?;
                w.end()
            }
        }
    };
}

impl HiveStruct for TSessionHandle {
    const NAME: &'static str = "TSessionHandle";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut value = None;
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => value = Some(r.child(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TSessionHandle {
            session_id: required(value, Self::NAME, "sessionId")?,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.session_id)?;
        w.end()
    }
}

/// `TOpenSessionReq`. Its `Debug` output hides the password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TOpenSessionReq {
    /// Field 1, `client_protocol` (required; IDL default V10).
    pub client_protocol: TProtocolVersion,
    /// Field 2, `username`.
    pub username: Option<String>,
    /// Field 3, `password`.
    pub password: Option<String>,
    /// Field 4, `configuration` (`use:database`, `set:hiveconf:k`, Impala query options;
    /// §2.3).
    pub configuration: Option<BTreeMap<String, String>>,
}

impl std::fmt::Debug for TOpenSessionReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TOpenSessionReq")
            .field("client_protocol", &self.client_protocol)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("configuration", &self.configuration)
            .finish()
    }
}

impl HiveStruct for TOpenSessionReq {
    const NAME: &'static str = "TOpenSessionReq";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut protocol = None;
        let mut req = TOpenSessionReq::default();
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => protocol = Some(TProtocolVersion::from_value(r.i32(id, ty)?)),
                2 => req.username = Some(r.string(id, ty)?),
                3 => req.password = Some(r.string(id, ty)?),
                4 => req.configuration = Some(r.string_map(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        req.client_protocol = required(protocol, Self::NAME, "client_protocol")?;
        Ok(req)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.i32(1, self.client_protocol.value())?;
        if let Some(v) = &self.username {
            w.string(2, v)?;
        }
        if let Some(v) = &self.password {
            w.string(3, v)?;
        }
        if let Some(v) = &self.configuration {
            w.string_map(4, v)?;
        }
        w.end()
    }
}

impl Request for TOpenSessionReq {
    const METHOD: &'static str = "OpenSession";
    type Response = TOpenSessionResp;
}

/// `TOpenSessionResp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TOpenSessionResp {
    /// Field 1, `status`.
    pub status: TStatus,
    /// Field 2, `serverProtocolVersion`: the negotiated version (§1.3).
    pub server_protocol_version: TProtocolVersion,
    /// Field 3, `sessionHandle`.
    pub session_handle: Option<TSessionHandle>,
    /// Field 4, `configuration`.
    pub configuration: Option<BTreeMap<String, String>>,
}

impl HiveStruct for TOpenSessionResp {
    const NAME: &'static str = "TOpenSessionResp";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut status, mut version, mut handle, mut conf) = (None, None, None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => status = Some(r.child(id, ty)?),
                2 => version = Some(TProtocolVersion::from_value(r.i32(id, ty)?)),
                3 => handle = Some(r.child(id, ty)?),
                4 => conf = Some(r.string_map(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TOpenSessionResp {
            status: required(status, Self::NAME, "status")?,
            server_protocol_version: required(version, Self::NAME, "serverProtocolVersion")?,
            session_handle: handle,
            configuration: conf,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.status)?;
        w.i32(2, self.server_protocol_version.value())?;
        if let Some(v) = &self.session_handle {
            w.child(3, v)?;
        }
        if let Some(v) = &self.configuration {
            w.string_map(4, v)?;
        }
        w.end()
    }
}

/// `TExecuteStatementReq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TExecuteStatementReq {
    /// Field 1, `sessionHandle`.
    pub session_handle: TSessionHandle,
    /// Field 2, `statement`.
    pub statement: String,
    /// Field 3, `confOverlay`: settings for this statement only.
    pub conf_overlay: Option<BTreeMap<String, String>>,
    /// Field 4, `runAsync` (IDL default false; always sent).
    pub run_async: bool,
    /// Field 5, `queryTimeout` in seconds (IDL default 0 = none; sent when not 0).
    pub query_timeout: i64,
}

impl HiveStruct for TExecuteStatementReq {
    const NAME: &'static str = "TExecuteStatementReq";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut handle, mut statement, mut overlay) = (None, None, None);
        let (mut run_async, mut timeout) = (false, 0);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => handle = Some(r.child(id, ty)?),
                2 => statement = Some(r.string(id, ty)?),
                3 => overlay = Some(r.string_map(id, ty)?),
                4 => run_async = r.bool(id, ty)?,
                5 => timeout = r.i64(id, ty)?,
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TExecuteStatementReq {
            session_handle: required(handle, Self::NAME, "sessionHandle")?,
            statement: required(statement, Self::NAME, "statement")?,
            conf_overlay: overlay,
            run_async,
            query_timeout: timeout,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.session_handle)?;
        w.string(2, &self.statement)?;
        if let Some(v) = &self.conf_overlay {
            w.string_map(3, v)?;
        }
        w.bool(4, self.run_async)?;
        if self.query_timeout != 0 {
            w.i64(5, self.query_timeout)?;
        }
        w.end()
    }
}

impl Request for TExecuteStatementReq {
    const METHOD: &'static str = "ExecuteStatement";
    type Response = TExecuteStatementResp;
}

/// `TExecuteStatementResp`.
#[derive(Debug, Clone, PartialEq)]
pub struct TExecuteStatementResp {
    /// Field 1, `status`.
    pub status: TStatus,
    /// Field 2, `operationHandle`.
    pub operation_handle: Option<TOperationHandle>,
}

impl HiveStruct for TExecuteStatementResp {
    const NAME: &'static str = "TExecuteStatementResp";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut status, mut handle) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => status = Some(r.child(id, ty)?),
                2 => handle = Some(r.child(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TExecuteStatementResp {
            status: required(status, Self::NAME, "status")?,
            operation_handle: handle,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.status)?;
        if let Some(v) = &self.operation_handle {
            w.child(2, v)?;
        }
        w.end()
    }
}

/// `TGetOperationStatusReq`.
#[derive(Debug, Clone, PartialEq)]
pub struct TGetOperationStatusReq {
    /// Field 1, `operationHandle`.
    pub operation_handle: TOperationHandle,
    /// Field 2, `getProgressUpdate`.
    pub get_progress_update: Option<bool>,
}

impl HiveStruct for TGetOperationStatusReq {
    const NAME: &'static str = "TGetOperationStatusReq";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut handle, mut progress) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => handle = Some(r.child(id, ty)?),
                2 => progress = Some(r.bool(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TGetOperationStatusReq {
            operation_handle: required(handle, Self::NAME, "operationHandle")?,
            get_progress_update: progress,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.operation_handle)?;
        if let Some(v) = self.get_progress_update {
            w.bool(2, v)?;
        }
        w.end()
    }
}

impl Request for TGetOperationStatusReq {
    const METHOD: &'static str = "GetOperationStatus";
    type Response = TGetOperationStatusResp;
}

/// `TGetOperationStatusResp`. Field 10 (`progressUpdateResponse`) is skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TGetOperationStatusResp {
    /// Field 1, `status`.
    pub status: TStatus,
    /// Field 2, `operationState`.
    pub operation_state: Option<TOperationState>,
    /// Field 3, `sqlState` (ERROR_STATE).
    pub sql_state: Option<String>,
    /// Field 4, `errorCode` (ERROR_STATE).
    pub error_code: Option<i32>,
    /// Field 5, `errorMessage` (ERROR_STATE).
    pub error_message: Option<String>,
    /// Field 6, `taskStatus`.
    pub task_status: Option<String>,
    /// Field 7, `operationStarted` (ms since the epoch).
    pub operation_started: Option<i64>,
    /// Field 8, `operationCompleted` (ms since the epoch).
    pub operation_completed: Option<i64>,
    /// Field 9, `hasResultSet`.
    pub has_result_set: Option<bool>,
    /// Field 11, `numModifiedRows`.
    pub num_modified_rows: Option<i64>,
}

impl HiveStruct for TGetOperationStatusResp {
    const NAME: &'static str = "TGetOperationStatusResp";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let mut status = None;
        let mut s = TGetOperationStatusResp::default();
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => status = Some(r.child(id, ty)?),
                2 => s.operation_state = Some(TOperationState::from_value(r.i32(id, ty)?)),
                3 => s.sql_state = Some(r.string(id, ty)?),
                4 => s.error_code = Some(r.i32(id, ty)?),
                5 => s.error_message = Some(r.string(id, ty)?),
                6 => s.task_status = Some(r.string(id, ty)?),
                7 => s.operation_started = Some(r.i64(id, ty)?),
                8 => s.operation_completed = Some(r.i64(id, ty)?),
                9 => s.has_result_set = Some(r.bool(id, ty)?),
                11 => s.num_modified_rows = Some(r.i64(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        s.status = required(status, Self::NAME, "status")?;
        Ok(s)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.status)?;
        if let Some(v) = self.operation_state {
            w.i32(2, v.value())?;
        }
        if let Some(v) = &self.sql_state {
            w.string(3, v)?;
        }
        if let Some(v) = self.error_code {
            w.i32(4, v)?;
        }
        if let Some(v) = &self.error_message {
            w.string(5, v)?;
        }
        if let Some(v) = &self.task_status {
            w.string(6, v)?;
        }
        if let Some(v) = self.operation_started {
            w.i64(7, v)?;
        }
        if let Some(v) = self.operation_completed {
            w.i64(8, v)?;
        }
        if let Some(v) = self.has_result_set {
            w.bool(9, v)?;
        }
        if let Some(v) = self.num_modified_rows {
            w.i64(11, v)?;
        }
        w.end()
    }
}

single_struct_field! {
    /// `TGetResultSetMetadataReq`.
    TGetResultSetMetadataReq, operation_handle: TOperationHandle, "operationHandle"
}

impl Request for TGetResultSetMetadataReq {
    const METHOD: &'static str = "GetResultSetMetadata";
    type Response = TGetResultSetMetadataResp;
}

/// `TGetResultSetMetadataResp`. Impala leaves `schema` unset when there are no columns
/// (§2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TGetResultSetMetadataResp {
    /// Field 1, `status`.
    pub status: TStatus,
    /// Field 2, `schema`.
    pub schema: Option<TTableSchema>,
}

impl HiveStruct for TGetResultSetMetadataResp {
    const NAME: &'static str = "TGetResultSetMetadataResp";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut status, mut schema) = (None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => status = Some(r.child(id, ty)?),
                2 => schema = Some(r.child(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TGetResultSetMetadataResp {
            status: required(status, Self::NAME, "status")?,
            schema,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.status)?;
        if let Some(v) = &self.schema {
            w.child(2, v)?;
        }
        w.end()
    }
}

/// `TFetchResultsReq`.
#[derive(Debug, Clone, PartialEq)]
pub struct TFetchResultsReq {
    /// Field 1, `operationHandle`.
    pub operation_handle: TOperationHandle,
    /// Field 2, `orientation` (FETCH_NEXT).
    pub orientation: TFetchOrientation,
    /// Field 3, `maxRows`. Hive caps it at `hive.server2.thrift.resultset.max.fetch.size`.
    pub max_rows: i64,
    /// Field 4, `fetchType`: 0 = results, 1 = operation log (IDL default 0; always sent).
    pub fetch_type: i16,
}

impl HiveStruct for TFetchResultsReq {
    const NAME: &'static str = "TFetchResultsReq";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut handle, mut orientation, mut max_rows, mut fetch_type) = (None, None, None, 0);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => handle = Some(r.child(id, ty)?),
                2 => orientation = Some(TFetchOrientation::from_value(r.i32(id, ty)?)),
                3 => max_rows = Some(r.i64(id, ty)?),
                4 => fetch_type = r.i16(id, ty)?,
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TFetchResultsReq {
            operation_handle: required(handle, Self::NAME, "operationHandle")?,
            orientation: required(orientation, Self::NAME, "orientation")?,
            max_rows: required(max_rows, Self::NAME, "maxRows")?,
            fetch_type,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.operation_handle)?;
        w.i32(2, self.orientation.value())?;
        w.i64(3, self.max_rows)?;
        w.i16(4, self.fetch_type)?;
        w.end()
    }
}

impl Request for TFetchResultsReq {
    const METHOD: &'static str = "FetchResults";
    type Response = TFetchResultsResp;
}

/// `TFetchResultsResp` in its generic form, with every cell an object ([`TRowSet`]).
///
/// For tests and test servers; the fetch path uses
/// [`decode_fetch_results_reply`](crate::connectors::hive::decode::decode_fetch_results_reply).
#[derive(Debug, Clone, PartialEq)]
pub struct TFetchResultsResp {
    /// Field 1, `status`.
    pub status: TStatus,
    /// Field 2, `hasMoreRows`: real on Impala, always false on Hive and Spark (§2.3).
    pub has_more_rows: Option<bool>,
    /// Field 3, `results`.
    pub results: Option<TRowSet>,
}

impl HiveStruct for TFetchResultsResp {
    const NAME: &'static str = "TFetchResultsResp";

    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> Result<Self, HiveError> {
        let (mut status, mut more, mut results) = (None, None, None);
        let mut r = StructReader::begin(i, Self::NAME)?;
        while let Some((id, ty)) = r.next_field()? {
            match id {
                1 => status = Some(r.child(id, ty)?),
                2 => more = Some(r.bool(id, ty)?),
                3 => results = Some(r.child(id, ty)?),
                _ => r.skip(ty)?,
            }
        }
        r.end()?;
        Ok(TFetchResultsResp {
            status: required(status, Self::NAME, "status")?,
            has_more_rows: more,
            results,
        })
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> Result<(), HiveError> {
        let mut w = StructWriter::begin(o, Self::NAME)?;
        w.child(1, &self.status)?;
        if let Some(v) = self.has_more_rows {
            w.bool(2, v)?;
        }
        if let Some(v) = &self.results {
            w.child(3, v)?;
        }
        w.end()
    }
}

single_struct_field! {
    /// `TCancelOperationReq`.
    TCancelOperationReq, operation_handle: TOperationHandle, "operationHandle"
}

impl Request for TCancelOperationReq {
    const METHOD: &'static str = "CancelOperation";
    type Response = TCancelOperationResp;
}

single_struct_field! {
    /// `TCancelOperationResp`.
    TCancelOperationResp, status: TStatus, "status"
}

single_struct_field! {
    /// `TCloseOperationReq`.
    TCloseOperationReq, operation_handle: TOperationHandle, "operationHandle"
}

impl Request for TCloseOperationReq {
    const METHOD: &'static str = "CloseOperation";
    type Response = TCloseOperationResp;
}

single_struct_field! {
    /// `TCloseOperationResp`.
    TCloseOperationResp, status: TStatus, "status"
}

single_struct_field! {
    /// `TCloseSessionReq`.
    TCloseSessionReq, session_handle: TSessionHandle, "sessionHandle"
}

impl Request for TCloseSessionReq {
    const METHOD: &'static str = "CloseSession";
    type Response = TCloseSessionResp;
}

single_struct_field! {
    /// `TCloseSessionResp`.
    TCloseSessionResp, status: TStatus, "status"
}

#[cfg(test)]
mod tests {
    use thrift::protocol::TType;

    use super::super::rowset::{TColumn, TypedColumn};
    use super::super::test_util::{decode, encode, round_trip};
    use super::*;

    fn handle_id(seed: u8) -> THandleIdentifier {
        THandleIdentifier {
            guid: (0..16).map(|i| i + seed).collect(),
            secret: (0..16).map(|i| 255 - i - seed).collect(),
        }
    }

    fn session() -> TSessionHandle {
        TSessionHandle {
            session_id: handle_id(1),
        }
    }

    fn operation() -> TOperationHandle {
        TOperationHandle {
            operation_id: handle_id(7),
            operation_type: TOperationType::ExecuteStatement,
            has_result_set: true,
            modified_row_count: None,
        }
    }

    fn error_status() -> TStatus {
        TStatus {
            status_code: TStatusCode::Error,
            info_messages: Some(vec!["*org.apache.hive.Foo:12:3".into(), "at x".into()]),
            sql_state: Some("42000".into()),
            error_code: Some(10001),
            error_message: Some("Table not found 'nope'".into()),
        }
    }

    fn conf() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("use:database".to_owned(), "sales".to_owned()),
            ("set:hiveconf:a".to_owned(), "ü".to_owned()),
        ])
    }

    #[test]
    fn handles_and_status() {
        round_trip(&handle_id(3));
        round_trip(&session());
        round_trip(&operation());
        round_trip(&TOperationHandle {
            modified_row_count: Some(-1.0),
            operation_type: TOperationType::Other(99),
            ..operation()
        });
        round_trip(&TStatus::success());
        round_trip(&error_status());
    }

    #[test]
    fn open_session() {
        round_trip(&TOpenSessionReq::default());
        let with_password = TOpenSessionReq {
            client_protocol: TProtocolVersion::V6,
            username: Some("quiver".into()),
            password: Some("TOPSECRET-open-session".into()),
            configuration: Some(conf()),
        };
        round_trip(&with_password);
        let debug = format!("{with_password:?}");
        assert!(
            debug.contains("quiver") && !debug.contains("TOPSECRET"),
            "{debug}"
        );
        round_trip(&TOpenSessionResp {
            status: TStatus::success(),
            server_protocol_version: TProtocolVersion::V6,
            session_handle: Some(session()),
            configuration: Some(conf()),
        });
        round_trip(&TOpenSessionResp {
            status: error_status(),
            server_protocol_version: TProtocolVersion::Other(0xA507),
            session_handle: None,
            configuration: None,
        });
    }

    #[test]
    fn execute_statement() {
        round_trip(&TExecuteStatementReq {
            session_handle: session(),
            statement: "SELECT * FROM t".into(),
            conf_overlay: Some(conf()),
            run_async: true,
            query_timeout: 600,
        });
        round_trip(&TExecuteStatementReq {
            session_handle: session(),
            statement: String::new(),
            conf_overlay: None,
            run_async: false,
            query_timeout: 0,
        });
        round_trip(&TExecuteStatementResp {
            status: TStatus::success(),
            operation_handle: Some(operation()),
        });
        round_trip(&TExecuteStatementResp {
            status: error_status(),
            operation_handle: None,
        });
    }

    #[test]
    fn operation_status() {
        round_trip(&TGetOperationStatusReq {
            operation_handle: operation(),
            get_progress_update: Some(false),
        });
        round_trip(&TGetOperationStatusResp {
            status: TStatus::success(),
            operation_state: Some(TOperationState::Running),
            ..Default::default()
        });
        round_trip(&TGetOperationStatusResp {
            status: TStatus::success(),
            operation_state: Some(TOperationState::Error),
            sql_state: Some("08S01".into()),
            error_code: Some(2),
            error_message: Some("boom".into()),
            task_status: Some("[]".into()),
            operation_started: Some(1_700_000_000_000),
            operation_completed: Some(1_700_000_000_500),
            has_result_set: Some(true),
            num_modified_rows: Some(12),
        });
    }

    #[test]
    fn fetch_cancel_close() {
        round_trip(&TGetResultSetMetadataReq {
            operation_handle: operation(),
        });
        round_trip(&TGetResultSetMetadataResp {
            status: TStatus::success(),
            schema: None,
        });
        round_trip(&TFetchResultsReq {
            operation_handle: operation(),
            orientation: TFetchOrientation::Next,
            max_rows: 10_240,
            fetch_type: 0,
        });
        round_trip(&TFetchResultsResp {
            status: TStatus::success(),
            has_more_rows: Some(true),
            results: Some(TRowSet {
                start_row_offset: 0,
                rows: vec![],
                columns: Some(vec![TColumn::I64(TypedColumn {
                    values: vec![1, 2, 3],
                    nulls: vec![0b010],
                })]),
                binary_columns: None,
                column_count: None,
            }),
        });
        round_trip(&TCancelOperationReq {
            operation_handle: operation(),
        });
        round_trip(&TCancelOperationResp {
            status: TStatus::success(),
        });
        round_trip(&TCloseOperationReq {
            operation_handle: operation(),
        });
        round_trip(&TCloseOperationResp {
            status: error_status(),
        });
        round_trip(&TCloseSessionReq {
            session_handle: session(),
        });
        round_trip(&TCloseSessionResp {
            status: TStatus::success(),
        });
    }

    #[test]
    fn defaults_when_optional_fields_are_absent() {
        // A TExecuteStatementReq written by an old client: fields 1 and 2 only.
        let mut buf = Vec::new();
        {
            let mut o = thrift::protocol::TBinaryOutputProtocol::new(&mut buf, true);
            let mut w = StructWriter::begin(&mut o, "TExecuteStatementReq").unwrap();
            w.child(1, &session()).unwrap();
            w.string(2, "SELECT 1").unwrap();
            w.end().unwrap();
        }
        let req: TExecuteStatementReq = decode(&buf).unwrap();
        assert!(!req.run_async);
        assert_eq!(req.query_timeout, 0);
    }

    #[test]
    fn unknown_fields_are_skipped() {
        // An Impala-style TGetOperationStatusResp with a progress update (field 10) and
        // fields from the future (list of structs, map, nested struct).
        let mut buf = Vec::new();
        {
            let mut o = thrift::protocol::TBinaryOutputProtocol::new(&mut buf, true);
            let mut w = StructWriter::begin(&mut o, "TGetOperationStatusResp").unwrap();
            w.child(10, &error_status()).unwrap();
            w.child(1, &TStatus::success()).unwrap();
            w.list(40, TType::Struct, &[session(), session()], |o, s| {
                s.write_to_out_protocol(o)
            })
            .unwrap();
            w.string_map(41, &conf()).unwrap();
            w.i32(2, TOperationState::Finished.value()).unwrap();
            w.end().unwrap();
        }
        let resp: TGetOperationStatusResp = decode(&buf).unwrap();
        assert_eq!(resp.status, TStatus::success());
        assert_eq!(resp.operation_state, Some(TOperationState::Finished));
    }

    #[test]
    fn missing_required_fields_are_rejected() {
        let resp = TOpenSessionResp {
            status: TStatus::success(),
            server_protocol_version: TProtocolVersion::V6,
            session_handle: None,
            configuration: None,
        };
        // Drop field 2 (i32, id 2) from the encoding: status struct, then 8 0 2 + 4 bytes.
        let bytes = encode(&resp);
        let status_len = encode(&TStatus::success()).len();
        let mut cut = bytes[..3 + status_len].to_vec();
        cut.extend_from_slice(&bytes[3 + status_len + 7..]);
        match decode::<TOpenSessionResp>(&cut) {
            Err(HiveError::MissingField { structure, field }) => {
                assert_eq!(structure, "TOpenSessionResp");
                assert_eq!(field, "serverProtocolVersion");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode::<TStatus>(&[0]),
            Err(HiveError::MissingField {
                field: "statusCode",
                ..
            })
        ));
    }

    #[test]
    fn status_check() {
        assert!(TStatus::success().check("OpenSession").is_ok());
        let still = TStatus {
            status_code: TStatusCode::StillExecuting,
            ..TStatus::default()
        };
        assert!(still.check("FetchResults").is_ok());
        match error_status().check("ExecuteStatement") {
            Err(HiveError::Status {
                rpc,
                sql_state,
                message,
                ..
            }) => {
                assert_eq!(rpc, "ExecuteStatement");
                assert_eq!(sql_state.as_deref(), Some("42000"));
                assert!(message.contains("nope"));
            }
            other => panic!("{other:?}"),
        }
    }
}
