"""emailshare's pytest plugin (entry point ``pytest11``).

SCAFFOLD (issue 7): fixtures are added by the plugin work.
"""
