"""Typed calls between applications: each callee's surface is a Protocol here, implemented
in process by the callee's ingress class and over Serve by `remote(Protocol, handle)`.

Applications import these Protocols, never each other's packages (import-linter checks it).
"""
