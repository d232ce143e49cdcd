//! TCLIService enums with their wire values (i32 on the wire).
//!
//! Values follow notes `hiveserver2.md` §1.2 (protocol versions), §1.5 (type ids) and the
//! Hive IDL (§1.1) for the status codes, operation states and types, and fetch orientations.
//! Every enum keeps values it does not know in an `Other` variant, as the Rust Thrift
//! generator does with its newtype enums (§1.5), so a newer server never breaks decoding.

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of quiver does not know.
            Other(i32),
        }

        impl $name {
            /// The value on the wire.
            pub fn value(self) -> i32 {
                match self {
                    $( $name::$variant => $value, )+
                    $name::Other(v) => v,
                }
            }

            /// The enum for a wire value; unknown values become `Other`.
            pub fn from_value(v: i32) -> Self {
                match v {
                    $( $value => $name::$variant, )+
                    other => $name::Other(other),
                }
            }
        }
    };
}

wire_enum! {
    /// `TProtocolVersion` (§1.2): what the client speaks and the server negotiates.
    #[derive(Default)]
    TProtocolVersion {
        /// `HIVE_CLI_SERVICE_PROTOCOL_V1`: base.
        V1 = 0,
        /// V2: asynchronous execution.
        V2 = 1,
        /// V3: VARCHAR, primitive type qualifiers.
        V3 = 2,
        /// V4: DECIMAL precision/scale, CHAR.
        V4 = 3,
        /// V5: error details in GetOperationStatus.
        V5 = 4,
        /// V6: binary payload type and columnar result sets.
        V6 = 5,
        /// V7: delegation-token connections.
        V7 = 6,
        /// V8: interval types.
        V8 = 7,
        /// V9: result sets serialized in SerDe (`TRowSet.binaryColumns`).
        V9 = 8,
        /// V10: in-place progress updates. The default: the IDL default for
        /// `TOpenSessionReq.client_protocol` and what the notes recommend sending (§1.3;
        /// Impala clamps it to V6).
        #[default]
        V10 = 9,
        /// V11: timestamp with local time zone.
        V11 = 10,
    }
}

impl TProtocolVersion {
    /// Whether results come as columns (`TRowSet.columns`), i.e. the version is V6 or newer
    /// (§1.3). Unknown values count as columnar only if they are above V6 and below the
    /// Databricks range; rows-or-columns is decided per row set by the decoder anyway.
    pub fn is_columnar(self) -> bool {
        let v = self.value();
        (TProtocolVersion::V6.value()..0xA500).contains(&v)
    }
}

wire_enum! {
    /// `TTypeId` (§1.5): a column's HS2 type in the result set metadata.
    TTypeId {
        /// BOOLEAN.
        Boolean = 0,
        /// TINYINT.
        TinyInt = 1,
        /// SMALLINT.
        SmallInt = 2,
        /// INT.
        Int = 3,
        /// BIGINT.
        BigInt = 4,
        /// FLOAT.
        Float = 5,
        /// DOUBLE.
        Double = 6,
        /// STRING.
        String = 7,
        /// TIMESTAMP.
        Timestamp = 8,
        /// BINARY.
        Binary = 9,
        /// ARRAY.
        Array = 10,
        /// MAP.
        Map = 11,
        /// STRUCT.
        Struct = 12,
        /// UNIONTYPE.
        Union = 13,
        /// USER_DEFINED.
        UserDefined = 14,
        /// DECIMAL.
        Decimal = 15,
        /// NULL.
        Null = 16,
        /// DATE.
        Date = 17,
        /// VARCHAR.
        Varchar = 18,
        /// CHAR.
        Char = 19,
        /// INTERVAL_YEAR_MONTH.
        IntervalYearMonth = 20,
        /// INTERVAL_DAY_TIME.
        IntervalDayTime = 21,
        /// TIMESTAMPLOCALTZ ("TIMESTAMP WITH LOCAL TIME ZONE"; TIMESTAMPTZ in older IDLs).
        TimestampLocalTz = 22,
    }
}

impl TTypeId {
    /// Whether the type is one of the IDL's COMPLEX_TYPES (§1.5).
    pub fn is_complex(self) -> bool {
        matches!(
            self,
            TTypeId::Array | TTypeId::Map | TTypeId::Struct | TTypeId::Union | TTypeId::UserDefined
        )
    }
}

wire_enum! {
    /// `TStatusCode`: the outcome in every response's `TStatus`.
    #[derive(Default)]
    TStatusCode {
        /// SUCCESS_STATUS (the default).
        #[default]
        Success = 0,
        /// SUCCESS_WITH_INFO_STATUS: success, with `infoMessages`.
        SuccessWithInfo = 1,
        /// STILL_EXECUTING_STATUS: Impala, results not ready yet (§2.3); not an error.
        StillExecuting = 2,
        /// ERROR_STATUS.
        Error = 3,
        /// INVALID_HANDLE_STATUS.
        InvalidHandle = 4,
    }
}

impl TStatusCode {
    /// Whether the code reports a failure (§2.3: SUCCESS_WITH_INFO and STILL_EXECUTING do
    /// not). Unknown codes count as failures.
    pub fn is_error(self) -> bool {
        !matches!(
            self,
            TStatusCode::Success | TStatusCode::SuccessWithInfo | TStatusCode::StillExecuting
        )
    }
}

wire_enum! {
    /// `TOperationState`: where an operation is.
    TOperationState {
        /// INITIALIZED_STATE.
        Initialized = 0,
        /// RUNNING_STATE.
        Running = 1,
        /// FINISHED_STATE: results can be fetched.
        Finished = 2,
        /// CANCELED_STATE.
        Canceled = 3,
        /// CLOSED_STATE.
        Closed = 4,
        /// ERROR_STATE: see `errorMessage` and `sqlState`.
        Error = 5,
        /// UKNOWN_STATE (sic, in the IDL).
        UnknownState = 6,
        /// PENDING_STATE.
        Pending = 7,
        /// TIMEDOUT_STATE.
        TimedOut = 8,
    }
}

impl TOperationState {
    /// Whether polling can stop: the state is none of INITIALIZED, PENDING, RUNNING (§2.3).
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            TOperationState::Initialized | TOperationState::Pending | TOperationState::Running
        )
    }
}

wire_enum! {
    /// `TOperationType`: what created an operation handle.
    TOperationType {
        /// EXECUTE_STATEMENT.
        ExecuteStatement = 0,
        /// GET_TYPE_INFO.
        GetTypeInfo = 1,
        /// GET_CATALOGS.
        GetCatalogs = 2,
        /// GET_SCHEMAS.
        GetSchemas = 3,
        /// GET_TABLES.
        GetTables = 4,
        /// GET_TABLE_TYPES.
        GetTableTypes = 5,
        /// GET_COLUMNS.
        GetColumns = 6,
        /// GET_FUNCTIONS.
        GetFunctions = 7,
        /// UNKNOWN.
        Unknown = 8,
    }
}

wire_enum! {
    /// `TFetchOrientation`: FETCH_NEXT everywhere; FETCH_FIRST needs Impala's result cache
    /// (§2.3).
    #[derive(Default)]
    TFetchOrientation {
        /// FETCH_NEXT (the IDL default).
        #[default]
        Next = 0,
        /// FETCH_PRIOR.
        Prior = 1,
        /// FETCH_RELATIVE.
        Relative = 2,
        /// FETCH_ABSOLUTE.
        Absolute = 3,
        /// FETCH_FIRST.
        First = 4,
        /// FETCH_LAST.
        Last = 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ids_match_the_notes() {
        // §1.5, in order.
        let ids = [
            TTypeId::Boolean,
            TTypeId::TinyInt,
            TTypeId::SmallInt,
            TTypeId::Int,
            TTypeId::BigInt,
            TTypeId::Float,
            TTypeId::Double,
            TTypeId::String,
            TTypeId::Timestamp,
            TTypeId::Binary,
            TTypeId::Array,
            TTypeId::Map,
            TTypeId::Struct,
            TTypeId::Union,
            TTypeId::UserDefined,
            TTypeId::Decimal,
            TTypeId::Null,
            TTypeId::Date,
            TTypeId::Varchar,
            TTypeId::Char,
            TTypeId::IntervalYearMonth,
            TTypeId::IntervalDayTime,
            TTypeId::TimestampLocalTz,
        ];
        for (wire, id) in ids.into_iter().enumerate() {
            assert_eq!(id.value(), wire as i32);
            assert_eq!(TTypeId::from_value(wire as i32), id);
        }
        assert_eq!(TTypeId::from_value(23), TTypeId::Other(23));
        assert_eq!(TTypeId::Other(23).value(), 23);
        assert!(TTypeId::Struct.is_complex());
        assert!(!TTypeId::Decimal.is_complex());
    }

    #[test]
    fn protocol_versions() {
        assert_eq!(TProtocolVersion::V1.value(), 0);
        assert_eq!(TProtocolVersion::V6.value(), 5);
        assert_eq!(TProtocolVersion::V11.value(), 10);
        assert_eq!(TProtocolVersion::default(), TProtocolVersion::V10);
        assert!(!TProtocolVersion::V5.is_columnar());
        assert!(TProtocolVersion::V6.is_columnar());
        assert!(TProtocolVersion::from_value(11).is_columnar());
        assert!(!TProtocolVersion::from_value(0xA507).is_columnar());
    }

    #[test]
    fn states_and_codes() {
        assert!(!TOperationState::Running.is_terminal());
        assert!(!TOperationState::Pending.is_terminal());
        assert!(TOperationState::Finished.is_terminal());
        assert!(TOperationState::Error.is_terminal());
        assert_eq!(TOperationState::from_value(8), TOperationState::TimedOut);
        assert!(!TStatusCode::StillExecuting.is_error());
        assert!(!TStatusCode::SuccessWithInfo.is_error());
        assert!(TStatusCode::InvalidHandle.is_error());
        assert!(TStatusCode::Other(42).is_error());
    }
}
