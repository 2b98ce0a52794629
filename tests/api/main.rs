//! Integration tests, all in one binary so they link once. Each test spawns its own portal on
//! 127.0.0.1:0 with its own data directory, and talks to it over real HTTP.

mod architecture;
mod attachments;
mod attacks;
mod auth;
mod board_setup;
mod cluster;
mod deploy;
mod foundation;
mod fuzz;
mod helpers;
mod isolation;
mod languages;
mod limits;
mod live;
mod local_board;
mod memory;
mod monday_client;
mod notifications;
mod openapi;
mod organisations;
mod pages;
mod proxy;
mod resilience;
mod resolution;
mod threads;
