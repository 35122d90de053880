"""The HTTP boundary: routes, wire shapes and the one error catalogue."""
