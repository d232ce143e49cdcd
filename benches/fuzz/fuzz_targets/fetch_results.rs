//! Fuzzes the hand-written FetchResults decoder and the NOSASL message framer with untrusted
//! bytes.
//!
//! Input layout (the seeds written by `benches/fuzz_decoder.sh` follow it):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | bit 7: the data is a bare `TRowSet` ([`decode_row_set`]) instead of a reply message; low nibble mod 9: column count |
//! | 1..=n | one per column: index into [`KINDS`] (mod 9) |
//! | next 2 | big-endian `limit` for [`complete_message_len`]; `0xffff` means no limit |
//! | rest | the bytes under test |
//!
//! Besides "never panics" (arithmetic overflow included: cargo-fuzz builds with overflow
//! checks and debug assertions), every `Ok` must satisfy the decoder's contract:
//! one array per spec, each `num_rows` long, of the spec's Arrow type, passing Arrow's full
//! validation (offsets, UTF-8, null buffer lengths); UTF-8 repair reports that name Utf8
//! columns and real rows. The framer must agree with the decoder on where a decodable
//! message ends, and any proper prefix of a framed message must ask for more bytes rather
//! than fail (a NOSASL reply may arrive in any number of TCP reads).
//!
//! With `QUIVER_FUZZ_DEBUG` set, each input's outcome is printed (run the binary on a file
//! to see what a seed or crash input decodes to).

#![no_main]

use std::sync::LazyLock;

use arrow::array::Array;
use libfuzzer_sys::fuzz_target;
use quiver::connectors::hive::HiveError;
use quiver::connectors::hive::decode::{
    ColumnKind, ColumnSpec, DecodedRowSet, complete_message_len, decode_fetch_results_reply,
    decode_row_set,
};

/// The sequence id the seeds' replies carry.
const SEQ_ID: i32 = 1;

/// Column kinds chosen by the layout bytes.
const KINDS: [ColumnKind; 9] = [
    ColumnKind::Boolean,
    ColumnKind::Int8,
    ColumnKind::Int16,
    ColumnKind::Int32,
    ColumnKind::Int64,
    ColumnKind::Float32,
    ColumnKind::Float64,
    ColumnKind::Utf8,
    ColumnKind::Binary,
];

/// Spec names, unique so that repair reports can be matched to a spec.
const NAMES: [&str; 8] = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];

static DEBUG: LazyLock<bool> = LazyLock::new(|| std::env::var_os("QUIVER_FUZZ_DEBUG").is_some());

/// The outcome, briefly, for `QUIVER_FUZZ_DEBUG`.
fn describe<T>(r: &Result<T, HiveError>, rows: impl Fn(&T) -> String) -> String {
    match r {
        Ok(v) => format!("Ok({})", rows(v)),
        Err(e) => format!("Err({e})"),
    }
}

fn rows_of(set: Option<&DecodedRowSet>) -> String {
    set.map_or("no row set".to_owned(), |s| {
        format!("{} rows, {:?}, repairs {:?}", s.num_rows, s.layout, s.utf8_repairs)
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&head, rest)) = input.split_first() else {
        return;
    };
    let row_set_only = head & 0x80 != 0;
    let ncols = usize::from(head & 0x0f) % 9;
    let Some((kinds, rest)) = rest.split_at_checked(ncols) else {
        return;
    };
    let Some((limit, data)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let limit = match u16::from_be_bytes(*limit) {
        u16::MAX => usize::MAX,
        n => usize::from(n),
    };
    let specs: Vec<ColumnSpec> = kinds
        .iter()
        .zip(NAMES)
        .map(|(&k, name)| ColumnSpec::new(name, KINDS[usize::from(k) % KINDS.len()]))
        .collect();

    if row_set_only {
        let decoded = decode_row_set(data, &specs);
        if *DEBUG {
            eprintln!("row set {specs:?}: {}", describe(&decoded, |s| rows_of(Some(s))));
        }
        if let Ok(set) = decoded {
            check_row_set(&set, &specs);
        }
        return;
    }

    let decoded = decode_fetch_results_reply(data, SEQ_ID, &specs);
    if *DEBUG {
        eprintln!(
            "reply {specs:?}: {}; framed: {:?}",
            describe(&decoded, |r| format!(
                "{:?}, more {:?}, {}",
                r.status.status_code,
                r.has_more_rows,
                rows_of(r.results.as_ref())
            )),
            complete_message_len(data, limit)
        );
    }
    if let Ok(reply) = &decoded {
        if let Some(set) = &reply.results {
            check_row_set(set, &specs);
        }
        // The framer must measure a decodable message as exactly its bytes (the decoder
        // rejects trailing bytes). The one allowed disagreement: the thrift crate reads
        // TStatus with a fresh nesting budget, so an unknown field nested ~60 levels deep
        // inside it can exceed the framer's MAX_SKIP_DEPTH for the whole message.
        match complete_message_len(data, usize::MAX) {
            Ok(Some(n)) => assert_eq!(n, data.len(), "framer and decoder disagree on the end"),
            Err(HiveError::Malformed { what, .. }) if what.contains("nested deeper") => {}
            other => panic!("decoded a reply the framer rejects: {other:?}"),
        }
    }

    match complete_message_len(data, limit) {
        Ok(Some(n)) => {
            assert!(n <= data.len(), "length {n} beyond the {} bytes", data.len());
            assert!(n <= limit, "length {n} over the limit {limit}");
            // The message alone frames the same, and every proper prefix asks for more.
            assert_eq!(complete_message_len(&data[..n], limit).ok(), Some(Some(n)));
            for cut in [n.saturating_sub(1), n / 2, n.min(5)] {
                if cut < n {
                    let r = complete_message_len(&data[..cut], limit);
                    assert!(
                        matches!(r, Ok(None)),
                        "prefix {cut} of a {n}-byte message gives {r:?}"
                    );
                }
            }
        }
        Ok(None) => {
            // Incomplete: the decoder cannot have accepted it.
            assert!(decoded.is_err(), "decoded a message the framer calls incomplete");
        }
        Err(HiveError::TooLarge { len, limit: l, .. }) => {
            assert_eq!(l, limit as u64);
            assert!(len > l, "TooLarge with len {len} <= limit {l}");
        }
        Err(_) => {}
    }
});

/// The decoder's contract for a decoded row set.
fn check_row_set(set: &DecodedRowSet, specs: &[ColumnSpec]) {
    assert_eq!(set.columns.len(), specs.len(), "one array per spec");
    for (array, spec) in set.columns.iter().zip(specs) {
        assert_eq!(array.len(), set.num_rows, "column {} length", spec.name);
        assert_eq!(
            array.data_type(),
            &spec.kind.data_type(),
            "column {} type",
            spec.name
        );
        if let Err(e) = array.to_data().validate_full() {
            panic!("column {} is not a valid Arrow array: {e}", spec.name);
        }
    }
    for repair in &set.utf8_repairs {
        let spec = specs
            .iter()
            .find(|s| s.name == repair.column)
            .unwrap_or_else(|| panic!("repair names unknown column {}", repair.column));
        assert_eq!(spec.kind, ColumnKind::Utf8, "repair of a non-Utf8 column");
        assert!(repair.values >= 1, "repair of no values");
        assert!(
            repair.first_row + repair.values <= set.num_rows,
            "repair {repair:?} beyond {} rows",
            set.num_rows
        );
    }
}
