//! Policy lint (placeholder).
