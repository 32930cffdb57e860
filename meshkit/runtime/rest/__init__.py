"""The REST/JSON baseline's shared runtime: server boundary, host and client.

The baseline serves the same domain objects as the gRPC servicers over HTTP/1.1 and
JSON, tuned the way a careful REST team would (uvicorn + httptools on uvloop, orjson,
pooled aiohttp clients), so the load test compares transports, not effort.
"""
