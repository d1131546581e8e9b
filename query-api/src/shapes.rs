//! Every query shape the listings and details run, with the base name of its
//! collection: what the explain test checks for index use.

use crate::{discovery, listing::Query, me, moderation, routes};

pub fn all() -> Vec<(String, &'static str, Query)> {
    let mut shapes = routes::query_shapes();
    shapes.extend(me::query_shapes());
    shapes.extend(moderation::query_shapes());
    shapes.extend(discovery::query_shapes());
    shapes
}
