//! One module per page.

pub mod colleagues;
pub mod dashboard;
pub mod login;
pub mod new_ticket;
pub mod settings;
pub mod ticket;
