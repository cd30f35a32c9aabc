//! The errors the gateway answers, as grpc-gateway renders a gRPC status.
//!
//! The real sidecar (`pkg/sdkserver/sdkserver.go`) returns most refusals (unknown counter or
//! list, count out of range, list full, duplicate or missing value) as plain Go errors, which
//! gRPC turns into `UNKNOWN` (2) and grpc-gateway into HTTP 500; the message text carries the
//! kind ("counter not found: rooms", "out of range. ..."). Only label and annotation checks and
//! undecodable bodies are `INVALID_ARGUMENT` (3, HTTP 400). Routing errors come from the
//! gateway's mux: `NOT_FOUND` (5, 404, "Not Found") and, for a known path with another method,
//! `UNIMPLEMENTED` (12, HTTP 501, "Method Not Allowed").

use serde_json::{Value, json};

/// The gRPC status codes the gateway can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrpcCode {
    /// A plain error from the SDK server (code 2, HTTP 500).
    Unknown,
    /// A malformed body, label or annotation (code 3, HTTP 400).
    InvalidArgument,
    /// No route for the path (code 5, HTTP 404).
    NotFound,
    /// A known path with another method (code 12, HTTP 501), or a route the mock lacks.
    Unimplemented,
}

impl GrpcCode {
    /// The numeric code in the JSON body.
    pub fn number(self) -> u8 {
        match self {
            Self::Unknown => 2,
            Self::InvalidArgument => 3,
            Self::NotFound => 5,
            Self::Unimplemented => 12,
        }
    }

    /// The HTTP status grpc-gateway maps the code to (`runtime.HTTPStatusFromCode`).
    pub fn http_status(self) -> u16 {
        match self {
            Self::Unknown => 500,
            Self::InvalidArgument => 400,
            Self::NotFound => 404,
            Self::Unimplemented => 501,
        }
    }
}

/// A refusal: the code and the message the real sidecar would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct GatewayError {
    /// The gRPC status code.
    pub code: GrpcCode,
    /// The message, worded as the real sidecar words it.
    pub message: String,
}

impl GatewayError {
    /// A plain Go error from the SDK server.
    pub(crate) fn unknown(message: impl Into<String>) -> Self {
        Self { code: GrpcCode::Unknown, message: message.into() }
    }

    /// A body, label or annotation that does not parse or validate.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self { code: GrpcCode::InvalidArgument, message: message.into() }
    }

    /// The mux found no route for the path.
    pub(crate) fn no_route() -> Self {
        Self { code: GrpcCode::NotFound, message: "Not Found".into() }
    }

    /// The mux knows the path, with another method.
    pub(crate) fn wrong_method() -> Self {
        Self { code: GrpcCode::Unimplemented, message: "Method Not Allowed".into() }
    }

    /// The body grpc-gateway writes: `{"code":…,"message":…,"details":[]}`.
    pub fn body(&self) -> Value {
        json!({ "code": self.code.number(), "message": self.message, "details": [] })
    }
}
