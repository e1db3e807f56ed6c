//! capsim: a discrete-event simulator of AI datacenter capacity.
pub mod engine;
pub mod scenario;
