//! The write API: one router per resource, merged in [`router`]. Each
//! handler parses its request and hands the write to [`crate::write`].

mod me;
pub mod openapi;
mod projects;
mod schema;
mod threads;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(projects::router())
        .merge(threads::router())
        .merge(me::router())
        .route("/openapi.json", axum::routing::get(openapi::serve))
}
