//! The Flight service clients talk to: every call is authenticated here, then either served
//! as plain Arrow Flight or handed to the Flight SQL service.
//!
//! Plain Flight, for clients that do not speak Flight SQL:
//! * `GetFlightInfo` / `GetSchema` with a path descriptor `["Dataset"]`, or a command
//!   descriptor holding SQL as UTF-8 text;
//! * `DoGet` with the ticket such a FlightInfo gives, or a ticket of our own making: JSON
//!   (`{"dataset": "Orders"}`, `{"query": "SELECT …"}`), a dataset's name, or SQL;
//! * `ListFlights`: one FlightInfo per dataset.
//!
//! A descriptor command or ticket that decodes as a Flight SQL message (a protobuf `Any`
//! whose type is in `arrow.flight.protocol.sql`) goes to [`SqlService`].

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::Any;
use arrow_flight::{
    Action, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest,
    HandshakeResponse, PollInfo, SchemaResult, Ticket,
};
use futures::Stream;
use prost::Message;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};

use super::auth::Authenticator;
use super::service::SqlService;

type Boxed<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The prefix of Flight SQL messages' type URLs.
const FLIGHT_SQL_TYPE_PREFIX: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

/// Whether `bytes` are a Flight SQL command or ticket.
fn is_flight_sql(bytes: &[u8]) -> bool {
    Any::decode(bytes).is_ok_and(|any| any.type_url.starts_with(FLIGHT_SQL_TYPE_PREFIX))
}

/// Auth, then plain Flight or Flight SQL.
#[derive(Debug, Clone)]
pub struct FlightGate {
    auth: Arc<Authenticator>,
    sql: Arc<SqlService>,
}

impl FlightGate {
    /// A gate in front of `sql`.
    pub fn new(auth: Arc<Authenticator>, sql: Arc<SqlService>) -> Self {
        FlightGate { auth, sql }
    }

    fn admit<T>(&self, request: &mut Request<T>) -> Result<(), Status> {
        let caller = self.auth.check(request.metadata())?;
        request.extensions_mut().insert(caller);
        Ok(())
    }
}

#[tonic::async_trait]
impl FlightService for FlightGate {
    type HandshakeStream = Boxed<HandshakeResponse>;
    type ListFlightsStream = Boxed<FlightInfo>;
    type DoGetStream = Boxed<FlightData>;
    type DoPutStream = <SqlService as FlightService>::DoPutStream;
    type DoExchangeStream = <SqlService as FlightService>::DoExchangeStream;
    type DoActionStream = <SqlService as FlightService>::DoActionStream;
    type ListActionsStream = <SqlService as FlightService>::ListActionsStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        let (_caller, token) = self.auth.handshake(request.metadata())?;
        let payload = token.clone().unwrap_or_default().into_bytes();
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: payload.into(),
        };
        let mut response: Response<Self::HandshakeStream> =
            Response::new(Box::pin(futures::stream::iter([Ok(reply)])));
        if let Some(token) = token {
            let value = MetadataValue::try_from(format!("Bearer {token}"))
                .map_err(|_| Status::internal("the issued token is not a valid header value"))?;
            response.metadata_mut().insert("authorization", value);
        }
        Ok(response)
    }

    async fn list_flights(
        &self,
        mut request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.admit(&mut request)?;
        let mut infos = Vec::new();
        let mut names = self.sql.table_names();
        names.sort();
        for name in names {
            let descriptor = FlightDescriptor::new_path(vec![name]);
            infos.push(Ok(self.sql.plain_flight_info(descriptor).await?));
        }
        Ok(Response::new(Box::pin(futures::stream::iter(infos))))
    }

    async fn get_flight_info(
        &self,
        mut request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.admit(&mut request)?;
        if is_flight_sql(&request.get_ref().cmd) {
            return FlightService::get_flight_info(self.sql.as_ref(), request).await;
        }
        let info = self.sql.plain_flight_info(request.into_inner()).await?;
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        mut request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        self.admit(&mut request)?;
        FlightService::poll_flight_info(self.sql.as_ref(), request).await
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let info = self.get_flight_info(request).await?.into_inner();
        Ok(Response::new(SchemaResult {
            schema: info.schema,
        }))
    }

    async fn do_get(
        &self,
        mut request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        self.admit(&mut request)?;
        if is_flight_sql(&request.get_ref().ticket) {
            return FlightService::do_get(self.sql.as_ref(), request).await;
        }
        self.sql.plain_do_get(request).await
    }

    async fn do_put(
        &self,
        mut request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        self.admit(&mut request)?;
        FlightService::do_put(self.sql.as_ref(), request).await
    }

    async fn do_exchange(
        &self,
        mut request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.admit(&mut request)?;
        FlightService::do_exchange(self.sql.as_ref(), request).await
    }

    async fn do_action(
        &self,
        mut request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        self.admit(&mut request)?;
        FlightService::do_action(self.sql.as_ref(), request).await
    }

    async fn list_actions(
        &self,
        mut request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        self.admit(&mut request)?;
        FlightService::list_actions(self.sql.as_ref(), request).await
    }
}

#[cfg(test)]
mod tests {
    use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt};

    use super::*;

    #[test]
    fn flight_sql_messages_are_told_from_plain_tickets() {
        let cmd = CommandStatementQuery {
            query: "SELECT 1".into(),
            transaction_id: None,
        };
        assert!(is_flight_sql(&cmd.as_any().encode_to_vec()));
        for plain in [
            &b"SELECT 1"[..],
            br#"{"dataset":"Orders"}"#,
            b"Orders",
            b"",
            &[0xff, 0x00, 0x13],
        ] {
            assert!(!is_flight_sql(plain), "{plain:?}");
        }
    }
}
