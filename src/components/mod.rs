//! Pieces the pages share.

pub mod attachments;
pub mod badges;
pub mod frame;
pub mod not_found;
pub mod problem;
pub mod resolution;
pub mod ticket_form;
pub mod ticket_row;
pub mod time;
