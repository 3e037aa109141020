//! The object BTF the reader fixed (DATASEC sizes and offsets) is accepted
//! by the kernel's BTF verifier once written back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: tests

use bpf2rs::obj::ObjectSpec;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bpf")
        .join(name)
}

#[test]
fn fixed_object_btf_loads_into_the_kernel() {
    for name in [
        "maps.bpf.o",
        "globals.bpf.o",
        "layout.bpf.o",
        "programs.bpf.o",
    ] {
        let spec = ObjectSpec::from_file(fixture(name)).unwrap();
        let btf = spec.btf.as_ref().unwrap();
        let bytes = btf.to_bytes().unwrap();
        // Round trip: what we write reads back as the same model.
        let again = bpf2rs::btf::Btf::parse(&bytes).unwrap();
        assert_eq!(again.len(), btf.len(), "{name}");
        for (id, ty) in btf.iter() {
            assert_eq!(again.type_by_id(id).unwrap(), ty, "{name}: type {id}");
        }
        let mut log = vec![0u8; 1 << 16];
        let sanitized = btf.sanitized_for_kernel().unwrap().to_bytes().unwrap();
        match bpf2rs::sys::btf_load(&sanitized, &mut log) {
            Ok(_fd) => {}
            Err(e) => panic!("{name}: {e}\n{}", bpf2rs::ctypes::c_str_lossy(&log)),
        }
    }
}
