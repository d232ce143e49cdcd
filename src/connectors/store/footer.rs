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
//! bytes. All encoding is parquet-rs's own; this module only walks Thrift's compact protocol
//! (the Thrift spec's `thrift-compact-protocol.md`) to find a list, cut out its element and
//! rewrite two integer fields. The field ids used are those of `parquet.thrift`: `FileMetaData`
//! field 4 is `row_groups`, `RowGroup` field 1 is `columns`, and `ColumnChunk` fields 4 and 6
//! are the offset index's and column index's file offsets.

use parquet::errors::{ParquetError, Result};

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

/// Compact protocol type ids.
mod ty {
    pub const STOP: u8 = 0;
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
}

/// Nesting deeper than any Parquet footer has.
const MAX_DEPTH: usize = 32;

fn malformed(what: &str) -> ParquetError {
    ParquetError::General(format!("Parquet footer: {what}"))
}

/// A position in compact-protocol bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, at: 0 }
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| malformed("ends inside a value"))?;
        self.at += 1;
        Ok(b)
    }

    fn advance(&mut self, n: usize) -> Result<()> {
        if self.bytes.len() - self.at < n {
            return Err(malformed("ends inside a value"));
        }
        self.at += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("a varint longer than 10 bytes"))
    }

    /// A field header: `None` at the struct's end, else the field's id and type.
    fn field(&mut self, last_id: &mut i16) -> Result<Option<(i16, u8)>> {
        let header = self.byte()?;
        let kind = header & 0x0f;
        if kind == ty::STOP {
            return Ok(None);
        }
        let delta = header >> 4;
        let id = if delta == 0 {
            let id = unzigzag(self.varint()?);
            i16::try_from(id).map_err(|_| malformed("a field id out of range"))?
        } else {
            last_id
                .checked_add(i16::from(delta))
                .ok_or_else(|| malformed("a field id out of range"))?
        };
        *last_id = id;
        Ok(Some((id, kind)))
    }

    /// A list or set header: its size and element type.
    fn list(&mut self) -> Result<(usize, u8)> {
        let header = self.byte()?;
        let size = match header >> 4 {
            15 => usize::try_from(self.varint()?)
                .map_err(|_| malformed("a list size out of range"))?,
            small => usize::from(small),
        };
        Ok((size, header & 0x0f))
    }

    /// Steps over one value of type `kind`. `in_list` matters for booleans, which are a byte
    /// in a list and part of the header in a struct.
    fn skip(&mut self, kind: u8, in_list: bool, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(malformed("nested too deeply"));
        }
        match kind {
            ty::TRUE | ty::FALSE => {
                if in_list {
                    self.advance(1)?;
                }
            }
            ty::BYTE => self.advance(1)?,
            ty::I16 | ty::I32 | ty::I64 => {
                self.varint()?;
            }
            ty::DOUBLE => self.advance(8)?,
            ty::BINARY => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| malformed("a length out of range"))?;
                self.advance(len)?;
            }
            ty::LIST | ty::SET => {
                let (size, element) = self.list()?;
                for _ in 0..size {
                    self.skip(element, true, depth + 1)?;
                }
            }
            ty::MAP => {
                let size = self.varint()?;
                if size > 0 {
                    let kinds = self.byte()?;
                    for _ in 0..size {
                        self.skip(kinds >> 4, true, depth + 1)?;
                        self.skip(kinds & 0x0f, true, depth + 1)?;
                    }
                }
            }
            ty::STRUCT => {
                let mut last = 0;
                while let Some((_, kind)) = self.field(&mut last)? {
                    self.skip(kind, false, depth + 1)?;
                }
            }
            other => return Err(malformed(&format!("unknown type id {other}"))),
        }
        Ok(())
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
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
    let mut c = Cursor::new(file_metadata);
    let mut last = 0;
    let (mut num_rows, mut list) = (None, None);
    while let Some((id, kind)) = c.field(&mut last)? {
        match (id, kind) {
            (FILE_NUM_ROWS, ty::I64) => {
                let start = c.at;
                c.varint()?;
                num_rows = Some(start..c.at);
            }
            (FILE_ROW_GROUPS, ty::LIST) => {
                let start = c.at;
                let (size, element) = c.list()?;
                if size > 0 && element != ty::STRUCT {
                    return Err(malformed("row_groups is not a list of structs"));
                }
                let header = start..c.at;
                for _ in 0..size {
                    c.skip(ty::STRUCT, true, 1)?;
                }
                list = Some((header, size, c.at));
            }
            _ => c.skip(kind, false, 1)?,
        }
    }
    if c.at != file_metadata.len() {
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
    if count < 15 {
        out.push(((count as u8) << 4) | ty::STRUCT);
    } else {
        out.push(0xf0 | ty::STRUCT);
        put_varint(count as u64, &mut out);
    }
    out.extend_from_slice(row_groups);
    out.extend_from_slice(&file_metadata[f.list_end..]);
    Ok(out)
}

/// Appends `row_group` to `out` with every column chunk's offset-index and column-index
/// offsets moved by `by` bytes; everything else is copied as it is.
pub fn shift_index_offsets(row_group: &[u8], by: i64, out: &mut Vec<u8>) -> Result<()> {
    let mut c = Cursor::new(row_group);
    let mut copied = 0;
    let mut last = 0;
    while let Some((id, kind)) = c.field(&mut last)? {
        if id != ROW_GROUP_COLUMNS || kind != ty::LIST {
            c.skip(kind, false, 1)?;
            continue;
        }
        let (size, element) = c.list()?;
        if size > 0 && element != ty::STRUCT {
            return Err(malformed("columns is not a list of structs"));
        }
        for _ in 0..size {
            let mut chunk_last = 0;
            while let Some((id, kind)) = c.field(&mut chunk_last)? {
                let is_index_offset =
                    id == CHUNK_OFFSET_INDEX_OFFSET || id == CHUNK_COLUMN_INDEX_OFFSET;
                if !(is_index_offset && kind == ty::I64) {
                    c.skip(kind, false, 2)?;
                    continue;
                }
                out.extend_from_slice(&row_group[copied..c.at]);
                let offset = unzigzag(c.varint()?)
                    .checked_add(by)
                    .ok_or_else(|| malformed("an index offset out of range"))?;
                put_varint(zigzag(offset), out);
                copied = c.at;
            }
        }
    }
    if c.at != row_group.len() {
        return Err(malformed("bytes after the row group"));
    }
    out.extend_from_slice(&row_group[copied..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact-protocol writer for the tests: field headers with deltas, as Thrift writes.
    #[derive(Default)]
    struct Writer {
        out: Vec<u8>,
        last: Vec<i16>,
    }

    impl Writer {
        fn begin(&mut self) {
            self.last.push(0);
        }
        fn end(&mut self) {
            self.out.push(ty::STOP);
            self.last.pop();
        }
        fn field(&mut self, id: i16, kind: u8) {
            let last = self.last.last_mut().unwrap();
            let delta = id - *last;
            if (1..=15).contains(&delta) {
                self.out.push(((delta as u8) << 4) | kind);
            } else {
                self.out.push(kind);
                put_varint(zigzag(i64::from(id)), &mut self.out);
            }
            *last = id;
        }
        fn i64(&mut self, id: i16, v: i64) {
            self.field(id, ty::I64);
            put_varint(zigzag(v), &mut self.out);
        }
        fn binary(&mut self, id: i16, v: &[u8]) {
            self.field(id, ty::BINARY);
            put_varint(v.len() as u64, &mut self.out);
            self.out.extend_from_slice(v);
        }
        fn list_header(&mut self, id: i16, size: usize, element: u8) {
            self.field(id, ty::LIST);
            if size < 15 {
                self.out.push(((size as u8) << 4) | element);
            } else {
                self.out.push(0xf0 | element);
                put_varint(size as u64, &mut self.out);
            }
        }
    }

    /// A row group with `chunks` column chunks, whose index offsets are `base + i`.
    fn row_group(w: &mut Writer, chunks: usize, base: i64) {
        w.begin();
        w.list_header(ROW_GROUP_COLUMNS, chunks, ty::STRUCT);
        for i in 0..chunks as i64 {
            w.begin();
            w.binary(1, b"path");
            w.i64(2, 4 + i);
            w.i64(CHUNK_OFFSET_INDEX_OFFSET, base + i);
            w.field(5, ty::I32);
            put_varint(zigzag(17), &mut w.out);
            w.i64(CHUNK_COLUMN_INDEX_OFFSET, base + 100 + i);
            w.field(8, ty::TRUE);
            w.end();
        }
        w.i64(3, 1000);
        w.field(20, ty::DOUBLE);
        w.out.extend_from_slice(&[0; 8]);
        w.end();
    }

    fn file_metadata(row_groups: &[(usize, i64)]) -> Vec<u8> {
        file_metadata_with_rows(row_groups, 42)
    }

    fn file_metadata_with_rows(row_groups: &[(usize, i64)], rows: i64) -> Vec<u8> {
        let mut w = Writer::default();
        w.begin();
        w.field(1, ty::I32);
        put_varint(zigzag(2), &mut w.out);
        w.list_header(2, 0, ty::STRUCT);
        w.i64(FILE_NUM_ROWS, rows);
        w.list_header(FILE_ROW_GROUPS, row_groups.len(), ty::STRUCT);
        for &(chunks, base) in row_groups {
            row_group(&mut w, chunks, base);
        }
        w.binary(6, b"quiver");
        w.end();
        w.out
    }

    #[test]
    fn a_row_group_is_cut_out_and_spliced_back_byte_for_byte() {
        let one = file_metadata(&[(3, 10)]);
        let rg = single_row_group(&one).unwrap().to_vec();
        let mut solo = Writer::default();
        row_group(&mut solo, 3, 10);
        assert_eq!(rg, solo.out);

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
            let mut before = Writer::default();
            row_group(&mut before, 20, base);
            let mut after = Writer::default();
            row_group(&mut after, 20, base + by);
            let mut out = Vec::new();
            shift_index_offsets(&before.out, by, &mut out).unwrap();
            assert_eq!(out, after.out, "base {base} by {by}");
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
