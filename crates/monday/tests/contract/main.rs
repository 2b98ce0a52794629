//! The client's contract with monday, in one test binary: every document it sends is valid
//! against monday's schema, and every answer monday is known to send (the fixtures in
//! `tests/fixtures/`, each naming its source) is read the way the README's table says.

mod fixtures;
mod schema;
