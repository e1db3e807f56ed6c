//! Generic discrete-event engine (placeholder).
