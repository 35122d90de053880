"""The domain: Zoho's nouns and rules, with no HTTP, SQL or JSON in them."""
