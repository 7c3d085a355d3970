//! The one integration-test binary: the whole application over real HTTP, on SQLite and
//! (with SIGAP_TEST_DATABASE_URL) on PostgreSQL, a fresh database per test.

mod announcements;
mod api;
mod audit;
mod auth;
mod backup;
mod changes;
mod changes_ui;
mod cli;
mod cmdb;
mod csv_io;
mod event_windows;
mod events;
mod helpers;
mod import;
mod incidents;
mod jobs;
mod knowledge;
mod knowledge_ui;
mod kpis;
mod locations;
mod mail;
mod mail_api;
mod mail_ui;
mod nodes;
mod ops;
mod portfolio;
mod problems;
mod replicas;
mod report_sources;
mod reports;
mod requests;
mod sla;
mod ui;
mod upgrade;
