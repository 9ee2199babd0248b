use qmp::qmp::commands::QueryStatus;

async fn run(client: qmp::Client) -> qmp::Result<()> {
    let blocks: Vec<qmp::qmp::BlockInfo> = client.execute(QueryStatus).await?;
    drop(blocks);
    Ok(())
}

fn main() {
    drop(run);
}
