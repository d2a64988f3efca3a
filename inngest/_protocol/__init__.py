"""Wire formats shared by the SDK and the engine: the JSON value type, opcode and header
names, JCS canonical JSON, request signatures and step id hashes.

Nothing here imports the SDK or the engine.
"""
