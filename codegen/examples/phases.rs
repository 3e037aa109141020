fn main() {
    let btf = bpf2rs::btf::Btf::from_sys_fs().unwrap();
    let sel = bpf2rs_codegen::types::Selection { all: true, rename_duplicates: true, ..Default::default() };
    let t = std::time::Instant::now();
    let roots = bpf2rs_codegen::types::select(&btf, vec![], &sel).unwrap();
    let items = bpf2rs_codegen::ir::build(&btf, &roots, true).unwrap();
    eprintln!("ir {:?}", t.elapsed());
    let cx = bpf2rs_codegen::emit::Cx::new(&items);
    let t = std::time::Instant::now();
    let toks = bpf2rs_codegen::emit::items(&cx, items.items.values());
    eprintln!("emit {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let f: syn::File = syn::parse2(toks).unwrap();
    eprintln!("parse {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let s = prettyplease::unparse(&f);
    eprintln!("unparse {:?} {}", t.elapsed(), s.len());
    let t = std::time::Instant::now();
    let g = bpf2rs_codegen::types::generate(&btf, &roots, &sel).unwrap();
    eprintln!("total generate {:?} {} bytes", t.elapsed(), g.code.len());
}
