//! Temporary timing harness (to be deleted): phases of `types::generate` on
//! vmlinux, and `dump DIR` writes fixtures with the layout table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bpf2rs::btf::Btf;
use bpf2rs::obj::ObjectSpec;
use bpf2rs_codegen::types::{self, Selection};
use bpf2rs_codegen::{emit, ir};

/// On-CPU time of the calling thread (immune to other processes' load).
fn cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(s.split_whitespace().next().unwrap().parse().unwrap())
}

/// CPU time of the whole process, all threads (10 ms ticks).
fn process_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("dump") {
        let dir = &args[2];
        let sel = Selection {
            layout_table: true,
            ..Selection::default()
        };
        for name in ["maps", "globals", "legacy", "layout", "programs"] {
            let spec = ObjectSpec::from_file(format!("tests/bpf/{name}.bpf.o")).unwrap();
            let btf = spec.btf.clone().unwrap();
            let roots = types::select(&btf, types::object_roots(&spec), &sel).unwrap();
            let g = types::generate(&btf, &roots, &sel).unwrap();
            std::fs::write(format!("{dir}/{name}.rs"), g.code).unwrap();
        }
        return;
    }
    let btf = Btf::from_sys_fs().unwrap();
    let sel = Selection {
        all: true,
        rename_duplicates: true,
        ..Default::default()
    };
    let mut total = Vec::new();
    let mut total_cpu = Vec::new();
    let mut ir_t = Vec::new();
    let mut emit_t = Vec::new();
    let mut fmt_t = Vec::new();
    let mut unparse_t = Vec::new();
    for _ in 0..5 {
        let c = process_cpu();
        let t = Instant::now();
        let roots = types::select(&btf, Vec::new(), &sel).unwrap();
        let g = types::generate(&btf, &roots, &sel).unwrap();
        total.push(t.elapsed());
        total_cpu.push(process_cpu() - c);
        std::hint::black_box(g.code.len());

        // The phases, single-threaded, in 256-item chunks as `format_module`.
        let t = cpu();
        let items = ir::build(&btf, &roots, true).unwrap();
        ir_t.push(cpu() - t);
        let cx = emit::Cx::new(&items);
        let list: Vec<&ir::Item> = items.items.values().collect();
        let mut e = Duration::ZERO;
        let mut f = Duration::ZERO;
        let mut u = Duration::ZERO;
        for chunk in list.chunks(256) {
            let t = cpu();
            let trees: Vec<Vec<syn::Item>> = chunk
                .iter()
                .map(|it| emit::items(&cx, std::iter::once(*it)))
                .collect();
            e += cpu() - t;
            let t = cpu();
            let files: Vec<syn::File> = trees
                .into_iter()
                .map(|items| syn::File {
                    shebang: None,
                    attrs: Vec::new(),
                    items,
                })
                .collect();
            for file in &files {
                std::hint::black_box(prettyplease::unparse(file).len());
            }
            u += cpu() - t;
            let t = cpu();
            drop(files);
            f += cpu() - t;
        }
        emit_t.push(e);
        fmt_t.push(f);
        unparse_t.push(u);
    }
    println!(
        "generate median {:?} (runs {:?})",
        median(total.clone()),
        total
    );
    println!("generate process CPU median {:?}", median(total_cpu));
    println!(
        "single-thread phases (thread CPU time): ir {:?}, emit {:?}, drop {:?}, unparse {:?}",
        median(ir_t),
        median(emit_t),
        median(fmt_t),
        median(unparse_t)
    );
}
