//! A user's binary: several generated skeletons included, one item of each
//! used. It is built under `deny(warnings)` and clippy's `all` and
//! `pedantic` groups, so any warning the generated code causes in a crate
//! that uses only part of it fails the build.

#![deny(warnings)]
#![deny(clippy::all, clippy::pedantic)]

mod typed {
    include!(concat!(env!("OUT_DIR"), "/typed.skel.rs"));
}
mod kitchen {
    include!(concat!(env!("OUT_DIR"), "/kitchen.skel.rs"));
}
mod maps {
    include!(concat!(env!("OUT_DIR"), "/maps.skel.rs"));
}
mod tools {
    include!(concat!(env!("OUT_DIR"), "/tools.skel.rs"));
}
mod usdt {
    include!(concat!(env!("OUT_DIR"), "/usdt.skel.rs"));
}
mod attach {
    include!(concat!(env!("OUT_DIR"), "/attach.skel.rs"));
}
mod globals {
    include!(concat!(env!("OUT_DIR"), "/globals.skel.rs"));
}
mod legacy {
    include!(concat!(env!("OUT_DIR"), "/legacy.skel.rs"));
}
mod user_sized {
    include!(concat!(env!("OUT_DIR"), "/user_sized.skel.rs"));
}
mod struct_ops {
    include!(concat!(env!("OUT_DIR"), "/struct_ops.skel.rs"));
}

/// The value of the `pairs` map of `typed.bpf.o`, written by hand.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bpf2rs::Pod)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut open = typed::TypedSkel::open()?;
    // The main thread's id is the process id.
    open.rodata_mut().target_tid = std::process::id();
    let mut skel = open.load()?;
    skel.attach()?;
    // getpid() from the main thread runs the program once.
    std::hint::black_box(std::process::id());
    skel.maps
        .pairs
        .insert(&1, &Pair { a: 2, b: 3 }, bpf2rs::map::MapFlags::ANY)?;
    println!("typed: pairs[1] = {:?}", skel.maps.pairs.get(&1)?);
    println!("typed: packets_seen = {}", skel.bss()?.packets_seen);

    // One item of every other skeleton: its object opens.
    let names = [
        kitchen::KitchenSkel::open()?
            .object_mut()
            .spec()
            .name
            .clone(),
        maps::MapsSkel::open()?.object_mut().spec().name.clone(),
        tools::ToolsSkel::open()?.object_mut().spec().name.clone(),
        usdt::UsdtSkel::open()?.object_mut().spec().name.clone(),
        attach::AttachSkel::open()?.object_mut().spec().name.clone(),
        globals::GlobalsSkel::open()?
            .object_mut()
            .spec()
            .name
            .clone(),
        legacy::LegacySkel::open()?.object_mut().spec().name.clone(),
        user_sized::UserSizedSkel::open()?
            .object_mut()
            .spec()
            .name
            .clone(),
        struct_ops::StructOpsSkel::open()?
            .struct_ops
            .plain_ops
            .value
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| char::from(c))
            .collect(),
    ];
    println!("opened: {}", names.join(" "));
    Ok(())
}
