use qemu_qmp::qmp::commands::QueryStatus;

async fn run(client: qemu_qmp::Client) -> qemu_qmp::Result<()> {
    let blocks: Vec<qemu_qmp::qmp::BlockInfo> = client.execute(QueryStatus).await?;
    drop(blocks);
    Ok(())
}

fn main() {
    drop(run);
}
