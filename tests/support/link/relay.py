"""The hospital side's door to the signaling server, run in the hospital namespace:

    ip netns exec <hospital> python -m tests.support.link.relay --host H --port P --unix PATH

daphne runs in the host's namespace (it needs the host's PostgreSQL and Redis) and listens on
a Unix socket too, which every namespace can reach; this relay listens on the hospital's
address, so the station's socket and HTTP requests cross the emulated link like its media.
"""

import argparse
import asyncio


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main(args: argparse.Namespace) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(args.unix)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
        )

    server = await asyncio.start_server(handle, args.host, args.port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--unix", required=True)
    asyncio.run(main(parser.parse_args()))
