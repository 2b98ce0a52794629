//! Everything that runs only on the server: configuration, storage, monday, auth, live updates.

pub mod auth;
pub mod board_setup;
pub mod cli;
pub mod config;
pub mod db;
pub mod guard;
pub mod health;
pub mod live;
pub mod local_board;
pub mod mail;
pub mod monday;
pub mod rest;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tickets;
pub mod webhooks;
