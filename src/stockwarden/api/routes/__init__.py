"""The routers of the API, one module per resource; each route calls one use-case of ``services``."""
