"""Threads or asyncio for many SMTP connections in one worker: the same SMTP exchange as dispatch
(MAIL, RCPT and DATA pipelined, then the data and the final dot, one message at a time per
connection) over N connections, once with a thread per connection (what dispatch does) and once
with one asyncio task per connection, to a distant mail server.

    .venv/bin/python bench/connections_model.py [--rtt-ms 40] [--connections 8 32]
        [--messages 3000]

Only the sending is compared (no database, no Celery): the part where the two models differ.
The mail server is Postfix's smtp-sink behind ``bench/delay_proxy.py``. Prints messages per
second, the ideal (connections / (2 * round trip)) and this process's CPU time per message; it
asserts nothing.
"""

import argparse
import asyncio
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch import SMTP_SINK, Processes, free_port, smtp_answers, wait_for

ROOT = Path(__file__).resolve().parent.parent
SENDER = "weekly@thebell.example"
# About the size of the sample issue's message, dot-stuffed, ending in CRLF.
MESSAGE = (
    b"Subject: The Kremlin view\r\nFrom: The Bell <weekly@thebell.example>\r\n\r\n"
    + b"A line of the issue, long enough to look like one of its paragraphs.\r\n" * 420
)


def threads_run(port: int, connections: int, messages: int) -> None:
    """One thread per connection, each sending its share as SmtpTransport.send does."""
    shares = [messages // connections + (n < messages % connections) for n in range(connections)]

    def lane(count: int) -> None:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.ehlo()
        for n in range(count):
            envelope = f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<r{n}@mail.example>\r\nDATA\r\n"
            smtp.send(envelope)
            replies = [smtp.getreply() for _ in range(3)]
            assert replies[2][0] == 354, replies
            smtp.send(MESSAGE)
            smtp.send(b".\r\n")
            assert smtp.getreply()[0] == 250
        smtp.quit()

    threads = [threading.Thread(target=lane, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


async def _async_lane(port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def reply() -> int:
        while True:
            line = await reader.readline()
            if line[3:4] != b"-":
                return int(line[:3])

    await reply()
    writer.write(b"EHLO bench\r\n")
    await reply()
    for n in range(count):
        writer.write(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<r{n}@mail.example>\r\nDATA\r\n".encode())
        codes = [await reply() for _ in range(3)]
        assert codes[2] == 354, codes
        writer.write(MESSAGE)
        writer.write(b".\r\n")
        await writer.drain()
        assert await reply() == 250
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()


def asyncio_run(port: int, connections: int, messages: int) -> None:
    shares = [messages // connections + (n < messages % connections) for n in range(connections)]

    async def main():
        await asyncio.gather(*(_async_lane(port, share) for share in shares))

    asyncio.run(main())


def measure(model, port: int, connections: int, messages: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    model(port, connections, messages)
    return messages / (time.perf_counter() - wall), (time.process_time() - cpu) / messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=40)
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    if not Path(SMTP_SINK).exists():
        sys.exit(f"{SMTP_SINK} not found (apt-get install postfix provides it)")
    processes = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="bellcms-bench-connections-"))
    try:
        sink = free_port()
        user = ["-u", "nobody"] if __import__("os").geteuid() == 0 else []
        processes.start([SMTP_SINK, *user, f"127.0.0.1:{sink}", "1000"], log=tmp / "sink.log")
        wait_for(lambda: smtp_answers(sink), timeout=10, what="smtp-sink")
        port = free_port()
        proxy = [str(ROOT / "bench" / "delay_proxy.py"), str(port), str(sink), str(args.rtt_ms)]
        processes.start([sys.executable, *proxy], log=tmp / "proxy.log")
        wait_for(lambda: smtp_answers(port), timeout=10, what="the delaying proxy")
        print(
            f"{args.messages:,} messages of {len(MESSAGE) / 1024:.1f} KiB to smtp-sink "
            f"{args.rtt_ms:g} ms away (round trip), this process's CPU per message"
        )
        header = (
            f"{'connections':>11} {'model':>8} {'msg/s':>7} {'ideal':>7} {'ratio':>6} "
            f"{'CPU µs/msg':>11}"
        )
        print(header)
        print("-" * len(header))
        for connections in args.connections:
            ideal = connections / (2 * args.rtt_ms / 1000)
            for name, model in (("threads", threads_run), ("asyncio", asyncio_run)):
                rate, cpu = measure(model, port, connections, args.messages)
                print(
                    f"{connections:>11} {name:>8} {rate:>7,.0f} {ideal:>7,.0f} "
                    f"{rate / ideal:>6.2f} {cpu * 1e6:>11,.0f}"
                )
    finally:
        processes.stop_all()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


if __name__ == "__main__":
    main()
