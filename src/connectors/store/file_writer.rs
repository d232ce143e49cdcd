//! A Parquet file written from record batches with parquet-rs's column encoders, holding each
//! closed row group's footer entry as bytes rather than structs.
//!
//! ```text
//!  RecordBatch ─▶ row group in progress: one ArrowColumnWriter per leaf column
//!      │            (closes at max_row_group_row_count rows or max_row_group_bytes,
//!      │             exactly as parquet's ArrowWriter decides)
//!      ▼ closes
//!  SerializedRowGroupWriter ─▶ pages written to W
//!      │ on close: RowGroupMetaData, column and offset indexes
//!      ▼
//!  Footer: the row group's Thrift bytes and its index bytes (footer.rs); the structs dropped
//!      │ finish
//!      ▼
//!  W: [PAR1][row groups…][indexes…][FileMetaData][length][PAR1]
//! ```
//!
//! This is parquet's `ArrowWriter` with the file writer's bookkeeping replaced: the pages, the
//! statistics, the page index and every byte of metadata are encoded by parquet-rs, and a file
//! reads back identically (the tests compare the two writers' output). The difference is what
//! a long file holds while it is written: about 11 KB of structs a row group for
//! `SerializedFileWriter`, a few hundred bytes here. Bloom filters are not supported.

use std::io::Write;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, add_encoded_arrow_schema_to_metadata};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataBuilder, ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::page_index::offset_index::OffsetIndexMetaData;
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter, TrackedWrite};
use parquet::schema::types::SchemaDescPtr;

use super::footer;

/// Parquet's magic bytes, at the start and at the end of a file.
const MAGIC: &[u8; 4] = b"PAR1";

/// A Parquet file being written to `W`.
pub struct ParquetFileWriter<W: Write + Send> {
    out: TrackedWrite<W>,
    arrow_schema: SchemaRef,
    descr: SchemaDescPtr,
    props: WriterPropertiesPtr,
    columns: ArrowRowGroupWriterFactory,
    in_progress: Option<RowGroupInProgress>,
    footer: Footer,
    finished: bool,
}

/// The row group being encoded.
struct RowGroupInProgress {
    writers: Vec<ArrowColumnWriter>,
    rows: usize,
}

impl RowGroupInProgress {
    fn estimated_bytes(&self) -> usize {
        self.writers
            .iter()
            .map(ArrowColumnWriter::get_estimated_total_bytes)
            .sum()
    }
}

/// Blocks a footer's bytes are kept in.
const BLOCK_BYTES: usize = 64 << 10;

/// Byte strings kept in the order they came, in blocks allocated once each: a long file's
/// footer is never copied by a growing `Vec`, and holds at most one partly filled block (and
/// what does not fit at the end of each) beyond its bytes.
#[derive(Debug, Default)]
struct Blocks {
    blocks: Vec<Vec<u8>>,
    /// Each string's block, start and length.
    strings: Vec<(usize, usize, usize)>,
}

impl Blocks {
    fn push(&mut self, bytes: &[u8]) {
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= bytes.len());
        if !fits {
            self.blocks
                .push(Vec::with_capacity(BLOCK_BYTES.max(bytes.len())));
        }
        let block = self.blocks.len() - 1;
        let last = &mut self.blocks[block];
        self.strings.push((block, last.len(), bytes.len()));
        last.extend_from_slice(bytes);
    }

    fn get(&self, i: usize) -> &[u8] {
        let (block, start, len) = self.strings[i];
        &self.blocks[block][start..start + len]
    }

    fn len(&self) -> usize {
        self.strings.len()
    }
}

/// The closed row groups, serialized.
#[derive(Debug, Default)]
struct Footer {
    /// Each row group's Thrift bytes, in order.
    row_groups: Blocks,
    /// Each row group's column and offset indexes as parquet-rs serialized them, in order.
    indexes: Blocks,
    rows: i64,
    /// Scratch for serializing one row group's footer.
    scratch: Vec<u8>,
}

impl Footer {
    /// Keeps `row_group` and its indexes as bytes. The index offsets in the kept row group are
    /// relative to the start of its index bytes until [`Footer::write`] places them.
    fn push(
        &mut self,
        descr: &SchemaDescPtr,
        props: &WriterProperties,
        row_group: RowGroupMetaData,
        column_indexes: Vec<Option<ColumnIndexMetaData>>,
        offset_indexes: Vec<Option<OffsetIndexMetaData>>,
    ) -> Result<()> {
        self.rows += row_group.num_rows();
        let file = FileMetaData::new(
            props.writer_version().as_num(),
            row_group.num_rows(),
            None,
            None,
            descr.clone(),
            None,
        );
        let mut metadata = ParquetMetaDataBuilder::new(file).add_row_group(row_group);
        if column_indexes.iter().any(Option::is_some) {
            let indexes = column_indexes
                .into_iter()
                .map(|i| i.unwrap_or(ColumnIndexMetaData::NONE))
                .collect();
            metadata = metadata.set_column_index(Some(vec![indexes]));
        }
        // parquet's file writer writes the offset indexes unless they are disabled; each
        // column chunk has one then.
        if !props.offset_index_disabled() {
            let indexes: Option<Vec<OffsetIndexMetaData>> = offset_indexes.into_iter().collect();
            metadata = metadata.set_offset_index(indexes.map(|i| vec![i]));
        }
        self.scratch.clear();
        serialize(&metadata.build(), props, &mut self.scratch)?;
        let thrift = footer_thrift(&self.scratch)?;
        let index_len = self.scratch.len() - 8 - thrift.len();
        let row_group = footer::single_row_group(thrift)?;
        self.row_groups.push(row_group);
        self.indexes.push(&self.scratch[..index_len]);
        Ok(())
    }

    /// Writes the indexes, then the footer, to `out`.
    fn write<W: Write>(
        self,
        out: &mut TrackedWrite<W>,
        descr: &SchemaDescPtr,
        props: &WriterProperties,
    ) -> Result<()> {
        let count = self.row_groups.len();
        let mut row_groups = Vec::new();
        for i in 0..count {
            let placed = i64::try_from(out.bytes_written())
                .map_err(|_| footer_error("the file is over 8 EiB"))?;
            out.write_all(self.indexes.get(i))?;
            footer::shift_index_offsets(self.row_groups.get(i), placed, &mut row_groups)?;
        }
        let file = FileMetaData::new(
            props.writer_version().as_num(),
            self.rows,
            Some(props.created_by().to_string()),
            props.key_value_metadata().cloned(),
            descr.clone(),
            None,
        );
        let mut empty = Vec::new();
        serialize(
            &ParquetMetaDataBuilder::new(file).build(),
            props,
            &mut empty,
        )?;
        let thrift =
            footer::with_row_groups(footer_thrift(&empty)?, self.rows, count, &row_groups)?;
        let len = u32::try_from(thrift.len()).map_err(|_| footer_error("over 4 GiB"))?;
        out.write_all(&thrift)?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(MAGIC)?;
        out.flush()?;
        Ok(())
    }
}

/// `metadata` as parquet-rs writes a footer: page indexes, `FileMetaData`, length, magic.
fn serialize(
    metadata: &ParquetMetaData,
    props: &WriterProperties,
    out: &mut Vec<u8>,
) -> Result<()> {
    ParquetMetaDataWriter::new(out, metadata)
        .with_write_path_in_schema(props.write_path_in_schema())
        .finish()
}

fn footer_error(what: &str) -> ParquetError {
    ParquetError::General(format!("Parquet footer: {what}"))
}

/// The `FileMetaData` Thrift bytes of a serialized footer (`… [FileMetaData][len][PAR1]`).
fn footer_thrift(serialized: &[u8]) -> Result<&[u8]> {
    let n = serialized.len();
    if n < 8 || &serialized[n - 4..] != MAGIC {
        return Err(footer_error("parquet-rs wrote no footer"));
    }
    let len = u32::from_le_bytes(serialized[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    if len > n - 8 {
        return Err(footer_error("a footer length past its start"));
    }
    Ok(&serialized[n - 8 - len..n - 8])
}

impl<W: Write + Send> ParquetFileWriter<W> {
    /// A file of `arrow_schema` written with `props` (parquet's defaults if `None`) into `out`.
    /// The Arrow schema is stored in the file as parquet's `ArrowWriter` stores it.
    pub fn try_new(
        out: W,
        arrow_schema: SchemaRef,
        props: Option<WriterProperties>,
    ) -> Result<Self> {
        let mut props = props.unwrap_or_default();
        let descr = ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&arrow_schema)?;
        for column in descr.columns() {
            if props.bloom_filter_properties(column.path()).is_some() {
                return Err(ParquetError::NYI(format!(
                    "bloom filters (asked for column {})",
                    column.path()
                )));
            }
        }
        add_encoded_arrow_schema_to_metadata(&arrow_schema, &mut props);
        let props = Arc::new(props);
        // parquet-rs hands out column writers through a factory made from a file writer; one
        // over `io::sink()` serves, as the factory keeps only the schema and the properties.
        let template = SerializedFileWriter::new(
            std::io::sink(),
            descr.root_schema_ptr(),
            Arc::clone(&props),
        )?;
        let columns = ArrowRowGroupWriterFactory::new(&template, arrow_schema.clone());
        let mut out = TrackedWrite::new(out);
        out.write_all(MAGIC)?;
        Ok(ParquetFileWriter {
            out,
            arrow_schema,
            descr: Arc::new(descr),
            props,
            columns,
            in_progress: None,
            footer: Footer::default(),
            finished: false,
        })
    }

    /// Bytes written to `W` so far: closed row groups (and the footer, once finished).
    pub fn bytes_written(&self) -> usize {
        self.out.bytes_written()
    }

    /// The writer the file goes to.
    pub fn inner_mut(&mut self) -> &mut W {
        self.out.inner_mut()
    }

    /// Encodes `batch`, closing row groups where parquet's `ArrowWriter` would: at
    /// `max_row_group_row_count` rows, or once the estimated encoded size reaches
    /// `max_row_group_bytes` (a batch is split by its measured bytes per row).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.check_open()?;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let in_progress = match &mut self.in_progress {
            Some(in_progress) => in_progress,
            empty => empty.insert(RowGroupInProgress {
                writers: self
                    .columns
                    .create_column_writers(self.footer.row_groups.len())?,
                rows: 0,
            }),
        };
        if let Some(max_rows) = self.props.max_row_group_row_count()
            && in_progress.rows + batch.num_rows() > max_rows
        {
            let fits = max_rows - in_progress.rows;
            self.write(&batch.slice(0, fits))?;
            return self.write(&batch.slice(fits, batch.num_rows() - fits));
        }
        if let Some(max_bytes) = self.props.max_row_group_bytes()
            && in_progress.rows > 0
        {
            // Rows that still fit, at the bytes per row measured so far.
            let bytes = in_progress.estimated_bytes();
            let fits = match bytes.checked_div(in_progress.rows) {
                _ if bytes >= max_bytes => 0,
                Some(per_row) if per_row > 0 => (max_bytes - bytes) / per_row,
                _ => usize::MAX,
            };
            if batch.num_rows() > fits {
                if fits == 0 {
                    self.flush()?;
                    return self.write(batch);
                }
                self.write(&batch.slice(0, fits))?;
                return self.write(&batch.slice(fits, batch.num_rows() - fits));
            }
        }
        let mut writers = in_progress.writers.iter_mut();
        for (field, column) in self.arrow_schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column)? {
                writers
                    .next()
                    .ok_or_else(|| ParquetError::General("more leaves than columns".into()))?
                    .write(&leaf)?;
            }
        }
        in_progress.rows += batch.num_rows();
        let full = self
            .props
            .max_row_group_row_count()
            .is_some_and(|max| in_progress.rows >= max)
            || self
                .props
                .max_row_group_bytes()
                .is_some_and(|max| in_progress.estimated_bytes() >= max);
        if full {
            self.flush()?;
        }
        Ok(())
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(ParquetError::General("the file is already finished".into()));
        }
        Ok(())
    }

    /// Closes the row group in progress, if any.
    pub fn flush(&mut self) -> Result<()> {
        let Some(in_progress) = self.in_progress.take() else {
            return Ok(());
        };
        let index = self.footer.row_groups.len();
        let ordinal = i16::try_from(index).map_err(|_| {
            ParquetError::General(format!(
                "Parquet does not support more than {} row groups per file (currently: {index})",
                i16::MAX
            ))
        })?;
        let chunks = in_progress
            .writers
            .into_iter()
            .map(ArrowColumnWriter::close)
            .collect::<Result<Vec<_>>>()?;
        let footer = &mut self.footer;
        let (descr, props) = (self.descr.clone(), self.props.clone());
        let on_close = Box::new(move |_: &mut _, row_group, _blooms, columns, offsets| {
            footer.push(&descr, &props, row_group, columns, offsets)
        });
        let mut row_group = SerializedRowGroupWriter::new(
            self.descr.clone(),
            self.props.clone(),
            &mut self.out,
            ordinal,
            Some(on_close),
        );
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// Closes the last row group and writes the page indexes and the footer.
    pub fn finish(&mut self) -> Result<()> {
        self.check_open()?;
        self.flush()?;
        self.finished = true;
        std::mem::take(&mut self.footer).write(&mut self.out, &self.descr, &self.props)
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, StringArray, StructArray,
    };
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use bytes::Bytes;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
    use parquet::file::properties::EnabledStatistics;

    use super::*;

    fn batch(rows: usize, seed: usize) -> RecordBatch {
        let ids: Int64Array = (0..rows as i64)
            .map(|i| Some(i * 3 + seed as i64))
            .collect();
        let ints: Int32Array = (0..rows as i32)
            .map(|i| (i % 7 != 0).then_some(i))
            .collect();
        let strings: StringArray = (0..rows)
            .map(|i| (i % 5 != 0).then(|| format!("v{}", (i * 31 + seed) % 1000)))
            .collect();
        let flags: BooleanArray = (0..rows).map(|i| Some(i % 3 == 0)).collect();
        let lists = ListArray::from_iter_primitive::<Int32Type, _, _>(
            (0..rows).map(|i| (i % 4 != 0).then(|| (0..i % 3).map(|v| Some(v as i32)))),
        );
        let structs = StructArray::from(vec![(
            Arc::new(Field::new("inner", DataType::Int64, true)),
            Arc::new(ids.clone()) as ArrayRef,
        )]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids),
            Arc::new(ints),
            Arc::new(strings),
            Arc::new(flags),
            Arc::new(lists),
            Arc::new(structs),
        ];
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let schema = Schema::new(fields)
            .with_metadata([("quiver.source_system".to_string(), "Test".to_string())].into());
        RecordBatch::try_new(Arc::new(schema), columns).unwrap()
    }

    fn both(batches: &[RecordBatch], props: WriterProperties) -> (Vec<u8>, Vec<u8>) {
        let schema = batches[0].schema();
        let mut ours =
            ParquetFileWriter::try_new(Vec::new(), schema.clone(), Some(props.clone())).unwrap();
        let mut theirs = ArrowWriter::try_new(Vec::new(), schema, Some(props)).unwrap();
        for b in batches {
            ours.write(b).unwrap();
            theirs.write(b).unwrap();
        }
        ours.finish().unwrap();
        let ours = std::mem::take(ours.inner_mut());
        (ours, theirs.into_inner().unwrap())
    }

    fn metadata(file: &[u8]) -> ParquetMetaData {
        ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Required)
            .parse_and_finish(&Bytes::copy_from_slice(file))
            .unwrap()
    }

    fn read(file: Vec<u8>) -> Vec<RecordBatch> {
        let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
        ParquetRecordBatchReaderBuilder::try_new_with_options(Bytes::from(file), options)
            .unwrap()
            .build()
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn files_match_parquets_own_writer_page_for_page_and_index_for_index() {
        let batches: Vec<RecordBatch> = (0..7).map(|i| batch(3_000 + 500 * i, i)).collect();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(4_096))
            .set_data_page_row_count_limit(1_000)
            .set_write_batch_size(500)
            .build();
        let (ours, theirs) = both(&batches, props);
        let (m_ours, m_theirs) = (metadata(&ours), metadata(&theirs));
        assert!(m_ours.num_row_groups() > 5, "{}", m_ours.num_row_groups());
        // The pages are where parquet-rs put them: the bytes up to the indexes are the same.
        let data_end = m_theirs.row_groups().iter().map(|rg| {
            rg.columns()
                .iter()
                .map(|c| c.byte_range().0 + c.byte_range().1)
                .max()
                .unwrap()
        });
        let data_end = data_end.max().unwrap() as usize;
        assert_eq!(ours[..data_end], theirs[..data_end]);
        // The metadata decodes the same, but for where the indexes were placed.
        assert_eq!(m_ours.file_metadata(), m_theirs.file_metadata());
        assert_eq!(m_ours.column_index(), m_theirs.column_index());
        assert_eq!(m_ours.offset_index(), m_theirs.offset_index());
        assert!(m_ours.column_index().is_some() && m_ours.offset_index().is_some());
        for (a, b) in m_ours.row_groups().iter().zip(m_theirs.row_groups()) {
            assert_eq!(a.num_rows(), b.num_rows());
            assert_eq!(a.ordinal(), b.ordinal());
            assert_eq!(a.file_offset(), b.file_offset());
            for (x, y) in a.columns().iter().zip(b.columns()) {
                let unplaced = |c: &parquet::file::metadata::ColumnChunkMetaData| {
                    c.clone()
                        .into_builder()
                        .set_column_index_offset(None)
                        .set_offset_index_offset(None)
                        .build()
                        .unwrap()
                };
                assert_eq!(unplaced(x), unplaced(y));
                assert!(x.column_index_offset().is_some() && x.offset_index_offset().is_some());
            }
        }
        assert_eq!(read(ours), read(theirs));
    }

    #[test]
    fn row_groups_close_by_bytes_as_parquets_writer_closes_them() {
        let batches: Vec<RecordBatch> = (0..6).map(|i| batch(2_000, i)).collect();
        let props = WriterProperties::builder()
            .set_max_row_group_bytes(Some(20_000))
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .build();
        let (ours, theirs) = both(&batches, props);
        let (m_ours, m_theirs) = (metadata(&ours), metadata(&theirs));
        let rows = |m: &ParquetMetaData| -> Vec<i64> {
            m.row_groups()
                .iter()
                .map(RowGroupMetaData::num_rows)
                .collect()
        };
        assert!(rows(&m_ours).len() > 3);
        assert_eq!(rows(&m_ours), rows(&m_theirs));
        assert_eq!(
            ours, theirs,
            "no page index: the files are byte for byte the same"
        );
    }

    #[test]
    fn footer_bytes_come_back_as_they_went_in_and_blocks_are_not_regrown() {
        let mut blocks = Blocks::default();
        let strings: Vec<Vec<u8>> = (0..200)
            .map(|i| vec![i as u8; (i * 997) % 3_000 + 1])
            .chain([vec![7; BLOCK_BYTES * 2 + 5], vec![8; 3]])
            .collect();
        for s in &strings {
            blocks.push(s);
        }
        assert_eq!(blocks.len(), strings.len());
        for (i, s) in strings.iter().enumerate() {
            assert_eq!(blocks.get(i), s.as_slice(), "string {i}");
        }
        for block in &blocks.blocks {
            assert!(block.capacity() == BLOCK_BYTES || block.capacity() == BLOCK_BYTES * 2 + 5);
        }
        let held: usize = blocks.blocks.iter().map(Vec::capacity).sum();
        let bytes: usize = strings.iter().map(Vec::len).sum();
        // Beyond the bytes: what did not fit at the end of each block (under 5% with these
        // strings), the block left partly filled before the oversized string, and the last.
        assert!(
            held < bytes + bytes / 20 + 2 * BLOCK_BYTES,
            "{held} held for {bytes}"
        );
    }

    #[test]
    fn an_empty_file_and_the_limits_are_as_parquets() {
        let schema = batch(1, 0).schema();
        let mut ours = ParquetFileWriter::try_new(Vec::new(), schema.clone(), None).unwrap();
        ours.write(&batch(0, 0)).unwrap();
        ours.finish().unwrap();
        assert!(ours.write(&batch(1, 0)).is_err(), "finished");
        assert!(ours.finish().is_err(), "finished twice");
        let mut theirs = ArrowWriter::try_new(Vec::new(), schema.clone(), None).unwrap();
        theirs.write(&batch(0, 0)).unwrap();
        assert_eq!(
            std::mem::take(ours.inner_mut()),
            theirs.into_inner().unwrap()
        );

        let bloom = WriterProperties::builder()
            .set_bloom_filter_enabled(true)
            .build();
        let e = ParquetFileWriter::try_new(Vec::new(), schema, Some(bloom))
            .err()
            .unwrap();
        assert!(e.to_string().contains("bloom filters"), "{e}");
    }
}
