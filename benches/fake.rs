//! `cargo bench --features testing --bench fake`: how many commands per second the
//! fake QEMU answers (target: 100 000, so that test suites built on it stay fast). The
//! client runs on one core, the fake on its own thread.

use futures_util::stream::{FuturesUnordered, StreamExt};
use qemu_qmp::testing::FakeQemu;
use qemu_qmp::{commands, Client};
use std::time::{Duration, Instant};

const DEPTH: usize = 64;

fn main() {
    let secs: f64 = std::env::var("QMP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let fake = FakeQemu::start().expect("fake");
        let client = Client::new("bench");
        client
            .connect(fake.path().expect("socket"))
            .await
            .expect("connect");
        let run = |deep: bool| {
            let client = &client;
            async move {
                let end = Instant::now() + Duration::from_secs_f64(secs);
                let mut n = 0u64;
                let t = Instant::now();
                if deep {
                    let mut inflight = FuturesUnordered::new();
                    while Instant::now() < end {
                        while inflight.len() < DEPTH {
                            inflight.push(client.execute(commands::QueryStatus));
                        }
                        if let Some(r) = inflight.next().await {
                            r.expect("query-status");
                            n += 1;
                        }
                    }
                    while let Some(r) = inflight.next().await {
                        r.expect("query-status");
                        n += 1;
                    }
                } else {
                    while Instant::now() < end {
                        client
                            .execute(commands::QueryStatus)
                            .await
                            .expect("query-status");
                        n += 1;
                    }
                }
                n as f64 / t.elapsed().as_secs_f64()
            }
        };
        let seq = run(false).await;
        let deep = run(true).await;
        println!("fake QEMU, typed query-status:");
        println!("  sequential          {seq:>9.0} commands/s");
        let verdict = if deep >= 100_000.0 { "met" } else { "NOT met" };
        println!(
            "  {DEPTH} in flight        {deep:>9.0} commands/s   (target >= 100000: {verdict})"
        );
        client.disconnect().await.expect("disconnect");
    });
}
