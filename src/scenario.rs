//! Scenario loading.
pub mod yaml;
