"""hypercorn upstream for the data-plane tests (run as a script by upstreams.HypercornUpstream).

Answers every request with JSON {"server", "http_version" (scope["http_version"]: "1.1" or "2"), "scheme", "host"
(:authority / Host), "path", "method", "sni" (the last SNI this process saw, or null)} and appends each record to
--requests-file (one JSON object per line).
"""
import argparse
import asyncio
import json
import ssl

from hypercorn.asyncio import serve
from hypercorn.config import Config

LAST_SNI = {"value": None}


class _Config(Config):
    def create_ssl_context(self):
        ctx = super().create_ssl_context()

        def remember(sslobj, server_name, _ctx):
            LAST_SNI["value"] = server_name

        ctx.sni_callback = remember
        return ctx


def make_app(name, requests_file):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        while True:  # drain the body
            message = await receive()
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        record = {
            "server": name,
            "http_version": scope["http_version"],
            "scheme": scope["scheme"],
            "host": headers.get(":authority") or headers.get("host"),
            "path": path,
            "method": scope["method"],
            "sni": LAST_SNI["value"],
        }
        with open(requests_file, "a") as f:
            f.write(json.dumps(record) + "\n")
        body = json.dumps(record).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--requests-file", required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()
    config = _Config()
    config.bind = [args.bind]
    config.accesslog = "-"
    config.errorlog = "-"
    if args.certfile:
        config.certfile = args.certfile
        config.keyfile = args.keyfile
        config.alpn_protocols = ["h2", "http/1.1"]
    asyncio.run(serve(make_app(args.name, args.requests_file), config))


if __name__ == "__main__":
    main()
