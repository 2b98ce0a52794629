//! Everything that runs only on the server: configuration, storage, monday, auth, live updates.

pub mod board_setup;
pub mod cli;
pub mod config;
pub mod db;
pub mod health;
pub mod local_board;
pub mod monday;
pub mod startup;
pub mod state;
pub mod telemetry;
