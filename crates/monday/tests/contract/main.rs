//! The client's contract with monday, in one test binary: every document it sends is valid
//! against monday's schema, every answer monday is known to send (the fixtures in
//! `tests/fixtures/`, each naming its source) is read the way the README's table says, and the
//! local board answers and fires webhooks in the same shapes as those fixtures.

mod files;
mod fixtures;
mod local_board;
mod schema;
