"""A TCP proxy on 127.0.0.1 that adds a fixed delay each way: a distant server, on loopback.

    python bench/delay_proxy.py LISTEN_PORT TARGET_PORT ROUND_TRIP_MS

Every chunk read from either side is written to the other half the round trip later, in order,
so a request and its reply take the whole round trip more, as across a network (bandwidth is
not limited). Used by ``bench/dispatch.py --rtt-ms``; stopped with SIGTERM.
"""

import asyncio
import socket
import sys


async def pump(reader, writer, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def deliver():
        while (item := await queue.get()) is not None:
            due, chunk = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            await writer.drain()
        writer.close()

    delivering = asyncio.create_task(deliver())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    finally:
        queue.put_nowait(None)
        await delivering


async def main(listen: int, target: int, delay: float) -> None:
    async def connected(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        for writer in (client_writer, server_writer):
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.gather(
            pump(client_reader, server_writer, delay),
            pump(server_reader, client_writer, delay),
            return_exceptions=True,
        )

    server = await asyncio.start_server(connected, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen_port, target_port, round_trip_ms = sys.argv[1:4]
    asyncio.run(main(int(listen_port), int(target_port), float(round_trip_ms) / 2000))
