//! Typed map handles, one file per kernel map family.
//!
//! In: an open map (an fd from the loader, a pin, or created here). Out:
//! handles whose operations take `&self`, are `Send + Sync` (the kernel
//! serialises), and move keys and values as [`Pod`](crate::Pod) types without
//! allocating per element.

mod error;
mod untyped;

pub use error::MapError;
pub use untyped::{unpin, Map, MapFlags, MapInfo};
