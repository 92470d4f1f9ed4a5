//! flop-count
