//! `DoGet` responses written as gRPC frames by hand, so a batch's IPC body reaches the socket
//! without being copied again.
//!
//! ```text
//!  HTTP/2 request ─▶ DoGetPath ── path is …/DoGet? ──no──▶ tonic's FlightServiceServer
//!                        │ yes: the Ticket is decoded, FlightGate::do_get runs as before
//!                        ▼        (auth, admission, the query's stream and its log line)
//!                  FlightData stream ─▶ FrameBody: per message two chunks,
//!                                         [gRPC prefix + header fields + body key]  [data_body]
//!                                         ▼ the body chunk is the encoder's own Bytes
//!                                       h2 writes it to the socket (no copy)
//! ```
//!
//! tonic's codec encodes every `FlightData` into one frame buffer, which copies the IPC body
//! (the whole batch) a second time after arrow-ipc has written it, and grows that buffer by
//! reallocation: about 11% of the server's CPU on a large read (BENCHMARKS.md, "which side
//! is the bottleneck"). A protobuf message is the concatenation of its fields, so the same
//! bytes can be sent as a small head (the 5-byte gRPC prefix, fields 1-3 as prost encodes them,
//! and the key and length of field 1000, `data_body`) followed by the body as it is. Only
//! `DoGet` takes this path; every other call goes to tonic unchanged.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{FlightData, Ticket};
use bytes::{BufMut, Bytes, BytesMut};
use futures::Stream;
use http_body::{Body as _, Frame};
use prost::Message;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;

use super::gate::FlightGate;

/// The `DoGet` method's HTTP/2 path.
const DO_GET_PATH: &str = "/arrow.flight.protocol.FlightService/DoGet";
/// `data_body`'s field number in `FlightData`.
const DATA_BODY_FIELD: u32 = 1000;
/// The largest `DoGet` request accepted (tonic's default for decoding a message): a ticket.
const MAX_REQUEST_BYTES: usize = 4 << 20;
/// gRPC's length prefix: a compression flag and a big-endian u32.
const PREFIX_BYTES: usize = 5;
/// Bodies up to this size travel in their head's chunk (one copy of a few KiB), so a stream
/// of small batches is not sent as twice as many DATA frames.
const INLINE_BODY_BYTES: usize = 8 << 10;
/// Headers gRPC reserves for itself, never taken from a handler's response metadata.
const RESERVED_HEADERS: [&str; 5] = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "te",
    "content-type",
];

/// The Flight service with `DoGet` answered here and everything else by tonic.
#[derive(Debug, Clone)]
pub struct DoGetPath {
    gate: FlightGate,
    tonic: FlightServiceServer<FlightGate>,
}

impl DoGetPath {
    /// `gate` behind this path for `DoGet` and behind tonic's server for the rest.
    pub fn new(gate: FlightGate) -> Self {
        DoGetPath {
            tonic: FlightServiceServer::new(gate.clone()),
            gate,
        }
    }
}

impl NamedService for DoGetPath {
    const NAME: &'static str = <FlightServiceServer<FlightGate> as NamedService>::NAME;
}

impl Service<http::Request<Body>> for DoGetPath {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<http::Request<Body>>::poll_ready(&mut self.tonic, cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != DO_GET_PATH {
            return self.tonic.call(request);
        }
        let gate = self.gate.clone();
        Box::pin(async move {
            Ok(match do_get(gate, request).await {
                Ok(response) => response,
                Err(status) => status.into_http(),
            })
        })
    }
}

/// Decodes the ticket, runs the gate's `DoGet` and wraps its stream in a [`FrameBody`].
async fn do_get(
    gate: FlightGate,
    request: http::Request<Body>,
) -> Result<http::Response<Body>, Status> {
    if let Some(encoding) = request.headers().get("grpc-encoding")
        && encoding.as_bytes() != b"identity"
    {
        return Err(Status::unimplemented(format!(
            "DoGet request compressed with {}: this server accepts uncompressed requests only",
            String::from_utf8_lossy(encoding.as_bytes())
        )));
    }
    let (parts, body) = request.into_parts();
    let message = read_request(body).await?;
    let ticket = Ticket::decode(message)
        .map_err(|e| Status::invalid_argument(format!("DoGet: the ticket does not decode: {e}")))?;
    let request = tonic::Request::from_http(http::Request::from_parts(parts, ticket));
    let (metadata, stream, _) = gate.do_get(request).await?.into_parts();
    let mut headers = metadata.into_headers();
    for reserved in RESERVED_HEADERS {
        headers.remove(reserved);
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    let mut response = http::Response::new(Body::new(FrameBody::new(stream)));
    *response.headers_mut() = headers;
    Ok(response)
}

/// The request's one gRPC message (its bytes after the prefix).
async fn read_request(mut body: Body) -> Result<Bytes, Status> {
    let mut bytes = BytesMut::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| Status::from_error(e.into()))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_REQUEST_BYTES + PREFIX_BYTES {
                return Err(Status::out_of_range(format!(
                    "DoGet request larger than {MAX_REQUEST_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&data);
        }
    }
    let bytes = bytes.freeze();
    let malformed = |what: &str| Status::invalid_argument(format!("DoGet request: {what}"));
    let prefix = bytes
        .get(..PREFIX_BYTES)
        .ok_or_else(|| malformed("no gRPC message"))?;
    if prefix[0] != 0 {
        return Err(Status::unimplemented(
            "DoGet request compressed: this server accepts uncompressed requests only",
        ));
    }
    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    if bytes.len() != PREFIX_BYTES + length {
        return Err(malformed(&format!(
            "the message says {length} bytes, the request carries {}; DoGet takes exactly one message",
            bytes.len() - PREFIX_BYTES
        )));
    }
    Ok(bytes.slice(PREFIX_BYTES..))
}

/// A `FlightData` as the bytes of one gRPC message: a head holding the prefix, the fields
/// before the body and the body's key and length, then the body itself, uncopied (a body of
/// at most [`INLINE_BODY_BYTES`] is copied into the head, and there is no second part). Their
/// concatenation is what tonic's codec would write for the same message.
fn encode_message(message: FlightData) -> Result<(Bytes, Option<Bytes>), Status> {
    let body = message.data_body;
    let fields = FlightData {
        data_body: Bytes::new(),
        ..message
    };
    let fields_len = fields.encoded_len();
    let body_key_len = if body.is_empty() {
        0
    } else {
        prost::encoding::key_len(DATA_BODY_FIELD)
            + prost::encoding::encoded_len_varint(body.len() as u64)
    };
    let total = fields_len + body_key_len + body.len();
    let total = u32::try_from(total).map_err(|_| {
        Status::internal(format!(
            "a Flight message of {total} bytes is over gRPC's 4 GiB limit; lower the server's message size cap"
        ))
    })?;
    let inline = body.len() <= INLINE_BODY_BYTES;
    let mut head = BytesMut::with_capacity(
        PREFIX_BYTES + fields_len + body_key_len + if inline { body.len() } else { 0 },
    );
    head.put_u8(0);
    head.put_u32(total);
    fields
        .encode(&mut head)
        .map_err(|e| Status::internal(format!("encoding a Flight message: {e}")))?;
    if !body.is_empty() {
        prost::encoding::encode_key(
            DATA_BODY_FIELD,
            prost::encoding::WireType::LengthDelimited,
            &mut head,
        );
        prost::encoding::encode_varint(body.len() as u64, &mut head);
    }
    if inline {
        head.extend_from_slice(&body);
        return Ok((head.freeze(), None));
    }
    Ok((head.freeze(), Some(body)))
}

/// A `DoGet` response body: each message as its head and body chunks, then the trailers
/// (`grpc-status` 0, or the stream's error). Polled by h2 only when it has room to send, so
/// the client's pace remains the query's pace.
struct FrameBody<S> {
    messages: S,
    /// A message's body, sent after its head.
    pending: Option<Bytes>,
    done: bool,
}

impl<S> FrameBody<S> {
    fn new(messages: S) -> Self {
        FrameBody {
            messages,
            pending: None,
            done: false,
        }
    }

    fn trailers(&mut self, status: &Status) -> Frame<Bytes> {
        self.done = true;
        let mut trailers = http::HeaderMap::new();
        if let Err(unsendable) = status.add_header(&mut trailers) {
            trailers.clear();
            let _ = unsendable.add_header(&mut trailers);
        }
        Frame::trailers(trailers)
    }
}

impl<S> http_body::Body for FrameBody<S>
where
    S: Stream<Item = Result<FlightData, Status>> + Unpin,
{
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(body) = this.pending.take() {
            return Poll::Ready(Some(Ok(Frame::data(body))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut this.messages).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(message))) => match encode_message(message) {
                Ok((head, body)) => {
                    this.pending = body;
                    Frame::data(head)
                }
                Err(status) => this.trailers(&status),
            },
            Poll::Ready(Some(Err(status))) => this.trailers(&status),
            Poll::Ready(None) => this.trailers(&Status::new(tonic::Code::Ok, "")),
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.pending.is_none()
    }
}

#[cfg(test)]
mod tests {
    use arrow_flight::FlightDescriptor;
    use futures::stream;

    use super::*;

    fn tonic_bytes(message: &FlightData) -> Vec<u8> {
        let encoded = message.encode_to_vec();
        let mut out = vec![0];
        out.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
        out.extend_from_slice(&encoded);
        out
    }

    #[test]
    fn a_message_split_in_head_and_body_is_byte_for_byte_the_protobuf_encoding() {
        let body: Bytes = (0..70_000u32).map(|i| i as u8).collect::<Vec<u8>>().into();
        let cases = [
            FlightData::new()
                .with_data_header(vec![1, 2, 3])
                .with_data_body(body.clone()),
            FlightData::new()
                .with_descriptor(FlightDescriptor::new_path(vec!["a".into()]))
                .with_data_header(vec![9; 300])
                .with_app_metadata(vec![7; 20])
                .with_data_body(vec![5; 127]),
            FlightData::new().with_data_header(vec![4; 10]),
            FlightData::new(),
        ];
        for message in cases {
            let expected = tonic_bytes(&message);
            let (head, sent_body) = encode_message(message.clone()).unwrap();
            let mut got = head.to_vec();
            got.extend_from_slice(sent_body.as_deref().unwrap_or_default());
            assert_eq!(got, expected);
            assert_eq!(FlightData::decode(&got[PREFIX_BYTES..]).unwrap(), message);
        }
        let (_, sent) = encode_message(FlightData::new().with_data_body(body.clone())).unwrap();
        assert_eq!(
            sent.unwrap().as_ptr(),
            body.as_ptr(),
            "the body is sent, not copied"
        );
        let (head, sent) = encode_message(FlightData::new().with_data_body(vec![5; 127])).unwrap();
        assert!(sent.is_none(), "a small body travels in the head");
        // Prefix, the key of field 1000 (2 bytes), the length (1 byte), the body.
        assert_eq!(head.len(), PREFIX_BYTES + 2 + 1 + 127);
    }

    async fn frames(messages: Vec<Result<FlightData, Status>>) -> Vec<Frame<Bytes>> {
        let mut body = FrameBody::new(stream::iter(messages));
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            out.push(frame.unwrap());
        }
        assert!(http_body::Body::is_end_stream(&body));
        out
    }

    #[tokio::test]
    async fn the_body_is_each_message_then_trailers_with_the_status() {
        let a = FlightData::new()
            .with_data_header(vec![1])
            .with_data_body(vec![2; INLINE_BODY_BYTES + 1]);
        let b = FlightData::new().with_data_header(vec![3]);
        let got = frames(vec![Ok(a.clone()), Ok(b.clone())]).await;
        assert_eq!(got.len(), 4, "a: head and body; b: head; trailers");
        let data: Vec<u8> = got[..3]
            .iter()
            .flat_map(|f| f.data_ref().unwrap().to_vec())
            .collect();
        assert_eq!(data, [tonic_bytes(&a), tonic_bytes(&b)].concat());
        let trailers = got[3].trailers_ref().unwrap();
        assert_eq!(trailers["grpc-status"], "0");

        let failed = frames(vec![Ok(b), Err(Status::unavailable("source went away"))]).await;
        let trailers = failed.last().unwrap().trailers_ref().unwrap();
        assert_eq!(trailers["grpc-status"], "14");
        assert_eq!(trailers["grpc-message"], "source%20went%20away");
    }

    /// A request body of `bytes` in one frame.
    fn request(bytes: Vec<u8>) -> Body {
        struct Once(Option<Bytes>);
        impl http_body::Body for Once {
            type Data = Bytes;
            type Error = Infallible;
            fn poll_frame(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
                Poll::Ready(self.0.take().map(|b| Ok(Frame::data(b))))
            }
        }
        Body::new(Once(Some(bytes.into())))
    }

    #[tokio::test]
    async fn requests_are_read_as_one_uncompressed_message_or_refused() {
        let ticket = Ticket::new("Orders").encode_to_vec();
        let mut framed = vec![0];
        framed.extend_from_slice(&(ticket.len() as u32).to_be_bytes());
        framed.extend_from_slice(&ticket);
        let read = read_request(request(framed.clone())).await.unwrap();
        assert_eq!(Ticket::decode(read).unwrap(), Ticket::new("Orders"));

        let mut compressed = framed.clone();
        compressed[0] = 1;
        let e = read_request(request(compressed)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unimplemented);
        for bad in [
            vec![],
            framed[..3].to_vec(),
            framed[..framed.len() - 1].to_vec(),
            [framed.clone(), framed.clone()].concat(),
        ] {
            let e = read_request(request(bad.clone())).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{bad:?}");
        }
        let mut huge = vec![0];
        huge.extend_from_slice(&((MAX_REQUEST_BYTES + 1) as u32).to_be_bytes());
        huge.resize(PREFIX_BYTES + MAX_REQUEST_BYTES + 1, 0);
        let e = read_request(request(huge)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::OutOfRange);
    }
}
