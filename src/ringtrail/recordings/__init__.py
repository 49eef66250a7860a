"""Call recordings: where the audio is kept (`storage`, `factory`), how it is downloaded from
a provider (`fetch`, `resolvers`), the rules for retries and keys (`policy`), the signed links
that serve it (`links`) and the use cases the API and jobs share (`library`).

Details: docs/recordings.md.
"""
