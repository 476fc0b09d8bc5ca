//! Front-end time over growing inputs: parsing and checking must be linear in the input size,
//! whatever its shape (line breaks inside parentheses were once quadratic: a 250 KB file took
//! about 150 s). Run: `cargo bench -p medisim-dsl --bench parse`; the time per byte should stay
//! flat from 16 KiB to 256 KiB for every shape.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use medisim_dsl::parser::parse_file;

const HEAD: &str =
    "kind = \"hospital_policy\"\nversion = \"medisim_dsl_v1\"\nname = \"t\"\n[admin_policy]\n";

/// A source of about `n` bytes of one shape.
fn shape(name: &str, n: usize) -> String {
    let body = match name {
        // One open parenthesis, then line breaks.
        "newlines_in_parens" => format!("alpha = ({}1)\n", "\n".repeat(n)),
        // Many short statements.
        "statements" => "alpha = 0.5 + I(wbar > 2)\n".repeat(n / 26),
        // One long line of tokens the lexer rejects.
        "bad_tokens" => format!("alpha = {}\n", "$ ".repeat(n / 2)),
        // Continuation lines, as the paper's listings print them.
        "continuations" => format!("alpha = 0\n{}", "    + 0.1 * wbar\n".repeat(n / 17)),
        _ => unreachable!(),
    };
    format!("{HEAD}{body}")
}

fn bench(c: &mut Criterion) {
    for name in [
        "newlines_in_parens",
        "statements",
        "bad_tokens",
        "continuations",
    ] {
        let mut g = c.benchmark_group(format!("parse_{name}"));
        g.sample_size(10);
        for kib in [16, 64, 240] {
            let src = shape(name, kib * 1024);
            g.throughput(Throughput::Bytes(src.len() as u64));
            g.bench_with_input(BenchmarkId::from_parameter(kib), &src, |b, s| {
                b.iter(|| parse_file(black_box(s)).1.len())
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
