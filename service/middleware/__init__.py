"""The HTTP layers around every endpoint, each a pure ASGI middleware (none buffers a stream)."""
