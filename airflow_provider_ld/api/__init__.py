"""
Transport-free core of the API client: request building, response parsing, error mapping and retry rules.

The sync hook (requests) and the async trigger (httpx) both use it, so they cannot drift apart.
"""
