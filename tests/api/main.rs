//! API integration tests: each test starts the real service on 127.0.0.1 port 0 with a fresh
//! temporary data directory (real SQLite file, real HTTP), and talks to it with reqwest.

mod auth;
mod browser;
mod check;
mod errors;
mod face;
mod helpers;
mod models;
mod ocr_accuracy;
mod operations;
mod orders;
mod pages;
mod postgres;
mod process;
mod registry;
mod review;
mod s3;
mod uploads;
