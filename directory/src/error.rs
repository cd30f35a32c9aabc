//! Why a request was refused: one [`DirectoryError`] per answer, each with a stable `code`
//! (the JSON error's `code` field, what clients match on) and an HTTP status.

use hyper::StatusCode;

/// A refused request. The `Display` text is for people; [`DirectoryError::code`] is for code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The room name is not 1..=32 characters of `[A-Za-z0-9_-]` (the servers' rule).
    #[error("bad room name: 1..=32 characters of [A-Za-z0-9_-]")]
    BadRoomName,
    /// The player id is empty, longer than [`crate::MAX_PLAYER_LEN`] bytes or holds control
    /// characters.
    #[error("bad player id: 1..=64 bytes, no control characters")]
    BadPlayer,
    /// No live server hosts this game.
    #[error("no live server hosts game `{0}`")]
    UnknownGame(String),
    /// Every live server that hosts the game is draining or full.
    #[error("no server has room for a new room")]
    NoCapacity,
    /// Redis did not answer (down, or slower than the call timeout).
    #[error("the directory's Redis is unavailable")]
    RedisUnavailable,
    /// `POST /join` without the configured API key.
    #[error("missing or wrong API key")]
    Unauthorized,
    /// The body is not the JSON object expected, or was not received in time.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The body is larger than [`crate::http::MAX_BODY`].
    #[error("request body too large")]
    BodyTooLarge,
    /// No such route.
    #[error("not found")]
    NotFound,
    /// A known route with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A token could not be signed (a configuration error; logged).
    #[error("internal error")]
    Internal,
}

impl DirectoryError {
    /// The stable machine-readable code (also the `outcome` label of the join metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRoomName => "bad_room_name",
            Self::BadPlayer => "bad_player",
            Self::UnknownGame(_) => "unknown_game",
            Self::NoCapacity => "no_capacity",
            Self::RedisUnavailable => "redis_unavailable",
            Self::Unauthorized => "unauthorized",
            Self::BadRequest(_) => "bad_request",
            Self::BodyTooLarge => "body_too_large",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRoomName | Self::BadPlayer | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnknownGame(_) | Self::NotFound => StatusCode::NOT_FOUND,
            Self::NoCapacity | Self::RedisUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body: `{"error": "...", "code": "..."}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.to_string(), "code": self.code() }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_the_design() {
        let cases = [
            (DirectoryError::BadRoomName, 400, "bad_room_name"),
            (DirectoryError::BadPlayer, 400, "bad_player"),
            (DirectoryError::UnknownGame("x".into()), 404, "unknown_game"),
            (DirectoryError::NoCapacity, 503, "no_capacity"),
            (DirectoryError::RedisUnavailable, 503, "redis_unavailable"),
            (DirectoryError::Unauthorized, 401, "unauthorized"),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status().as_u16(), e.code()), (status, code));
            let body: serde_json::Value = serde_json::from_str(&e.body()).expect("json");
            assert_eq!(body["code"], code);
        }
    }
}
