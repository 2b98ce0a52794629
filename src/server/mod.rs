//! Everything that runs only on the server. Dependencies point one way: the HTTP layer
//! ([`http`], [`devtools`]) calls the services ([`auth`], [`tickets`], [`board_events`],
//! [`live_hub`], [`mail`], [`notify`], [`demo`]), which reach monday through [`board`] and the `monday`
//! crate. The start-up module at the crate root wires them together from [`config`].

pub mod auth;
pub mod board;
pub mod board_events;
pub mod cluster;
pub mod config;
pub mod db;
pub mod demo;
pub mod devtools;
pub mod html;
pub mod http;
pub mod live_hub;
pub mod mail;
pub mod memory;
pub mod notify;
pub mod telemetry;
pub mod tickets;
