fn main() {
    let mut args = std::env::args().skip(1);
    let (src, out) = (args.next().unwrap(), args.next().unwrap());
    let t = std::time::Instant::now();
    let s = qmp_codegen::load(&src).unwrap_or_else(|e| panic!("{e}"));
    let t1 = t.elapsed();
    let code = qmp_codegen::rust::generate(&s, &Default::default());
    eprintln!(
        "{src}: load {:?}, generate {:?}, {} bytes",
        t1,
        t.elapsed() - t1,
        code.len()
    );
    std::fs::write(out, code).unwrap();
}
