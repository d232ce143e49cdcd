//! A Parquet footer kept as bytes while the file is written, so a file's memory does not grow
//! with its row groups.
//!
//! ```text
//!  row group closes ─▶ parquet-rs serializes a one-row-group footer into scratch:
//!                        [column indexes][offset indexes][FileMetaData {row_groups: [rg]}]
//!                      ─▶ kept: the index bytes, and rg's Thrift bytes cut out of the footer
//!  file finishes    ─▶ every kept index written in turn, each row group's index offsets
//!                      moved by where its indexes landed
//!                   ─▶ FileMetaData {row_groups: []} from parquet-rs, with the kept row
//!                      groups spliced into its list ─▶ length, "PAR1"
//! ```
//!
//! parquet-rs's file writer holds every closed row group's metadata, column index and offset
//! index as structs until the footer is written: 11 KB for a 128 Ki-row row group of eight
//! columns, plus the heap growth around those small long-lived blocks (BENCHMARKS.md, "the peak
//! is not bounded at 300M rows"). Serialized, a row group's footer entry is a few hundred
//! bytes. All encoding is parquet-rs's own; this module only reads Thrift's compact protocol,
//! with the thrift crate's decoder (the HiveServer2 client's), to find a list, cut out its
//! element and rewrite two integer fields. The field ids used are those of `parquet.thrift`: `FileMetaData`
//! field 4 is `row_groups`, `RowGroup` field 1 is `columns`, and `ColumnChunk` fields 4 and 6
//! are the offset index's and column index's file offsets.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use parquet::errors::{ParquetError, Result};
use thrift::protocol::{TCompactInputProtocol, TInputProtocol, TType};

/// The compact protocol's type id of a struct, as a list header carries it.
const COMPACT_STRUCT: u8 = 12;
/// `FileMetaData.num_rows`.
const FILE_NUM_ROWS: i16 = 3;
/// `FileMetaData.row_groups`.
const FILE_ROW_GROUPS: i16 = 4;
/// `RowGroup.columns`.
const ROW_GROUP_COLUMNS: i16 = 1;
/// `ColumnChunk.offset_index_offset`.
const CHUNK_OFFSET_INDEX_OFFSET: i16 = 4;
/// `ColumnChunk.column_index_offset`.
const CHUNK_COLUMN_INDEX_OFFSET: i16 = 6;

fn malformed(what: &str) -> ParquetError {
    ParquetError::General(format!("Parquet footer: {what}"))
}

fn thrift_error(e: thrift::Error) -> ParquetError {
    malformed(&e.to_string())
}

/// Compact-protocol bytes read with the thrift crate's decoder, which reads its transport a
/// byte or a value at a time and no further: the bytes consumed are the position.
struct Reader<'a> {
    protocol: TCompactInputProtocol<Counted<'a>>,
    at: Rc<Cell<usize>>,
}

/// A byte slice that counts what is read from it.
struct Counted<'a> {
    rest: &'a [u8],
    at: Rc<Cell<usize>>,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.rest.read(buf)?;
        self.at.set(self.at.get() + n);
        Ok(n)
    }
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let at = Rc::new(Cell::new(0));
        let counted = Counted {
            rest: bytes,
            at: Rc::clone(&at),
        };
        Reader {
            protocol: TCompactInputProtocol::new(counted),
            at,
        }
    }

    fn at(&self) -> usize {
        self.at.get()
    }

    /// The next field's id and type, or `None` at the struct's end.
    fn field(&mut self) -> Result<Option<(i16, TType)>> {
        let field = self.protocol.read_field_begin().map_err(thrift_error)?;
        Ok(match (field.field_type, field.id) {
            (TType::Stop, _) => None,
            (kind, Some(id)) => Some((id, kind)),
            (_, None) => return Err(malformed("a field without an id")),
        })
    }

    /// A list's size, checking that its elements are structs.
    fn struct_list(&mut self, what: &str) -> Result<usize> {
        let list = self.protocol.read_list_begin().map_err(thrift_error)?;
        if list.size > 0 && list.element_type != TType::Struct {
            return Err(malformed(&format!("{what} is not a list of structs")));
        }
        usize::try_from(list.size).map_err(|_| malformed("a negative list size"))
    }

    fn skip(&mut self, kind: TType) -> Result<()> {
        self.protocol.skip(kind).map_err(thrift_error)
    }

    fn i64(&mut self) -> Result<i64> {
        self.protocol.read_i64().map_err(thrift_error)
    }

    fn begin(&mut self) -> Result<()> {
        self.protocol.read_struct_begin().map_err(thrift_error)?;
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        self.protocol.read_struct_end().map_err(thrift_error)
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Where `FileMetaData`'s fields are in `file_metadata`, which must be exactly one struct.
struct FileFields {
    /// The byte range of `num_rows`' value.
    num_rows: std::ops::Range<usize>,
    /// The byte range of the `row_groups` list's header.
    list_header: std::ops::Range<usize>,
    /// The list's size.
    count: usize,
    /// Where the list's elements end.
    list_end: usize,
}

fn file_fields(file_metadata: &[u8]) -> Result<FileFields> {
    let mut r = Reader::new(file_metadata);
    let (mut num_rows, mut list) = (None, None);
    r.begin()?;
    while let Some((id, kind)) = r.field()? {
        match (id, kind) {
            (FILE_NUM_ROWS, TType::I64) => {
                let start = r.at();
                r.i64()?;
                num_rows = Some(start..r.at());
            }
            (FILE_ROW_GROUPS, TType::List) => {
                let start = r.at();
                let size = r.struct_list("row_groups")?;
                let header = start..r.at();
                for _ in 0..size {
                    r.skip(TType::Struct)?;
                }
                list = Some((header, size, r.at()));
            }
            _ => r.skip(kind)?,
        }
    }
    r.end()?;
    if r.at() != file_metadata.len() {
        return Err(malformed("bytes after FileMetaData"));
    }
    let num_rows = num_rows.ok_or_else(|| malformed("FileMetaData has no num_rows"))?;
    let (list_header, count, list_end) =
        list.ok_or_else(|| malformed("FileMetaData has no row_groups"))?;
    if num_rows.start > list_header.start {
        return Err(malformed("num_rows after row_groups"));
    }
    Ok(FileFields {
        num_rows,
        list_header,
        count,
        list_end,
    })
}

/// The Thrift bytes of the one row group in a serialized `FileMetaData`.
pub fn single_row_group(file_metadata: &[u8]) -> Result<&[u8]> {
    let f = file_fields(file_metadata)?;
    if f.count != 1 {
        return Err(malformed(&format!(
            "{} row groups where one was written",
            f.count
        )));
    }
    Ok(&file_metadata[f.list_header.end..f.list_end])
}

/// `file_metadata` (serialized with no row groups) with `count` row groups, `row_groups` being
/// their Thrift bytes in order, as its `row_groups` list, and `num_rows` rows.
pub fn with_row_groups(
    file_metadata: &[u8],
    num_rows: i64,
    count: usize,
    row_groups: &[u8],
) -> Result<Vec<u8>> {
    let f = file_fields(file_metadata)?;
    if f.count != 0 {
        return Err(malformed(
            "the footer to splice into already has row groups",
        ));
    }
    let mut out = Vec::with_capacity(file_metadata.len() + row_groups.len() + 20);
    out.extend_from_slice(&file_metadata[..f.num_rows.start]);
    put_varint(zigzag(num_rows), &mut out);
    out.extend_from_slice(&file_metadata[f.num_rows.end..f.list_header.start]);
    // A list header: the size in the high nibble, or 15 there and the size as a varint.
    if count < 15 {
        out.push(((count as u8) << 4) | COMPACT_STRUCT);
    } else {
        out.push(0xf0 | COMPACT_STRUCT);
        put_varint(count as u64, &mut out);
    }
    out.extend_from_slice(row_groups);
    out.extend_from_slice(&file_metadata[f.list_end..]);
    Ok(out)
}

/// Appends `row_group` to `out` with every column chunk's offset-index and column-index
/// offsets moved by `by` bytes; everything else is copied as it is.
pub fn shift_index_offsets(row_group: &[u8], by: i64, out: &mut Vec<u8>) -> Result<()> {
    let mut r = Reader::new(row_group);
    let mut copied = 0;
    r.begin()?;
    while let Some((id, kind)) = r.field()? {
        if id != ROW_GROUP_COLUMNS || kind != TType::List {
            r.skip(kind)?;
            continue;
        }
        for _ in 0..r.struct_list("columns")? {
            r.begin()?;
            while let Some((id, kind)) = r.field()? {
                let is_index_offset =
                    id == CHUNK_OFFSET_INDEX_OFFSET || id == CHUNK_COLUMN_INDEX_OFFSET;
                if !(is_index_offset && kind == TType::I64) {
                    r.skip(kind)?;
                    continue;
                }
                out.extend_from_slice(&row_group[copied..r.at()]);
                let offset = r
                    .i64()?
                    .checked_add(by)
                    .ok_or_else(|| malformed("an index offset out of range"))?;
                put_varint(zigzag(offset), out);
                copied = r.at();
            }
            r.end()?;
        }
    }
    r.end()?;
    if r.at() != row_group.len() {
        return Err(malformed("bytes after the row group"));
    }
    out.extend_from_slice(&row_group[copied..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use thrift::protocol::{
        TCompactOutputProtocol, TFieldIdentifier, TListIdentifier, TOutputProtocol,
        TStructIdentifier,
    };

    use super::*;

    /// Bytes the encoder writes, readable after it is done.
    #[derive(Clone, Default)]
    struct Shared(Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Writes Thrift with the thrift crate's own compact encoder.
    struct Writer(TCompactOutputProtocol<Shared>, Shared);

    impl Writer {
        fn new() -> Self {
            let out = Shared::default();
            Writer(TCompactOutputProtocol::new(out.clone()), out)
        }
        fn begin(&mut self) {
            self.0
                .write_struct_begin(&TStructIdentifier::new("s"))
                .unwrap();
        }
        fn end(&mut self) {
            self.0.write_field_stop().unwrap();
            self.0.write_struct_end().unwrap();
        }
        fn field(&mut self, id: i16, kind: TType) {
            self.0
                .write_field_begin(&TFieldIdentifier::new("f", kind, id))
                .unwrap();
        }
        fn i64(&mut self, id: i16, v: i64) {
            self.field(id, TType::I64);
            self.0.write_i64(v).unwrap();
            self.0.write_field_end().unwrap();
        }
        fn i32(&mut self, id: i16, v: i32) {
            self.field(id, TType::I32);
            self.0.write_i32(v).unwrap();
            self.0.write_field_end().unwrap();
        }
        fn list(&mut self, id: i16, size: usize) {
            self.field(id, TType::List);
            let list = TListIdentifier::new(TType::Struct, size as i32);
            self.0.write_list_begin(&list).unwrap();
        }
        fn list_end(&mut self) {
            self.0.write_list_end().unwrap();
            self.0.write_field_end().unwrap();
        }
        fn bytes(mut self) -> Vec<u8> {
            self.0.flush().unwrap();
            self.1.0.take()
        }
    }

    /// A row group with `chunks` column chunks, whose index offsets are `base + i`.
    fn row_group(w: &mut Writer, chunks: usize, base: i64) {
        w.begin();
        w.list(ROW_GROUP_COLUMNS, chunks);
        for i in 0..chunks as i64 {
            w.begin();
            w.field(1, TType::String);
            w.0.write_string("path").unwrap();
            w.0.write_field_end().unwrap();
            w.i64(2, 4 + i);
            w.i64(CHUNK_OFFSET_INDEX_OFFSET, base + i);
            w.i32(5, 17);
            w.i64(CHUNK_COLUMN_INDEX_OFFSET, base + 100 + i);
            w.field(8, TType::Bool);
            w.0.write_bool(true).unwrap();
            w.0.write_field_end().unwrap();
            w.end();
        }
        w.list_end();
        w.i64(3, 1000);
        w.field(20, TType::Double);
        w.0.write_double(0.5).unwrap();
        w.0.write_field_end().unwrap();
        w.end();
    }

    fn file_metadata(row_groups: &[(usize, i64)]) -> Vec<u8> {
        file_metadata_with_rows(row_groups, 42)
    }

    fn file_metadata_with_rows(row_groups: &[(usize, i64)], rows: i64) -> Vec<u8> {
        let mut w = Writer::new();
        w.begin();
        w.i32(1, 2);
        w.list(2, 0);
        w.list_end();
        w.i64(FILE_NUM_ROWS, rows);
        w.list(FILE_ROW_GROUPS, row_groups.len());
        for &(chunks, base) in row_groups {
            row_group(&mut w, chunks, base);
        }
        w.list_end();
        w.field(6, TType::String);
        w.0.write_string("quiver").unwrap();
        w.0.write_field_end().unwrap();
        w.end();
        w.bytes()
    }

    fn solo_row_group(chunks: usize, base: i64) -> Vec<u8> {
        let mut w = Writer::new();
        row_group(&mut w, chunks, base);
        w.bytes()
    }

    #[test]
    fn a_row_group_is_cut_out_and_spliced_back_byte_for_byte() {
        let one = file_metadata(&[(3, 10)]);
        let rg = single_row_group(&one).unwrap().to_vec();
        assert_eq!(rg, solo_row_group(3, 10));

        for count in [0, 2, 14, 15, 40] {
            let rows = 1000 * count as i64;
            let expected = file_metadata_with_rows(&vec![(3, 10); count], rows);
            let rgs = rg.repeat(count);
            let empty = file_metadata_with_rows(&[], 0);
            let spliced = with_row_groups(&empty, rows, count, &rgs).unwrap();
            assert_eq!(spliced, expected, "{count} row groups");
        }
    }

    #[test]
    fn index_offsets_move_and_nothing_else_does() {
        for (base, by) in [(10, 5), (60, 1 << 40), (1 << 20, 0), (3, -3)] {
            let mut out = Vec::new();
            shift_index_offsets(&solo_row_group(20, base), by, &mut out).unwrap();
            assert_eq!(out, solo_row_group(20, base + by), "base {base} by {by}");
        }
    }

    #[test]
    fn bytes_that_are_not_a_footer_are_an_error_not_a_panic() {
        let good = file_metadata(&[(2, 7)]);
        for cut in 0..good.len() {
            assert!(single_row_group(&good[..cut]).is_err(), "cut at {cut}");
        }
        assert!(single_row_group(&file_metadata(&[(2, 7), (2, 7)])).is_err());
        assert!(
            with_row_groups(&good, 1, 1, &[]).is_err(),
            "already has row groups"
        );
        assert!(single_row_group(&[0x1f; 64]).is_err());
        let mut deep = vec![0x1c; 200];
        deep.push(0);
        assert!(single_row_group(&deep).is_err());
        let mut out = Vec::new();
        assert!(shift_index_offsets(&[0x19, 0x3c], 1, &mut out).is_err());
        assert!(shift_index_offsets(&[0x16, 0xff], 1, &mut out).is_err());
    }
}
