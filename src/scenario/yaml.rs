//! YAML node tree.
