//! placeholder until the object reader lands
