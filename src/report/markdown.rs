//! Markdown reports (placeholder).
