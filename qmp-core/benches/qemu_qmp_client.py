"""QEMU's own Python client (qemu.qmp) on the benchmark's QEMU, for comparison.

Usage: python3 qemu_qmp_client.py SOCKET SECONDS
Prints one JSON line: {"sequential": calls/s, "in_flight_64": calls/s}.
"""
import asyncio
import json
import sys
import time

from qemu.qmp import QMPClient


async def rate(client, secs, depth):
    start = time.monotonic()
    done = 0
    pending = set()
    for _ in range(depth):
        pending.add(asyncio.ensure_future(client.execute("query-status")))
    while pending:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for f in finished:
            f.result()
            done += 1
            if time.monotonic() - start < secs:
                pending.add(asyncio.ensure_future(client.execute("query-status")))
    return done / (time.monotonic() - start)


async def main(sock, secs):
    client = QMPClient("bench")
    await client.connect(sock)
    seq = await rate(client, secs, 1)
    deep = await rate(client, secs, 64)
    await client.disconnect()
    print(json.dumps({"sequential": seq, "in_flight_64": deep}))


asyncio.run(main(sys.argv[1], float(sys.argv[2])))
