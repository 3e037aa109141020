//! What a skeleton is generated with besides the object: the options of
//! the Builder and of `cargo bpf2rs gen`, read by the selection, the IR and
//! the emitter alike.

use std::path::PathBuf;

/// What the generator needs besides the object.
#[derive(Clone, Debug, Default)]
pub struct SkelOptions {
    /// Path of the object for `include_bytes!` (absolute, so the generated
    /// file works from OUT_DIR).
    pub object_path: PathBuf,
    /// Ring buffer maps whose records are a C type: (map, C type name).
    pub ringbuf_events: Vec<(String, String)>,
    /// Key and value types for maps that have only sizes (legacy `maps`
    /// definitions, key_size/value_size): (map, key C type, value C type).
    /// An empty name keeps the byte array.
    pub map_types: Vec<(String, String, String)>,
    /// Rust key and value types for any map, by path (`crate::Pair`):
    /// (map, key, value); an empty path keeps the generated type. Checked
    /// against the map's sizes when the skeleton compiles.
    pub rust_map_types: Vec<(String, String, String)>,
    /// Perf event arrays whose records are a C type: (map, C type name).
    pub perf_events: Vec<(String, String)>,
    /// Suffix the later of two same-named types with its BTF id.
    pub rename_duplicates: bool,
}
