fn main() {
    let src = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let s = qmp_codegen::load(&src).unwrap();
    let t1 = t.elapsed();
    let opts = qmp_codegen::rust::Options {
        docs: std::env::args().nth(2).is_none(),
        ..Default::default()
    };
    let toks = qmp_codegen::rust::generate_tokens(&s, &opts);
    let t2 = t.elapsed();
    let file: syn::File = syn::parse2(toks).unwrap();
    let t3 = t.elapsed();
    let out = prettyplease::unparse(&file);
    let t4 = t.elapsed();
    eprintln!(
        "load {:?} tokens {:?} syn {:?} pretty {:?} ({} bytes)",
        t1,
        t2 - t1,
        t3 - t2,
        t4 - t3,
        out.len()
    );
}
