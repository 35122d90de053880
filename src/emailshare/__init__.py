"""emailshare: a faithful, stateful stand-in for Zoho CRM's email-sharing API."""

__version__ = "0.1.0"
