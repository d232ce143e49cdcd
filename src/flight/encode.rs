//! Record batches as Flight messages whose bodies are the batches' own buffers.
//!
//! ```text
//!  RecordBatch ─▶ split at max_message_bytes (row slices, no copy)
//!      │
//!      ▼
//!  arrow-ipc StreamEncoder ─▶ [continuation, length] [header flatbuffer] [buffer] [pad] [buffer] …
//!      │                         (the buffers are the arrays' own, sliced, not copied)
//!      ▼
//!  FlightMessage { fields: FlightData without its body, body: [Bytes, Bytes, …] }
//!      │ pieces under COPY_BELOW are copied together, so padding and small
//!      │ buffers do not each become a DATA frame
//!      ▼
//!  raw_get::FrameBody writes them to h2 in order (DoGet); tonic's path concatenates them
//! ```
//!
//! arrow-flight's `FlightDataEncoder` copies every buffer of a batch into one contiguous
//! `data_body`: 23% of the server's CPU on a large read (BENCHMARKS.md, "DoGet frames written
//! by hand"). A `FlightData` body on the wire is only a length and bytes, so it can be sent as
//! pieces. arrow-ipc's `StreamEncoder` already lays out an IPC message over the arrays' own
//! buffers; this module cuts its output back into Flight's header and body.
//!
//! Schemas with dictionaries keep arrow-flight's encoder, which sends them hydrated (as their
//! value type), as before.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use arrow::array::{Array, ArrayData, RecordBatch};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::writer::{IpcWriteOptions, StreamEncoder};
use arrow::ipc::{MessageHeader, root_as_message};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::{FlightData, SchemaAsIpc};
use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

/// Body pieces shorter than this are copied together with their neighbours rather than sent
/// on their own: padding, validity bitmaps, the buffers of short batches.
pub const COPY_BELOW: usize = 8 << 10;

/// The alignment arrow-ipc pads each body buffer to (`IpcWriteOptions::default`).
const ALIGNMENT: usize = 64;

/// The IPC stream format's continuation marker, before each message's length.
const CONTINUATION: [u8; 4] = [0xff; 4];

/// One Flight message: every field but the body, and the body in pieces whose concatenation
/// is `data_body`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlightMessage {
    /// The descriptor, IPC header and app metadata; `data_body` is empty.
    pub fields: FlightData,
    /// The IPC body, in order.
    pub body: Vec<Bytes>,
}

impl FlightMessage {
    /// A message from a whole `FlightData`.
    pub fn from_flight_data(mut data: FlightData) -> Self {
        let body = std::mem::take(&mut data.data_body);
        FlightMessage {
            fields: data,
            body: if body.is_empty() { vec![] } else { vec![body] },
        }
    }

    /// The body's length in bytes.
    pub fn body_len(&self) -> usize {
        self.body.iter().map(Bytes::len).sum()
    }

    /// The message as one `FlightData`: the body's pieces are copied together (unless there
    /// is only one).
    pub fn into_flight_data(self) -> FlightData {
        let data_body = match self.body.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            pieces => {
                let mut body = BytesMut::with_capacity(self.body_len());
                for piece in pieces {
                    body.extend_from_slice(piece);
                }
                body.freeze()
            }
        };
        FlightData {
            data_body,
            ..self.fields
        }
    }
}

/// `batches` as Flight messages: the schema first (even when there are no batches), then
/// each batch in messages whose bodies are at most about `max_message_bytes`.
pub fn encode_batches<S>(
    schema: SchemaRef,
    batches: S,
    max_message_bytes: usize,
) -> BoxStream<'static, Result<FlightMessage, FlightError>>
where
    S: Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
{
    let options = IpcWriteOptions::default();
    // arrow-ipc refuses only schemas with dictionaries, which go to arrow-flight's encoder.
    let encoder = if has_dictionary(&schema) {
        None
    } else {
        StreamEncoder::try_new_with_options(&schema, options.clone()).ok()
    };
    let Some(encoder) = encoder else {
        return FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .with_max_flight_data_size(max_message_bytes)
            .build(batches)
            .map(|data| data.map(FlightMessage::from_flight_data))
            .boxed();
    };
    let schema_message = SchemaAsIpc::new(&schema, &options).into();
    MessageEncoder {
        batches: batches.boxed(),
        encoder,
        max_message_bytes,
        queue: VecDeque::from([FlightMessage::from_flight_data(schema_message)]),
        done: false,
    }
    .boxed()
}

/// Whether any field, at any depth, is dictionary-encoded.
fn has_dictionary(schema: &SchemaRef) -> bool {
    fn nested(data_type: &DataType) -> bool {
        match data_type {
            DataType::Dictionary(..) => true,
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _)
            | DataType::Map(f, _) => nested(f.data_type()),
            DataType::Struct(fields) => fields.iter().any(|f| nested(f.data_type())),
            DataType::Union(fields, _) => fields.iter().any(|(_, f)| nested(f.data_type())),
            DataType::RunEndEncoded(ends, values) => {
                nested(ends.data_type()) || nested(values.data_type())
            }
            _ => false,
        }
    }
    schema.fields().iter().any(|f| nested(f.data_type()))
}

struct MessageEncoder {
    batches: BoxStream<'static, Result<RecordBatch, FlightError>>,
    encoder: StreamEncoder,
    max_message_bytes: usize,
    /// Messages made and not yet taken: the schema, or the pieces of one split batch.
    queue: VecDeque<FlightMessage>,
    done: bool,
}

impl MessageEncoder {
    /// Queues `batch` as messages whose bodies are at most `max_message_bytes`: row slices
    /// sized from the arrays, and any slice whose body still comes out larger (padding)
    /// halved again.
    fn encode(&mut self, batch: &RecordBatch) -> Result<(), FlightError> {
        let mut slices = split(batch, self.max_message_bytes)?;
        slices.reverse();
        let mut messages = VecDeque::new();
        while let Some(slice) = slices.pop() {
            let buffers = self.encoder.encode(&slice)?;
            cut_messages(buffers, &mut messages)?;
            let rows = slice.num_rows();
            if rows > 1
                && messages
                    .iter()
                    .any(|m| m.body_len() > self.max_message_bytes)
            {
                messages.clear();
                slices.push(slice.slice(rows / 2, rows - rows / 2));
                slices.push(slice.slice(0, rows / 2));
                continue;
            }
            self.queue.append(&mut messages);
        }
        Ok(())
    }
}

impl Stream for MessageEncoder {
    type Item = Result<FlightMessage, FlightError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(message) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(message)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match ready!(this.batches.poll_next_unpin(cx)) {
                None => this.done = true,
                Some(Err(e)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(batch)) => {
                    if let Err(e) = this.encode(&batch) {
                        this.done = true;
                        this.queue.clear();
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
        }
    }
}

/// `batch` as row slices whose bodies should come to at most `max_bytes` each: the arrays'
/// bytes plus the padding each buffer may take. An empty batch gives none, as arrow-flight's
/// encoder does.
fn split(batch: &RecordBatch, max_bytes: usize) -> Result<Vec<RecordBatch>, ArrowError> {
    let rows = batch.num_rows();
    let mut size = 0;
    let mut buffers = 0;
    for column in batch.columns() {
        let data = column.to_data();
        size += data.get_slice_memory_size()?;
        buffers += buffer_count(&data);
    }
    let room = max_bytes.saturating_sub(buffers * ALIGNMENT).max(1);
    let pieces = size.div_ceil(room).clamp(1, rows.max(1));
    let rows_per_piece = rows.div_ceil(pieces);
    Ok((0..rows)
        .step_by(rows_per_piece.max(1))
        .map(|offset| batch.slice(offset, rows_per_piece.min(rows - offset)))
        .collect())
}

/// The buffers `data` takes in an IPC body: its own, a validity bitmap, its children's.
fn buffer_count(data: &ArrayData) -> usize {
    1 + data.buffers().len() + data.child_data().iter().map(buffer_count).sum::<usize>()
}

/// Cuts the IPC stream `buffers` (as `StreamEncoder` gives them) into Flight messages,
/// leaving out schema messages (the stream's schema went first).
fn cut_messages(
    buffers: Vec<Buffer>,
    out: &mut VecDeque<FlightMessage>,
) -> Result<(), FlightError> {
    let mut input = Pieces(buffers.into());
    while !input.is_empty() {
        let prefix = input.copy(8)?;
        if prefix[..4] != CONTINUATION {
            return Err(malformed(
                "a message does not start with the continuation marker",
            ));
        }
        let length = i32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
        let length = usize::try_from(length)
            .map_err(|_| malformed("a message's header length is negative"))?;
        let header = input.copy(length)?;
        let message = root_as_message(&header)
            .map_err(|e| malformed(&format!("a message's header does not decode: {e}")))?;
        let body_len = usize::try_from(message.bodyLength())
            .map_err(|_| malformed("a message's body length is negative"))?;
        let is_schema = message.header_type() == MessageHeader::Schema;
        let body = input.take(body_len)?;
        if is_schema {
            continue;
        }
        out.push_back(FlightMessage {
            fields: FlightData {
                data_header: header.into(),
                ..Default::default()
            },
            body: coalesce(body),
        });
    }
    Ok(())
}

fn malformed(what: &str) -> FlightError {
    FlightError::ProtocolError(format!("encoding a Flight message: {what}"))
}

/// The IPC encoder's output, read front to back.
struct Pieces(VecDeque<Buffer>);

impl Pieces {
    fn is_empty(&self) -> bool {
        self.0.iter().all(|b| b.is_empty())
    }

    /// The next `n` bytes as slices of the buffers themselves.
    fn take(&mut self, mut n: usize) -> Result<Vec<Bytes>, FlightError> {
        let mut taken = Vec::new();
        while n > 0 {
            let front = self
                .0
                .pop_front()
                .ok_or_else(|| malformed("a message's body is longer than the output"))?;
            if front.len() > n {
                self.0.push_front(front.slice(n));
                taken.push(Bytes::from_owner(Owned(front.slice_with_length(0, n))));
                n = 0;
            } else if !front.is_empty() {
                n -= front.len();
                taken.push(Bytes::from_owner(Owned(front)));
            }
        }
        Ok(taken)
    }

    /// The next `n` bytes, copied together.
    fn copy(&mut self, n: usize) -> Result<Vec<u8>, FlightError> {
        let mut out = Vec::with_capacity(n);
        for piece in self.take(n)? {
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }
}

/// An Arrow buffer as the owner behind a `Bytes`: the batch's memory lives until h2 has
/// written it.
struct Owned(Buffer);

impl AsRef<[u8]> for Owned {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// `pieces` with each run of pieces shorter than [`COPY_BELOW`] copied into one.
fn coalesce(pieces: Vec<Bytes>) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut small = BytesMut::new();
    for piece in pieces {
        if piece.len() < COPY_BELOW {
            small.extend_from_slice(&piece);
            continue;
        }
        if !small.is_empty() {
            out.push(small.split().freeze());
        }
        out.push(piece);
    }
    if !small.is_empty() {
        out.push(small.freeze());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Float64Array, Int32Array,
        Int64Array, ListArray, StringArray, StructArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Int32Type, Schema};
    use arrow_flight::utils::flight_data_to_batches;
    use futures::TryStreamExt;

    use super::*;

    fn batch(rows: usize) -> RecordBatch {
        let ids: Int64Array = (0..rows as i64).map(Some).collect();
        let ints: Int32Array = (0..rows as i32)
            .map(|i| (i % 7 != 0).then_some(i))
            .collect();
        let doubles: Float64Array = (0..rows).map(|i| Some(i as f64 / 3.0)).collect();
        let decimals = Decimal128Array::from_iter_values((0..rows).map(|i| i as i128 * 1001))
            .with_precision_and_scale(18, 3)
            .unwrap();
        let strings: StringArray = (0..rows)
            .map(|i| (i % 5 != 0).then(|| format!("row {i} {}", "x".repeat(i % 13))))
            .collect();
        let times: TimestampMicrosecondArray = (0..rows as i64).map(Some).collect();
        let flags: BooleanArray = (0..rows)
            .map(|i| (i % 3 != 0).then_some(i % 2 == 0))
            .collect();
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
            Arc::new(doubles),
            Arc::new(decimals),
            Arc::new(strings),
            Arc::new(times),
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

    async fn encode(batches: Vec<RecordBatch>, max: usize) -> Vec<FlightMessage> {
        let schema = batches[0].schema();
        encode_batches(
            schema,
            futures::stream::iter(batches.into_iter().map(Ok)),
            max,
        )
        .try_collect()
        .await
        .unwrap()
    }

    fn decode(messages: &[FlightMessage]) -> Vec<RecordBatch> {
        let data: Vec<FlightData> = messages
            .iter()
            .cloned()
            .map(FlightMessage::into_flight_data)
            .collect();
        flight_data_to_batches(&data).unwrap()
    }

    #[tokio::test]
    async fn batches_round_trip_through_arrow_flights_decoder() {
        let whole = batch(10_000);
        // Slices at odd offsets: validity bitmaps and string offsets that do not start at 0.
        let inputs = vec![
            whole.slice(0, 4_000),
            whole.slice(4_003, 5_990),
            whole.slice(9_993, 7),
        ];
        let messages = encode(inputs.clone(), 2 << 20).await;
        assert_eq!(messages.len(), 4, "the schema, then one message a batch");
        assert!(messages[0].body.is_empty());
        let decoded = decode(&messages);
        assert_eq!(decoded, inputs);
        assert_eq!(decoded[0].schema(), whole.schema(), "metadata travels");
    }

    #[tokio::test]
    async fn the_body_is_the_arrays_own_memory() {
        let ids: Int64Array = (0..100_000).map(Some).collect();
        let values = ids.values().inner().as_ptr();
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(ids)]).unwrap();
        let messages = encode(vec![batch.clone()], 2 << 20).await;
        let body = &messages[1].body;
        assert!(
            body.iter().any(|piece| piece.as_ptr() == values),
            "the id buffer is sent, not copied"
        );
        assert_eq!(messages[1].body_len() % 8, 0, "the body is padded");
        assert_eq!(decode(&messages), vec![batch]);
    }

    #[tokio::test]
    async fn a_batch_over_the_cap_is_split_and_an_empty_one_sends_nothing() {
        let whole = batch(20_000);
        let cap = 64 << 10;
        let messages = encode(vec![whole.clone(), whole.slice(0, 0)], cap).await;
        let bodies: Vec<usize> = messages[1..].iter().map(FlightMessage::body_len).collect();
        assert!(bodies.len() > 10, "{} messages", bodies.len());
        assert!(bodies.iter().all(|&b| b <= cap), "{bodies:?}");
        // Split evenly by rows, the messages are not much smaller than the cap either.
        let mean = bodies.iter().sum::<usize>() / bodies.len();
        assert!(mean > cap / 2, "{bodies:?}");
        // A cap below one row's padding still sends every row, one a message.
        let tiny = encode(vec![whole.slice(0, 3)], 16).await;
        assert_eq!(tiny.len(), 4);
        assert_eq!(
            decode(&tiny)
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>(),
            3
        );
        let decoded = decode(&messages);
        assert_eq!(
            decoded.iter().map(RecordBatch::num_rows).sum::<usize>(),
            20_000
        );
        assert_eq!(
            arrow::compute::concat_batches(&whole.schema(), &decoded).unwrap(),
            whole
        );
    }

    #[tokio::test]
    async fn a_stream_without_batches_still_sends_its_schema() {
        let schema = batch(1).schema();
        let messages: Vec<FlightMessage> =
            encode_batches(schema.clone(), futures::stream::empty(), 1 << 20)
                .try_collect()
                .await
                .unwrap();
        assert_eq!(messages.len(), 1);
        let decoded_schema = Schema::try_from(&messages[0].clone().into_flight_data()).unwrap();
        assert_eq!(Arc::new(decoded_schema), schema);
    }

    #[tokio::test]
    async fn dictionaries_are_sent_hydrated_as_before() {
        let keys = Int32Array::from(vec![0, 1, 0, 1]);
        let values = Arc::new(StringArray::from(vec!["a", "b"]));
        let dict = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            dict.data_type().clone(),
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(dict)]).unwrap();
        let decoded = decode(&encode(vec![batch], 1 << 20).await);
        let strings = decoded[0].column(0).as_any().downcast_ref::<StringArray>();
        assert_eq!(
            strings.unwrap().iter().flatten().collect::<Vec<_>>(),
            ["a", "b", "a", "b"]
        );
    }

    #[test]
    fn small_pieces_are_copied_together_and_large_ones_kept() {
        let large = Bytes::from(vec![1u8; COPY_BELOW]);
        let pieces = vec![
            Bytes::from_static(&[2; 8]),
            Bytes::from_static(&[3; 56]),
            large.clone(),
            Bytes::from_static(&[4; 8]),
        ];
        let out = coalesce(pieces.clone());
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].len(), 64);
        assert_eq!(out[1].as_ptr(), large.as_ptr());
        assert_eq!(out.concat(), pieces.concat());
    }

    #[test]
    fn output_that_is_not_an_ipc_stream_is_an_error_not_a_panic() {
        let mut out = VecDeque::new();
        for bad in [
            vec![Buffer::from(vec![0u8; 8])],
            vec![Buffer::from([0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0].to_vec())],
            vec![Buffer::from(
                [0xff, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff].to_vec(),
            )],
            vec![
                Buffer::from([0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0].to_vec()),
                Buffer::from(vec![0u8; 8]),
            ],
        ] {
            assert!(cut_messages(bad, &mut out).is_err());
        }
        assert!(out.is_empty());
    }
}
