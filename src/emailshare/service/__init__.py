"""Use cases: what a request asks for, in terms of the domain and the store."""
